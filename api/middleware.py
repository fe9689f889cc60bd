"""The API key of an /api/ request, found once (`request.api_key`, an active ApiKey or None)
for the authentication (api.auth), the rate limits (likeness.ratelimit) and the idempotency
records, before any of them runs."""

from api.keys import find_key


class ApiKeyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.api_key = None
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if request.path.startswith("/api/") and scheme.lower() == "bearer" and token.strip():
            request.api_key = find_key(token.strip())
        return self.get_response(request)
