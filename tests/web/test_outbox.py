import pytest
from django.core import mail
from django.urls import reverse


@pytest.fixture
def outbox_mail(settings, db):
    settings.EMAIL_BACKEND = "web.mail.OutboxBackend"
    settings.SHOW_OUTBOX = True
    mail.send_mail("Confirm your address",
                   "Hello!\nOpen http://testserver/accounts/confirm-email/abc/ now.",
                   "hello@likeness.local", ["carol@example.com"])
    (name,) = [p.name for p in settings.EMAIL_OUTBOX_DIR.iterdir()]
    return name


def test_outbox_lists_messages(client, outbox_mail):
    response = client.get(reverse("outbox"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Confirm your address" in body
    assert "carol@example.com" in body
    assert reverse("outbox_message", args=[outbox_mail]) in body


def test_outbox_message_has_clickable_links(client, outbox_mail):
    response = client.get(reverse("outbox_message", args=[outbox_mail]))
    assert response.status_code == 200
    assert ('<a href="http://testserver/accounts/confirm-email/abc/"'
            in response.content.decode())


@pytest.mark.parametrize("name", ["../secret.eml", "..%2F..%2Fsettings.py", "x.eml",
                                  "123-abcdefgh.eml", "123-0123456.eml", "123-01234567.txt"])
def test_outbox_rejects_bad_names(client, outbox_mail, name):
    assert client.get(f"/outbox/{name}").status_code == 404


def test_outbox_message_missing_is_404(client, outbox_mail):
    assert client.get(reverse("outbox_message", args=["1-0123abcd.eml"])).status_code == 404


def test_outbox_is_off_when_not_shown(client, outbox_mail, settings):
    settings.SHOW_OUTBOX = False
    assert client.get(reverse("outbox")).status_code == 404
    assert client.get(reverse("outbox_message", args=[outbox_mail])).status_code == 404


def test_signup_verification_page_links_to_the_outbox(client, settings, db):
    settings.SHOW_OUTBOX = True
    settings.EMAIL_BACKEND = "web.mail.OutboxBackend"
    response = client.post(reverse("account_signup"), {
        "email": "carol@example.com", "password1": "a-long-pass-phrase-42",
        "password2": "a-long-pass-phrase-42"}, follow=True)
    body = response.content.decode()
    assert "Check your e-mail" in body
    assert reverse("outbox") in body
    listing = client.get(reverse("outbox")).content.decode()
    assert "carol@example.com" in listing
