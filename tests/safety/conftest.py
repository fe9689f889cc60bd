"""What the safety tests share: a staff member signed in with two-factor authentication, as the
staff pages require."""

import pytest
from django.test import Client

from tests.factories import enable_totp, make_user


@pytest.fixture
def staff(db):
    user = make_user("staff@example.com", is_staff=True)
    enable_totp(user)
    client = Client()
    client.force_login(user)
    client.user = user
    return client
