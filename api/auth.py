"""Who is calling: an API key (`Authorization: Bearer lk_…`) or the browser's session.

The key is tried first. A request that carries an Authorization header is judged on the key
alone, so a bad key is always 401, even from a browser that is logged in. The session is only
trusted with a valid CSRF token (all ninja views are csrf_exempt at the middleware level, so the
check happens here), and only once we know the session belongs to a user: an anonymous POST
without a key is 401, not a CSRF failure."""

from django.conf import settings
from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from api.errors import ApiError
from api.keys import find_key


class ApiKeyAuth(HttpBearer):
    def __call__(self, request: HttpRequest):
        # ninja's HttpBearer logs an unexpected header in full when DEBUG is on, which would
        # write someone's Basic credentials into the log; this one never logs the header.
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        return self.authenticate(request, token)

    def authenticate(self, request: HttpRequest, token: str):
        # Found once by api.middleware.ApiKeyMiddleware (a test's bare request may lack it).
        key = request.api_key if hasattr(request, "api_key") else find_key(token.strip())
        if key is None:
            return None
        return key.user


class SessionAuth(APIKeyCookie):
    """ninja's SessionAuth, with the CSRF check after the session check, and a JSON 403."""

    def __init__(self):
        self.param_name = settings.SESSION_COOKIE_NAME
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest):
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key):
        if "Authorization" in request.headers:
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if check_csrf(request) is not None:
            raise ApiError(403, "forbidden",
                           "CSRF check failed: send the X-CSRFToken header with session auth.")
        return user


def api_auth():
    return [ApiKeyAuth(), SessionAuth()]
