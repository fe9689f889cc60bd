"""The Replicate fake's account, models and versions endpoints (GET /v1/account, /v1/models...), and
the destinations a training creates."""

from __future__ import annotations

from fakes.base import (
    Request,
    Response,
    json_response,
    route,
)


class ModelsApi:
    """A mixin of FakeReplicate, whose state and helpers it uses."""

    @route("GET", r"/v1/account")
    def get_account(self, req: Request) -> Response:
        return json_response({"type": "organization", "username": self.username,
                              "name": self.username, "github_url": None})

    @route("GET", r"/v1/webhooks/default/secret")
    def get_webhook_secret(self, req: Request) -> Response:
        return json_response({"key": self.webhook_secret})

    @route("GET", r"/v1/models/(?P<owner>[^/]+)/(?P<name>[^/]+)")
    def get_model(self, req: Request, owner: str, name: str) -> Response:
        with self.lock:
            model = self.models.get(f"{owner}/{name}")
            if not model:
                return self.problem(404, "Not found")
            return json_response(model)

    @route("POST", r"/v1/models")
    def create_model(self, req: Request) -> Response:
        body = self.body_json(req)
        missing = [k for k in ("owner", "name", "visibility", "hardware") if not body.get(k)]
        if missing:
            raise self._invalid_input([(k, f"{k} is required") for k in missing])
        if body["visibility"] not in ("public", "private"):
            raise self._invalid_input([("visibility", "must be one of: public, private")])
        with self.lock:
            key = f"{body['owner']}/{body['name']}"
            if key in self.models:
                return self.problem(409, "A model with that name and owner already exists.")
            model = self._add_model(body["owner"], body["name"], body["visibility"],
                                    hardware=body["hardware"],
                                    description=body.get("description"))
            return json_response(model, 201)

    @route("DELETE", r"/v1/models/(?P<owner>[^/]+)/(?P<name>[^/]+)")
    def delete_model(self, req: Request, owner: str, name: str) -> Response:
        key = f"{owner}/{name}"
        with self.lock:
            model = self.models.get(key)
            if not model:
                return self.problem(404, "Not found")
            if model["visibility"] != "private":
                return self.problem(403, "You can only delete private models.")
            if any(v["model"] == key for v in self.versions.values()):
                return self.problem(409, "Cannot delete a model that has versions. "
                                         "Delete the model's versions first.")
            del self.models[key]
            return Response(204, b"", None)

    @route("GET", r"/v1/models/(?P<owner>[^/]+)/(?P<name>[^/]+)/versions")
    def list_versions(self, req: Request, owner: str, name: str) -> Response:
        key = f"{owner}/{name}"
        with self.lock:
            if key not in self.models:
                return self.problem(404, "Not found")
            results = [{k: v for k, v in ver.items() if k != "model"}
                       for ver in reversed(self.versions.values()) if ver["model"] == key]
            return json_response({"next": None, "previous": None, "results": results})

    @route("GET", r"/v1/models/(?P<owner>[^/]+)/(?P<name>[^/]+)/versions/(?P<vid>[^/]+)")
    def get_version(self, req: Request, owner: str, name: str, vid: str) -> Response:
        with self.lock:
            ver = self.versions.get(vid)
            if not ver or ver["model"] != f"{owner}/{name}":
                return self.problem(404, "Not found")
            return json_response({k: v for k, v in ver.items() if k != "model"})

    @route("DELETE", r"/v1/models/(?P<owner>[^/]+)/(?P<name>[^/]+)/versions/(?P<vid>[^/]+)")
    def delete_version(self, req: Request, owner: str, name: str, vid: str) -> Response:
        key = f"{owner}/{name}"
        with self.lock:
            ver = self.versions.get(vid)
            if not ver or ver["model"] != key:
                return self.problem(404, "Not found")
            del self.versions[vid]
            remaining = [v for v in self.versions.values() if v["model"] == key]
            self.models[key]["latest_version"] = (
                {k: v for k, v in remaining[-1].items() if k != "model"} if remaining else None)
            return Response(204, b"", None)
