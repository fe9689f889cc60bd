"""The public JSON API, version 1, mounted at /api/v1 (the contract: docs/api.md).

Routes stay thin: they parse, call the same domain functions as the web pages, and shape the
answer. Every error leaves through api.errors in one shape."""

from ninja import NinjaAPI, Swagger
from ninja.parser import Parser

from api import errors
from api.auth import api_auth
from api.renderers import JSONRenderer
from api.routes import (
    account,
    billing,
    catalogue,
    generations,
    images,
    instant,
    models,
    packs,
    trainings,
    versions,
)

DESCRIPTION = """
The Likeness API: create personal models from your photos, generate images with credits and
manage your gallery.

**Authentication**: send `Authorization: Bearer <api key>`. Create a key on the settings page or
with `python manage.py create_api_key EMAIL`. The site's own pages may use the browser session
instead, with the `X-CSRFToken` header on writes.

**Errors** always have the shape `{"error": {"code", "message", "details"}}`: `unauthenticated`
401, `forbidden` 403, `not_found` 404 (also for objects of other accounts), `validation_error`
422, `insufficient_credits` 402, `limit_reached` 409 (a plan or a model is full), `conflict` 409
(the object's state does not allow it), `too_large` 413, `unsupported_media_type` 415,
`invalid_cursor` 400, `bad_request` 400 (an unreadable body), `internal_error` 500.

**Lists** take `?limit=` (default 24, max 100) and `?cursor=` and answer
`{"items": [...], "next_cursor": "<opaque>" | null}`, newest first.

Times are ISO 8601 UTC; ids are opaque strings.
"""

class StrictParser(Parser):
    """A parameter sent several times (`?q=a&q=b`) where one value is expected is refused (422)
    instead of silently keeping the last: repeated values go on as a list, which the field's
    validation refuses. Unknown parameters are still ignored."""

    def parse_querydict(self, data, list_fields, request):
        result = super().parse_querydict(data, list_fields, request)
        for key in data.keys():
            if key not in list_fields and len(data.getlist(key)) > 1:
                result[key] = data.getlist(key)
        return result


class LikenessAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        # Every operation also documents the errors its inputs and auth can cause.
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return errors.document_common_errors(schema)


api = LikenessAPI(
    title="Likeness API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    parser=StrictParser(),
    renderer=JSONRenderer(),
    auth=api_auth(),
    openapi_url="/openapi.json",
    docs_url="/docs",
    # No validator badge: it would send the schema to validator.swagger.io.
    docs=Swagger(settings={"validatorUrl": None, "persistAuthorization": True}),
)
errors.install(api)

api.add_router("", account.router)
api.add_router("", billing.router)
api.add_router("", catalogue.router)
api.add_router("", generations.router)
api.add_router("", images.router)
api.add_router("", models.router)
api.add_router("", instant.router)
api.add_router("", packs.router)
api.add_router("", trainings.router)
api.add_router("", versions.router)
