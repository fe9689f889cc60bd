"""The rate limits on every costly action of the site and the API (likeness.ratelimit)."""

import pytest
from django.core.cache import cache
from django.urls import get_resolver

from likeness.ratelimit import COSTLY


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def _routes():
    def walk(resolver, prefix=""):
        for p in resolver.url_patterns:
            if hasattr(p, "url_patterns"):
                yield from walk(p, prefix + str(p.pattern))
            else:
                yield prefix + str(p.pattern)

    return set(walk(get_resolver()))


def test_every_costly_route_exists():
    routes = _routes()
    missing = [route for _, route in COSTLY if route not in routes]
    assert not missing, f"likeness.ratelimit.COSTLY names routes that are gone: {missing}"


def test_generating_is_rate_limited_on_the_site_and_the_api(alice_client, alice, settings):
    from tests.api.conftest import assert_error
    from tests.factories import key_client

    settings.RATE_LIMIT_COSTLY = "3/minute"
    statuses = [alice_client.post("/dashboard/generate/", {"prompt": "a lighthouse"}
                                  ).status_code for _ in range(3)]
    assert 429 not in statuses
    response = alice_client.post("/dashboard/generate/", {"prompt": "a lighthouse"})
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
    assert b"Too many requests" in response.content
    # The same account through the API shares the count.
    api = key_client(alice)
    response = api.post("/api/v1/generations", {"prompt": "a lighthouse"},
                        content_type="application/json")
    details = assert_error(response, 429, "rate_limited")
    assert details["action"] == "generate" and response["Retry-After"]


def test_limits_are_per_account(alice_client, bob, settings):
    from tests.factories import key_client

    settings.RATE_LIMIT_COSTLY = "1/minute"
    alice_client.post("/dashboard/models/new/", {})
    assert alice_client.post("/dashboard/models/new/", {}).status_code == 429
    response = key_client(bob).post("/api/v1/models", {"name": "B", "subject_class": "man"},
                                    content_type="application/json")
    assert response.status_code == 201
