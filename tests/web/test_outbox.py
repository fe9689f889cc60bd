"""The demo outbox is a mailbox: a password-reset mail signs anyone in, so each visitor reads
only the mail that is theirs (web.outbox). Staff read everything; anonymous visitors nothing."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from tests.factories import PASSWORD, make_user

NEW_PASSWORD = "taken-over-pass-phrase-42"


@pytest.fixture(autouse=True)
def _outbox_on(settings):
    settings.EMAIL_BACKEND = "web.mail.OutboxBackend"
    settings.SHOW_OUTBOX = True


def send(to, subject="Confirm your address"):
    mail.send_mail(subject, "Hello!\nOpen http://testserver/accounts/confirm-email/abc/ now.",
                   "hello@likeness.local", [to])


def names(settings):
    return sorted(p.name for p in settings.EMAIL_OUTBOX_DIR.glob("*.eml"))


@pytest.fixture
def carol_mail(settings, db):
    send("carol@example.com")
    (name,) = names(settings)
    return name


@pytest.fixture
def carol_client(client, db):
    client.force_login(make_user("carol@example.com"))
    return client


def test_the_owner_sees_the_list_and_the_message(carol_client, carol_mail):
    body = carol_client.get(reverse("outbox")).content.decode()
    assert "Confirm your address" in body and "carol@example.com" in body
    assert reverse("outbox_message", args=[carol_mail]) in body
    response = carol_client.get(reverse("outbox_message", args=[carol_mail]))
    assert response.status_code == 200
    assert ('<a href="http://testserver/accounts/confirm-email/abc/"'
            in response.content.decode())


def test_an_anonymous_visitor_sees_no_outbox(client, carol_mail):
    response = client.get(reverse("outbox"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert client.get(reverse("outbox_message", args=[carol_mail])).status_code == 404


def test_another_customer_sees_none_of_it(alice_client, carol_mail):
    send("alice@example.com", subject="For Alice")
    body = alice_client.get(reverse("outbox")).content.decode()
    assert "For Alice" in body
    assert "carol@example.com" not in body and carol_mail not in body
    # The message itself answers as if it did not exist.
    assert alice_client.get(reverse("outbox_message", args=[carol_mail])).status_code == 404


def test_staff_see_every_message(staff_client, carol_mail):
    send("alice@example.com", subject="For Alice")
    body = staff_client.get(reverse("outbox")).content.decode()
    assert "carol@example.com" in body and "alice@example.com" in body
    assert staff_client.get(reverse("outbox_message", args=[carol_mail])).status_code == 200


def test_staff_without_two_factor_see_only_their_own(client, carol_mail, settings):
    settings.STAFF_REQUIRE_MFA = True
    client.force_login(make_user("staff@example.com", is_staff=True))
    assert "carol@example.com" not in client.get(reverse("outbox")).content.decode()
    assert client.get(reverse("outbox_message", args=[carol_mail])).status_code == 404


def test_the_account_takeover_through_the_outbox_fails(client, alice, settings):
    # An attacker asks for alice's password reset, then looks for the link in the outbox.
    client.post(reverse("account_reset_password"), {"email": alice.email})
    (name,) = names(settings)
    assert "/accounts/password/reset/key/" in (settings.EMAIL_OUTBOX_DIR / name).read_text()
    listing = client.get(reverse("outbox"), follow=True)
    assert "password/reset/key" not in listing.content.decode()
    assert name not in listing.content.decode()
    # Even knowing the file's name, the message is not there for them.
    message = client.get(reverse("outbox_message", args=[name]))
    assert message.status_code == 404
    assert "password/reset/key" not in message.content.decode()
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_a_sign_up_in_this_browser_reads_its_own_confirmation(client, alice, settings):
    response = client.post(reverse("account_signup"), {
        "email": "carol@example.com", "password1": "a-long-pass-phrase-42",
        "password2": "a-long-pass-phrase-42"}, follow=True)
    body = response.content.decode()
    assert "Check your e-mail" in body and reverse("outbox") in body
    # The same browser then asks for alice's reset: that mail stays alice's.
    client.post(reverse("account_reset_password"), {"email": alice.email})
    listing = client.get(reverse("outbox")).content.decode()
    assert "carol@example.com" in listing
    assert "alice@example.com" not in listing and "password/reset/key" not in listing
    # The confirmation link in it finishes the sign-up.
    (carol_name,) = [n for n in names(settings)
                     if "carol@example.com" in (settings.EMAIL_OUTBOX_DIR / n).read_text()]
    text = client.get(reverse("outbox_message", args=[carol_name])).content.decode()
    link = re.search(r'href="http://testserver(/accounts/confirm-email/[^"/]+/)"', text)
    assert link, text
    client.post(link.group(1))
    assert EmailAddress.objects.get(email="carol@example.com").verified
    # Confirmed, the browser is signed in as carol and no longer reads through the sign-up.
    assert "alice@example.com" not in client.get(reverse("outbox")).content.decode()


def test_signing_up_with_a_taken_address_reads_nothing_of_its_owner(client, alice, settings):
    client.post(reverse("account_signup"), {
        "email": alice.email, "password1": "a-long-pass-phrase-42",
        "password2": "a-long-pass-phrase-42"})
    client.post(reverse("account_reset_password"), {"email": alice.email})
    written = names(settings)
    assert len(written) == 2  # "an account already exists" and the reset, both to alice
    listing = client.get(reverse("outbox"), follow=True).content.decode()
    assert not any(name in listing for name in written)
    assert "password/reset/key" not in listing


def test_claiming_someone_elses_address_reads_nothing_of_theirs(client, alice, bob, settings):
    EmailAddress.objects.create(user=bob, email=alice.email, verified=False, primary=False)
    client.post(reverse("account_reset_password"), {"email": alice.email})
    client.force_login(bob)
    listing = client.get(reverse("outbox")).content.decode()
    assert "password/reset/key" not in listing and "alice@example.com" not in listing


@pytest.mark.parametrize("name", ["../secret.eml", "..%2F..%2Fsettings.py", "x.eml",
                                  "123-abcdefgh.eml", "123-0123456.eml", "123-01234567.txt"])
def test_outbox_rejects_bad_names(staff_client, carol_mail, name):
    assert staff_client.get(f"/outbox/{name}").status_code == 404


def test_outbox_message_missing_is_404(staff_client, carol_mail):
    assert staff_client.get(reverse("outbox_message", args=["1-0123abcd.eml"])).status_code == 404


def test_outbox_is_off_when_not_shown(staff_client, carol_mail, settings):
    settings.SHOW_OUTBOX = False
    assert staff_client.get(reverse("outbox")).status_code == 404
    assert staff_client.get(reverse("outbox_message", args=[carol_mail])).status_code == 404
