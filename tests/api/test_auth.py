from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from api.keys import create_api_key, find_key, hash_key, revoke_api_key
from api.models import ApiKey
from generation.models import Generation
from tests.api.conftest import assert_error

BODY = {"prompt": "a red bicycle", "base_model": "flux-schnell", "num_images": 1}


def test_no_credentials_is_401(client, alice):
    for path in ("/api/v1/me", "/api/v1/credits", "/api/v1/images"):
        response = client.get(path)
        assert_error(response, 401, "unauthenticated")
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_bad_keys_are_401(alice):
    for header in ("Bearer lk_not-a-real-key", "Bearer ", "Bearer", "Token lk_x", "lk_x",
                   "Basic YWxpY2U6cHc="):
        client = Client(HTTP_AUTHORIZATION=header)
        assert_error(client.get("/api/v1/me"), 401, "unauthenticated")


def test_valid_key_works_and_is_touched(alice):
    key, raw = create_api_key(alice, "laptop")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = client.get("/api/v1/me")

    assert response.status_code == 200
    assert response.json()["email"] == "alice@example.com"
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_revoked_key_is_401(alice):
    key, raw = create_api_key(alice, "old")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/me").status_code == 200

    assert revoke_api_key(alice, key.pk)

    assert_error(client.get("/api/v1/me"), 401, "unauthenticated")
    assert_error(client.post("/api/v1/generations", BODY, content_type="application/json"),
                 401, "unauthenticated")
    assert not Generation.objects.exists()


def test_key_of_inactive_user_is_401(alice):
    _, raw = create_api_key(alice, "k")
    alice.is_active = False
    alice.save()

    assert_error(Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/me"), 401,
                 "unauthenticated")


def test_a_bad_key_is_401_even_with_a_session(alice):
    client = Client(HTTP_AUTHORIZATION="Bearer lk_wrong")
    client.force_login(alice)

    assert_error(client.get("/api/v1/me"), 401, "unauthenticated")


def test_session_auth_reads(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    response = client.get("/api/v1/me")

    assert response.status_code == 200
    assert response.json()["email"] == "alice@example.com"


def test_session_auth_requires_csrf_for_post(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    refused = client.post("/api/v1/generations", BODY, content_type="application/json")

    assert_error(refused, 403, "forbidden")
    assert not Generation.objects.exists()

    # The docs page (like every page of the site) hands out the CSRF cookie.
    assert client.get("/api/v1/docs").status_code == 200
    token = client.cookies["csrftoken"].value
    accepted = client.post("/api/v1/generations", BODY, content_type="application/json",
                           HTTP_X_CSRFTOKEN=token)

    assert accepted.status_code == 202, accepted.content
    assert Generation.objects.filter(user=alice).count() == 1


def test_bearer_key_needs_no_csrf(alice):
    _, raw = create_api_key(alice, "k")
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = client.post("/api/v1/generations", BODY, content_type="application/json")

    assert response.status_code == 202, response.content


def test_anonymous_post_is_401_not_csrf(client):
    assert_error(client.post("/api/v1/generations", BODY, content_type="application/json"),
                 401, "unauthenticated")


def test_the_key_lookup_is_the_orms_join_in_one_query(alice, bob):
    """api.keys reads the key and its user in SQL kept per process (likeness.rows): the same
    rows, with the same values, as the ORM's select_related get, in one query."""
    key, raw = create_api_key(alice, "laptop")
    create_api_key(bob, "bob's")
    find_key(raw)  # touches last_used_at (at most once a minute)
    with CaptureQueriesContext(connection) as queries:
        found = find_key(raw)
    assert len(queries.captured_queries) == 1
    orm = ApiKey.objects.select_related("user").get(key_hash=hash_key(raw))

    def fields(row):
        return {f.attname: getattr(row, f.attname) for f in type(row)._meta.concrete_fields}

    assert fields(found) == fields(orm) and fields(found.user) == fields(orm.user)
    assert found.user == alice and found.user.email == alice.email
    with CaptureQueriesContext(connection) as queries:
        assert found.user.is_active  # cached by the join: no query
    assert not queries.captured_queries
    assert find_key("lk_" + "x" * 40) is None
