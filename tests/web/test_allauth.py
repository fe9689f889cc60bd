"""allauth's pages render inside the site's own layout."""

import pytest
from django.urls import reverse


@pytest.mark.parametrize("name", ["account_login", "account_signup", "account_reset_password",
                                  "account_reset_password_done", "account_email_verification_sent"])
def test_entrance_pages_use_the_site_layout(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    body = response.content.decode()
    assert "css/app.css" in body
    assert "form-control" in body or name in ("account_reset_password_done",
                                              "account_email_verification_sent")


@pytest.mark.parametrize("name", ["account_email", "account_change_password", "account_logout"])
def test_manage_pages_sit_in_the_dashboard(alice_client, name):
    response = alice_client.get(reverse(name))
    assert response.status_code == 200
    assert 'id="credit-balance"' in response.content.decode()


def test_sign_in_with_a_wrong_password_explains(client, alice):
    response = client.post(reverse("account_login"),
                           {"login": "alice@example.com", "password": "nope"})
    assert response.status_code == 200
    assert "data-form-error" in response.content.decode()


def test_sign_in_lands_on_the_dashboard(client, alice):
    from tests.factories import PASSWORD

    response = client.post(reverse("account_login"),
                           {"login": "alice@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")


def test_links_from_e_mails_render_even_when_stale(client, db):
    bad_reset = client.get(reverse("account_reset_password_from_key",
                                   kwargs={"uidb36": "zz", "key": "set-password"}), follow=True)
    assert bad_reset.status_code == 200
    assert "Bad Token" in bad_reset.content.decode()
    done = client.get(reverse("account_reset_password_from_key_done"))
    assert done.status_code == 200
    confirm = client.get(reverse("account_confirm_email", args=["not-a-key"]))
    assert confirm.status_code == 200
    assert "expired or is invalid" in confirm.content.decode()


def test_password_reset_mail_lands_in_the_outbox(client, alice, settings):
    settings.EMAIL_BACKEND = "web.mail.OutboxBackend"
    settings.SHOW_OUTBOX = True
    response = client.post(reverse("account_reset_password"), {"email": "alice@example.com"},
                           follow=True)
    assert response.status_code == 200
    client.force_login(alice)  # the outbox shows alice her own mail
    listing = client.get(reverse("outbox")).content.decode()
    assert "Password Reset" in listing and "alice@example.com" in listing
