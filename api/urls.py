"""The API's URLs, included at /api/v1/ by likeness.urls.

Besides ninja's own patterns, every other path under /api/v1 (and a wrong method on a known one)
answers in the API's JSON error shape rather than with an HTML page."""

from functools import wraps

from django.urls import re_path

from api.api import api
from api.errors import error_response


def _json_not_allowed(view):
    @wraps(view)  # keeps ninja's csrf_exempt flag
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            allowed = response.get("Allow", "")
            response = error_response(405, "method_not_allowed",
                                      f"{request.method} is not allowed here.",
                                      {"allowed": [m.strip() for m in allowed.split(",") if m]})
            response["Allow"] = allowed
        return response

    return wrapper


def not_found(request, *args, **kwargs):
    return error_response(404, "not_found", "There is no such API endpoint; see /api/v1/docs.")


not_found.csrf_exempt = True

_patterns, _app, _namespace = api.urls
app_name = "api"  # the namespace ninja reverses its own URLs in
for _pattern in _patterns:
    if _pattern.name == "api-root":
        # ninja needs a pattern of this name to know its prefix; its view is a bare 404.
        _pattern.callback = not_found
    elif _pattern.name not in ("openapi-json", "openapi-view"):
        _pattern.callback = _json_not_allowed(_pattern.callback)

urlpatterns = [*_patterns, re_path(r"^.*$", not_found, name="not_found")]
