"""New accounts get their welcome credits once; the demo account can be created again safely."""

from allauth.account.models import EmailAddress
from django.contrib.auth import authenticate
from django.core.management import call_command

from accounts.models import User
from accounts.plans import DEMO_CREDITS, PLANS
from credits.actions import get_balance, grant_signup_credits, ledger_is_consistent
from credits.models import CreditEntry


def test_a_new_user_gets_exactly_five_welcome_credits_once(db):
    user = User.objects.create_user("New@Example.com", "a-long-password-1")
    assert user.email == "new@example.com"
    assert PLANS["free"].monthly_credits == 5
    assert get_balance(user) == 5
    grants = CreditEntry.objects.filter(user=user)
    assert [(e.kind, e.delta, e.reference) for e in grants] == [
        ("grant", 5, f"signup:{user.public_id}")
    ]

    user.name = "Renamed"
    user.save()
    grant_signup_credits(user)
    assert grants.count() == 1
    assert get_balance(user) == 5
    assert ledger_is_consistent(user)


def test_a_superuser_gets_the_welcome_credits_too(db):
    admin = User.objects.create_superuser("root@example.com", "a-long-password-1")
    assert admin.is_staff and admin.is_superuser
    assert get_balance(admin) == 5


def test_loading_raw_fixtures_grants_nothing(db):
    from django.core import serializers

    user = User(email="raw@example.com")
    user.set_password("x-long-password-1")
    data = serializers.serialize("json", [user], fields=["email", "password"])
    for obj in serializers.deserialize("json", data):
        obj.save()  # raw save, as loaddata does
    loaded = User.objects.get(email="raw@example.com")
    assert not CreditEntry.objects.filter(user=loaded).exists()


def test_create_demo_account_is_idempotent(db, settings):
    settings.DEMO_EMAIL = "Demo@Example.com"
    settings.DEMO_PASSWORD = "demo-password-42"

    call_command("create_demo_account", stdout=open("/dev/null", "w"))  # noqa: SIM115
    user = User.objects.get(email="demo@example.com")
    user.set_password("changed-by-someone")
    user.save()
    call_command("create_demo_account", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert User.objects.filter(email__iexact="demo@example.com").count() == 1
    user = User.objects.get(email="demo@example.com")
    demo_grants = CreditEntry.objects.filter(user=user, reference=f"demo:{user.public_id}")
    welcome = PLANS["free"].monthly_credits
    assert [(e.kind, e.delta) for e in demo_grants] == [("grant", DEMO_CREDITS - welcome)]
    assert DEMO_CREDITS == 1000
    # The welcome grant of every new account, topped up to the demo's 1,000, each once.
    assert get_balance(user) == 1000
    assert CreditEntry.objects.filter(user=user).count() == 2
    assert ledger_is_consistent(user)

    address = EmailAddress.objects.get(user=user)
    assert (address.email, address.verified, address.primary) == ("demo@example.com", True, True)
    # The command resets the password to the configured one.
    assert authenticate(email="demo@example.com", password="demo-password-42") == user
    assert authenticate(email="demo@example.com", password="changed-by-someone") is None

