"""A fake of the Cloudflare Images API (v1), for plain httpx clients:
`CLOUDFLARE_BASE_URL = fake.url + "/client/v4"`, `CLOUDFLARE_ACCOUNT_ID = fake.account_id`,
`CLOUDFLARE_API_TOKEN = fake.token`.

`POST /client/v4/accounts/{account}/images/v1` takes multipart/form-data with `file` (or `url`,
which the fake refuses to fetch: tests never reach the internet), and optionally `id`,
`metadata` (JSON, at most 1024 bytes) and `requireSignedURLs` ("true"/"false"), and answers the
envelope `{"success": true, "errors": [], "messages": [], "result": {"id", "filename",
"uploaded", "requireSignedURLs", "variants": [...], "meta"}}`. Failures answer
`{"success": false, "errors": [{"code", "message"}], "messages": [], "result": null}`:
5400 bad request, 5409 an id that exists, 5404 unknown image, 10000 authentication.
`GET` / `DELETE .../images/v1/{id}` read and delete one image.

Variant URLs point back at this server (`/cdn/{account_hash}/{id}/{variant}`, no auth, like
imagedelivery.net); an image uploaded with requireSignedURLs answers 403 there unless the URL
carries `exp` (in the future) and `sig` = hex HMAC-SHA256(signing_key, "{path}?exp={exp}").
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from fakes.base import FakeServer, Request, Response, json_response, route, utcnow_iso

_ACCOUNT = r"/client/v4/accounts/(?P<account>[^/]+)/images/v1"
VARIANTS = ("public", "thumbnail")


def parse_multipart(req: Request) -> dict[str, tuple[bytes, str | None, str | None]]:
    """{field: (bytes, filename, content_type)} of a multipart/form-data body."""
    content_type = req.header("content-type") or ""
    if not content_type.startswith("multipart/form-data"):
        return {}
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + req.body)
    fields = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            fields[name] = (part.get_payload(decode=True) or b"", part.get_filename(),
                            part.get_content_type() if part.get_filename() else None)
    return fields


class FakeCloudflareImages(FakeServer):
    name = "cloudflare-images"
    default_token = "cloudflare-fake-token"

    def __init__(self, token: str | None = None, *, account_id: str = "fake-account",
                 signing_key: str = "fake-images-signing-key", **kwargs) -> None:
        super().__init__(token, **kwargs)
        self.account_id = account_id
        self.account_hash = "fakeHash" + account_id.replace("-", "")[:14]
        self.signing_key = signing_key
        self.reset_state()

    def reset_state(self) -> None:
        self.images: dict[str, dict[str, Any]] = {}  # id -> record (with "data")

    # ----- envelopes

    def error_response(self, status: int, message: str, code: int | None = None,
                       **extra: Any) -> Response:
        default = {401: 10000, 403: 10000, 404: 5404, 409: 5409}.get(status, 5400)
        return json_response({"success": False,
                              "errors": [{"code": code or default, "message": message}],
                              "messages": [], "result": None}, status)

    def auth_error(self, req: Request) -> Response:
        return self.error_response(401, "Authentication error", code=10000)

    def ok(self, result: Any) -> Response:
        return json_response({"success": True, "errors": [], "messages": [], "result": result})

    def _check_account(self, account: str) -> Response | None:
        if account != self.account_id:
            return self.error_response(403, "Authentication error: unknown account", code=10000)
        return None

    def variant_urls(self, image_id: str) -> list[str]:
        return [f"{self.url}/cdn/{self.account_hash}/{image_id}/{v}" for v in VARIANTS]

    def _public(self, record: dict) -> dict:
        return {k: v for k, v in record.items() if k not in ("data", "content_type")} | {
            "variants": self.variant_urls(record["id"])}

    # ----- the API

    @route("POST", _ACCOUNT)
    def upload(self, req: Request, account: str) -> Response:
        if (refused := self._check_account(account)) is not None:
            return refused
        fields = parse_multipart(req)
        if not fields:
            return self.error_response(400, "Bad request: expected multipart/form-data")
        file = fields.get("file")
        if "url" in fields:
            return self.error_response(400, "Bad request: the fake does not fetch URLs")
        if not file or not file[0]:
            return self.error_response(400, "Bad request: a file is required")
        signed = (fields.get("requireSignedURLs", (b"false",))[0].decode().strip().lower()
                  == "true")
        custom_id = fields["id"][0].decode().strip() if "id" in fields else ""
        if custom_id and signed:
            return self.error_response(400, "Bad request: custom ids cannot require signed URLs")
        meta: Any = {}
        if "metadata" in fields:
            raw = fields["metadata"][0]
            if len(raw) > 1024:
                return self.error_response(400, "Bad request: metadata must not exceed 1024 "
                                                "bytes")
            try:
                meta = json.loads(raw or b"{}")
            except ValueError:
                return self.error_response(400, "Bad request: metadata is not valid JSON")
        image_id = custom_id or str(uuid.uuid4())
        with self.lock:
            if image_id in self.images:
                return self.error_response(409, "Resource already exists", code=5409)
            record = {"id": image_id, "filename": file[1] or "upload", "uploaded": utcnow_iso(),
                      "requireSignedURLs": signed, "meta": meta, "data": file[0],
                      "content_type": file[2] or "application/octet-stream"}
            self.images[image_id] = record
        return self.ok(self._public(record))

    @route("GET", _ACCOUNT + r"/(?P<image_id>[^/]+)")
    def details(self, req: Request, account: str, image_id: str) -> Response:
        if (refused := self._check_account(account)) is not None:
            return refused
        with self.lock:
            record = self.images.get(image_id)
        if record is None:
            return self.error_response(404, "Image not found", code=5404)
        return self.ok(self._public(record))

    @route("DELETE", _ACCOUNT + r"/(?P<image_id>[^/]+)")
    def delete(self, req: Request, account: str, image_id: str) -> Response:
        if (refused := self._check_account(account)) is not None:
            return refused
        with self.lock:
            record = self.images.pop(image_id, None)
        if record is None:
            return self.error_response(404, "Image not found", code=5404)
        return self.ok({})

    # ----- delivery (imagedelivery.net)

    def signature(self, path: str, exp: int) -> str:
        return hmac.new(self.signing_key.encode(), f"{path}?exp={exp}".encode(),
                        hashlib.sha256).hexdigest()

    @route("GET", r"/cdn/(?P<account_hash>[^/]+)/(?P<image_id>[^/]+)/(?P<variant>[^/]+)",
           auth=False)
    def deliver(self, req: Request, account_hash: str, image_id: str, variant: str) -> Response:
        with self.lock:
            record = self.images.get(image_id)
        if record is None or account_hash != self.account_hash or variant not in VARIANTS:
            return Response(404, b"Not Found", "text/plain")
        if record["requireSignedURLs"]:
            exp, sig = req.arg("exp"), req.arg("sig") or ""
            if not (exp and exp.isdigit() and int(exp) > time.time() and hmac.compare_digest(
                    sig, self.signature(req.path, int(exp)))):
                return Response(403, b"Forbidden: a valid signature is required", "text/plain")
        return Response(200, record["data"], record["content_type"])
