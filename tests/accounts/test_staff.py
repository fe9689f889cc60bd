"""Staff pages need two-factor authentication; sign-in goes through allauth (with its second
step), whose own rate limits cover sign-in, password resets and sign-up."""

import re

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import get_resolver, reverse

from tests.factories import PASSWORD, enable_totp, make_user, totp_code

STAFF_PAGES = ["/" + settings.ADMIN_PATH, "/" + settings.ADMIN_PATH + "accounts/user/",
               "/staff/providers/"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def staff(db):
    return make_user("staff@example.com", is_staff=True, is_superuser=True)


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_staff_pages_for_each_kind_of_visitor(client, alice, staff, url):
    response = client.get(url)
    if url.startswith("/" + settings.ADMIN_PATH):
        assert response.status_code == 404, "anonymous: the admin's path is not given away"
    else:
        assert response.status_code == 302 and response["Location"].startswith(
            reverse("account_login")), "anonymous"
    client.force_login(alice)
    assert client.get(url).status_code == 404, "a customer"
    client.force_login(staff)
    response = client.get(url)
    assert response.status_code == 302 and response["Location"] == reverse(
        "mfa_activate_totp"), "staff without two-factor authentication"
    enable_totp(staff)
    assert client.get(url).status_code == 200, "staff with two-factor authentication"


def _page(response) -> tuple[int, str]:
    # The CSP nonce and the CSRF token differ on every answer; nothing else may.
    body = re.sub(r'(nonce|value)="[^"]*"|"X-CSRFToken": "[^"]*"', "",
                  response.content.decode())
    return response.status_code, body


ADMIN_URLS = ["", "login/", "login/?next=/x/", "logout/", "accounts/user/",
              "accounts/user", "jsi18n/"]


@pytest.mark.parametrize("tail", ADMIN_URLS)
def test_the_admin_path_answers_as_a_wrong_path_to_all_but_staff(client, alice, tail):
    for who in ("anonymous", "a customer"):
        admin = client.get("/" + settings.ADMIN_PATH + tail)
        wrong = client.get("/not-the-admin/" + tail)
        assert admin.status_code == 404, who
        assert _page(admin) == _page(wrong), who
        client.force_login(alice)
    # Without its slash too (Django would otherwise redirect a known path to add it).
    client.logout()
    bare = client.get("/" + settings.ADMIN_PATH.rstrip("/"))
    assert _page(bare) == _page(client.get("/not-the-admin"))
    assert client.post("/" + settings.ADMIN_PATH + "logout/").status_code == 404


def test_staff_reach_the_admin_through_the_site_sign_in(client, staff):
    secret = enable_totp(staff)
    target = "/" + settings.ADMIN_PATH
    response = client.post(f"{reverse('account_login')}?next={target}",
                           {"login": staff.email, "password": PASSWORD, "next": target})
    assert response["Location"] == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert response.status_code == 302 and response["Location"] == target
    page = client.get(target)
    assert page.status_code == 200 and b"Site administration" in page.content
    # The admin's own login page, for signed-in staff, leads on to the admin.
    assert client.get(target + "login/")["Location"] == target
    client.post(target + "logout/")
    assert client.get(target).status_code == 404  # signed out: no admin here again


def test_staff_sign_in_asks_for_the_code(client, staff):
    secret = enable_totp(staff)
    response = client.post(reverse("account_login"),
                           {"login": staff.email, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("mfa_authenticate")
    assert client.get("/" + settings.ADMIN_PATH).status_code == 404  # not signed in yet
    response = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert response.status_code == 200 and client.get("/staff/providers/").status_code == 302
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert client.get("/" + settings.ADMIN_PATH).status_code == 200


def test_the_admin_lives_at_the_configured_path():
    assert any(str(p.pattern) == settings.ADMIN_PATH for p in get_resolver().url_patterns)


def test_sign_in_failures_are_rate_limited(client, alice):
    answers = [client.post(reverse("account_login"),
                           {"login": alice.email, "password": "wrong-password"})
               for _ in range(7)]
    assert b"Too many failed login attempts" not in answers[0].content
    assert b"Too many failed login attempts" in answers[-1].content
    # Even the right password is refused now, for this account.
    response = client.post(reverse("account_login"), {"login": alice.email,
                                                      "password": PASSWORD})
    assert response.status_code == 200 and b"Too many failed login attempts" in response.content


def test_password_reset_is_rate_limited(client, alice):
    statuses = [client.post(reverse("account_reset_password"),
                            {"email": alice.email}).status_code for _ in range(8)]
    assert 429 in statuses


def test_sign_up_is_rate_limited(client, db):
    statuses = [client.post(reverse("account_signup"), {
        "email": f"new{n}@example.com", "password1": "a-long-password-77",
        "password2": "a-long-password-77"}).status_code for n in range(12)]
    assert 429 in statuses
