"""API test helpers: a Bearer-key client per customer, and images made without a provider."""

import pytest

from tests.factories import key_client


@pytest.fixture
def alice_api(alice):
    return key_client(alice)


@pytest.fixture
def bob_api(bob):
    return key_client(bob)


def assert_error(response, status: int, code: str) -> dict:
    """The response is the API's error shape with this status and code; returns details."""
    assert response.status_code == status, (response.status_code, response.content)
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    return body["error"]["details"]
