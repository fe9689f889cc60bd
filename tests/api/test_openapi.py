import re

from django.contrib.staticfiles import finders

EXPECTED = {
    "/api/v1/me": {"get"},
    "/api/v1/credits": {"get"},
    "/api/v1/plans": {"get"},
    "/api/v1/base-models": {"get"},
    "/api/v1/styles": {"get"},
    "/api/v1/generations": {"post"},
    "/api/v1/generations/{generation_id}": {"get"},
    "/api/v1/images": {"get"},
    "/api/v1/images/{image_id}": {"get", "patch", "delete"},
    "/api/v1/images/{image_id}/share": {"post", "delete"},
    "/api/v1/images/bulk-delete": {"post"},
    "/api/v1/images/archive": {"post"},
    "/api/v1/images/{image_id}/file": {"get"},
    "/api/v1/images/{image_id}/thumbnail": {"get"},
    "/api/v1/images/{image_id}/upscale": {"post"},
    "/api/v1/images/{image_id}/restore-face": {"post"},
    "/api/v1/models/{model_id}/instant": {"post"},
    "/api/v1/models": {"get", "post"},
    "/api/v1/models/{model_id}": {"get", "delete"},
    "/api/v1/models/{model_id}/photos": {"get", "post"},
    "/api/v1/models/{model_id}/photos/{photo_id}": {"delete"},
    "/api/v1/models/{model_id}/photos/{photo_id}/file": {"get"},
    "/api/v1/models/{model_id}/photos/{photo_id}/thumbnail": {"get"},
    "/api/v1/models/{model_id}/train": {"post"},
    "/api/v1/models/{model_id}/packs/{pack_id}": {"post"},
    "/api/v1/pack-runs/{run_id}": {"get"},
    "/api/v1/packs": {"get"},
    "/api/v1/prompts/expand": {"post"},
    "/api/v1/models/{model_id}/consent": {"get", "post"},
    "/api/v1/models/{model_id}/cancel": {"post"},
    "/api/v1/trainings": {"get"},
    "/api/v1/trainings/{training_id}": {"get"},
    "/api/v1/billing/checkout": {"post"},
    "/api/v1/billing/portal": {"post"},
    "/api/v1/billing/packs": {"get"},
}


def test_openapi_lists_every_path(client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Likeness API"
    assert {p: set(ops) for p, ops in schema["paths"].items()} == EXPECTED
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), (method, path)
            assert operation.get("tags"), (method, path)


def test_openapi_documents_the_errors(client):
    schema = client.get("/api/v1/openapi.json").json()
    error_ref = {"$ref": "#/components/schemas/ErrorOut"}

    def error_schema(path, method, status):
        response = schema["paths"][path][method]["responses"][status]
        return response["content"]["application/json"]["schema"]

    for status in ("401", "402", "422"):
        assert error_schema("/api/v1/generations", "post", status) == error_ref
    for path in ("/api/v1/images/{image_id}", "/api/v1/images/{image_id}/file",
                 "/api/v1/generations/{generation_id}"):
        assert error_schema(path, "get", "404") == error_ref
        assert error_schema(path, "get", "401") == error_ref
    error_body = schema["components"]["schemas"]["ErrorBody"]
    assert set(error_body["required"]) == {"code", "message", "details"}
    body = schema["components"]["schemas"]["GenerationIn"]
    assert body["additionalProperties"] is False
    assert {"bearer"} <= {s.get("scheme") for s in schema["components"]["securitySchemes"]
                          .values()}


def test_docs_render_with_local_assets_only(client):
    response = client.get("/api/v1/docs")

    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert not re.search(r"(?:src|href)=\"(?:https?:)?//", html), html
    assert not re.search(r"//[\w.-]*cdn[\w.-]*\.", html.lower())  # no CDN host
    assets = re.findall(r"(?:src|href)=\"([^\"]+)\"", html)
    assert assets and all(a.startswith("/static/") for a in assets), assets
    for asset in assets:
        assert finders.find(asset.removeprefix("/static/")), asset
    assert '"validatorUrl": null' in html
