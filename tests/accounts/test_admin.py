"""The admin is for staff only, and every changelist renders with real rows in it."""

import pytest
from django.urls import reverse

from generation.actions import create_generation
from generation.models import Generation, Image
from tests.factories import make_user

CHANGELISTS = [
    "admin:accounts_user_changelist",
    "admin:credits_creditentry_changelist",
    "admin:generation_generation_changelist",
    "admin:generation_image_changelist",
]


@pytest.fixture
def staff(db):
    from tests.factories import enable_totp

    staff = make_user("staff@example.com", is_staff=True, is_superuser=True)
    enable_totp(staff)  # staff pages need two-factor authentication
    return staff


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def finished_generation(alice, run_jobs):
    generation = create_generation(alice, prompt="a red bicycle in the rain", num_images=2)
    run_jobs()
    generation.refresh_from_db()
    assert generation.status == Generation.Status.SUCCEEDED
    return generation


@pytest.mark.parametrize("name", CHANGELISTS)
def test_staff_can_open_every_changelist(staff_client, finished_generation, name):
    response = staff_client.get(reverse(name))
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1
    # The customer whose rows these are is listed (the e-mail is in every list_display).
    assert "alice@example.com" in response.content.decode()


def test_staff_can_open_a_users_page_and_see_the_balance(staff_client, alice):
    response = staff_client.get(reverse("admin:accounts_user_change", args=[alice.pk]))
    assert response.status_code == 200
    assert response.context["adminform"].form.instance == alice


def test_staff_can_view_a_generation_and_an_image(staff_client, finished_generation):
    image = Image.objects.filter(generation=finished_generation).first()
    for url in (
        reverse("admin:generation_generation_change", args=[finished_generation.pk]),
        reverse("admin:generation_image_change", args=[image.pk]),
    ):
        response = staff_client.get(url)
        assert response.status_code == 200, url


@pytest.mark.parametrize("name", CHANGELISTS)
def test_a_customer_does_not_find_the_admin(alice_client, name):
    # The admin is hidden from customers (accounts.staff.StaffGuardMiddleware).
    response = alice_client.get(reverse(name))
    assert response.status_code == 404


def test_an_anonymous_visitor_does_not_find_the_admin(client, db):
    # Not even a redirect to the sign-in, which would tell where the admin is; staff sign in on
    # the site (tests/accounts/test_staff.py).
    response = client.get(reverse("admin:accounts_user_changelist"))
    assert response.status_code == 404
