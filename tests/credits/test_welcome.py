"""The welcome credits come once per address, not once per account: signing up again after a
deletion grants nothing. What is kept is a keyed digest of the address (credits.addresses)."""

import hashlib
import importlib

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps as django_apps
from django.urls import reverse

from accounts.models import User
from credits.actions import get_balance
from credits.addresses import normalise
from credits.models import CreditEntry, WelcomedAddress
from privacy.data import delete_account
from tests.factories import make_user

WELCOME = 5


def sign_up(client, email):
    client.post(reverse("account_signup"), {"email": email, "password1": "a-long-pass-phrase-42",
                                            "password2": "a-long-pass-phrase-42"})
    client.logout()
    return User.objects.get(email=email.lower())


def welcome_entries():
    return CreditEntry.objects.filter(reference__startswith="signup:").count()


def test_deleting_and_signing_up_again_grants_nothing(client, db):
    first = sign_up(client, "carol@example.com")
    assert get_balance(first) == WELCOME
    delete_account(first)
    assert not User.objects.filter(email="carol@example.com").exists()
    assert not CreditEntry.objects.exists()  # the deletion took the ledger too

    again = sign_up(client, "carol@example.com")
    assert get_balance(again) == 0
    assert welcome_entries() == 0
    assert WelcomedAddress.objects.count() == 1


@pytest.mark.parametrize("other", ["Carol@Example.COM", "carol+again@example.com",
                                   " carol+x+y@example.com "])
def test_the_same_address_written_another_way_is_the_same_address(db, other):
    carol = make_user("carol@example.com")
    assert get_balance(carol) == WELCOME
    carol.delete()
    assert get_balance(make_user(other.strip().lower())) == 0


def test_gmail_dots_are_the_same_address(db):
    assert normalise("A.Lice+spam@googlemail.com") == normalise("alice@gmail.com")
    assert normalise("a.lice@example.com") != normalise("alice@example.com")  # elsewhere they count
    make_user("a.l.i.c.e@gmail.com")
    assert get_balance(make_user("alice@gmail.com")) == 0


def test_another_address_is_welcome(db):
    make_user("carol@example.com")
    assert get_balance(make_user("dave@example.com")) == WELCOME
    assert WelcomedAddress.objects.count() == 2


def test_the_digest_names_no_one(db):
    make_user("carol@example.com")
    (row,) = WelcomedAddress.objects.all()
    plain = hashlib.sha256(b"carol@example.com").hexdigest()
    assert "carol" not in row.digest and row.digest != plain and len(row.digest) == 64


def test_a_rotated_key_still_remembers_with_the_old_one_as_fallback(db, settings):
    make_user("carol@example.com").delete()
    old = settings.SECRET_KEY
    settings.SECRET_KEY = "n" * 50
    settings.SECRET_KEY_FALLBACKS = [old]
    assert get_balance(make_user("carol@example.com")) == 0


def test_an_address_with_an_account_before_the_upgrade_counts(db):
    carol = make_user("carol@example.com")
    WelcomedAddress.objects.all().delete()  # as before this migration
    migration = importlib.import_module("credits.migrations.0002_welcomed_address")
    migration.remember_welcomed(django_apps, None)
    carol.delete()
    assert get_balance(make_user("carol@example.com")) == 0


def test_the_demo_account_is_still_topped_up(db):
    from accounts.plans import DEMO_CREDITS
    from credits.actions import grant_demo_credits

    demo = make_user("demo@example.com")
    demo.delete()
    demo = make_user("demo@example.com")
    grant_demo_credits(demo)
    assert get_balance(demo) == DEMO_CREDITS
    assert EmailAddress.objects.filter(user=demo).exists()
