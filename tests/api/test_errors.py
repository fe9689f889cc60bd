"""The error shape holds beyond the routes: unknown paths, wrong methods, and crashes."""

from unittest import mock

from django.test import Client

from tests.api.conftest import assert_error


def test_unknown_paths_are_json_404(alice_api, client):
    for path in ("/api/v1/", "/api/v1/nope", "/api/v1/images/x/y/z", "/api/v1/me/"):
        assert_error(alice_api.get(path), 404, "not_found")
    # Not a CSRF page either: API clients have no CSRF cookie.
    strict = Client(enforce_csrf_checks=True)
    assert_error(strict.post("/api/v1/nope", {}), 404, "not_found")
    assert_error(strict.post("/api/v1/me", {}), 405, "method_not_allowed")


def test_wrong_method_is_json_405(alice_api):
    response = alice_api.delete("/api/v1/me")

    details = assert_error(response, 405, "method_not_allowed")
    assert details == {"allowed": ["GET"]}
    assert response["Allow"] == "GET"


def test_uncaught_exception_is_json_500(alice_api):
    with mock.patch("api.routes.account.get_balance", side_effect=RuntimeError("boom")):
        response = alice_api.get("/api/v1/me")

    assert_error(response, 500, "internal_error")
    assert "boom" not in response.content.decode()
