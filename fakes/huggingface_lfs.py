"""The Hub's large-file path in the Hugging Face fake, as huggingface_hub speaks it: the git-lfs
batch API (`basic` and the Hub's `multipart` transfer), the uploads, and the verify step. A mixin
of `FakeHuggingFace`, whose state (`lfs_objects`, `_lfs_pending`, `lfs_log`) it fills."""

from __future__ import annotations

import hashlib

from fakes.base import HttpError, Request, Response, json_response, random_id, route

LFS_CONTENT_TYPE = "application/vnd.git-lfs+json"


class LfsStore:
    """Needs `self.url`, `self.lfs_chunk_size`, `self._get_repo` from FakeHuggingFace."""

    def _lfs_error(self, status: int, message: str) -> Response:
        return json_response({"message": message}, status,
                             content_type=LFS_CONTENT_TYPE)

    @route("POST", r"/(?:(?P<rtype>datasets|spaces)/)?(?P<repo_id>[^/]+/[^/]+)\.git/info/lfs/"
                   r"objects/batch")
    def lfs_batch(self, req: Request, rtype: str | None, repo_id: str) -> Response:
        body = self.body_json(req)
        if body.get("operation") != "upload" or body.get("hash_algo", "sha256") != "sha256":
            return self._lfs_error(422, "Only sha256 uploads are supported")
        transfers = body.get("transfers") or ["basic"]
        with self.lock:
            self._get_repo(req, rtype or "models", repo_id, write=True)
            objects = []
            for obj in body.get("objects") or []:
                oid, size = obj.get("oid"), obj.get("size")
                if not (isinstance(oid, str) and len(oid) == 64 and isinstance(size, int)):
                    return self._lfs_error(422, "Each object needs a sha256 oid and a size")
                self.lfs_log.append(("batch", oid))
                if oid in self.lfs_objects:  # already stored: nothing to upload
                    objects.append({"oid": oid, "size": size})
                    continue
                secret = random_id(20)
                self._lfs_pending[oid] = {"size": size, "secret": secret, "parts": {}}
                base = f"{self.url}/lfs-storage/{oid}"
                if size > self.lfs_chunk_size and "multipart" in transfers:
                    count = -(-size // self.lfs_chunk_size)
                    header = {"chunk_size": str(self.lfs_chunk_size), **{
                        str(n): f"{base}/part/{n}?signature={secret}"
                        for n in range(1, count + 1)}}
                    upload = {"href": f"{base}/complete?signature={secret}", "header": header}
                else:
                    upload = {"href": f"{base}?signature={secret}"}
                objects.append({"oid": oid, "size": size, "authenticated": True, "actions": {
                    "upload": upload,
                    "verify": {"href": f"{self.url}/{repo_id}.git/info/lfs/objects/verify"}}})
        transfer = ("multipart" if "multipart" in transfers and any(
            "chunk_size" in o.get("actions", {}).get("upload", {}).get("header", {})
            for o in objects) else "basic")
        return json_response({"transfer": transfer, "objects": objects, "hash_algo": "sha256"},
                             content_type=LFS_CONTENT_TYPE)

    def _pending(self, req: Request, oid: str) -> dict:
        pending = self._lfs_pending.get(oid)
        if pending is None or req.arg("signature") != pending["secret"]:
            raise HttpError(403, "Request has expired or the signature does not match")
        return pending

    def _store(self, oid: str, data: bytes, pending: dict) -> Response | None:
        if len(data) != pending["size"] or hashlib.sha256(data).hexdigest() != oid:
            return self.error_response(400, "The uploaded content does not match its oid")
        self.lfs_objects[oid] = data
        self._lfs_pending.pop(oid, None)
        return None

    @route("PUT", r"/lfs-storage/(?P<oid>[0-9a-f]{64})", auth=False)
    def lfs_put(self, req: Request, oid: str) -> Response:
        with self.lock:
            pending = self._pending(req, oid)
            self.lfs_log.append(("put", oid))
            return self._store(oid, req.body, pending) or Response(200, b"", None)

    @route("PUT", r"/lfs-storage/(?P<oid>[0-9a-f]{64})/part/(?P<number>\d+)", auth=False)
    def lfs_part(self, req: Request, oid: str, number: str) -> Response:
        with self.lock:
            pending = self._pending(req, oid)
            pending["parts"][int(number)] = req.body
            self.lfs_log.append(("part", oid))
            etag = hashlib.md5(req.body, usedforsecurity=False).hexdigest()
            return Response(200, b"", None, {"ETag": f'"{etag}"'})

    @route("POST", r"/lfs-storage/(?P<oid>[0-9a-f]{64})/complete", auth=False)
    def lfs_complete(self, req: Request, oid: str) -> Response:
        body = self.body_json(req)
        with self.lock:
            pending = self._pending(req, oid)
            parts = pending["parts"]
            listed = body.get("parts") or []
            if body.get("oid") != oid or [p.get("partNumber") for p in listed] != sorted(parts):
                return self.error_response(400, "The completion does not list every part")
            for part in listed:
                etag = hashlib.md5(parts[part["partNumber"]], usedforsecurity=False).hexdigest()
                if part.get("etag", "").strip('"') != etag:
                    return self.error_response(400, f"Wrong etag for part {part['partNumber']}")
            self.lfs_log.append(("complete", oid))
            data = b"".join(parts[n] for n in sorted(parts))
            return self._store(oid, data, pending) or json_response({})

    @route("POST", r"/(?:(?P<rtype>datasets|spaces)/)?(?P<repo_id>[^/]+/[^/]+)\.git/info/lfs/"
                   r"objects/verify")
    def lfs_verify(self, req: Request, rtype: str | None, repo_id: str) -> Response:
        body = self.body_json(req)
        with self.lock:
            self._get_repo(req, rtype or "models", repo_id, write=True)
            data = self.lfs_objects.get(body.get("oid"))
            self.lfs_log.append(("verify", body.get("oid")))
            if data is None or len(data) != body.get("size"):
                return self._lfs_error(404, "Object not found")
            return json_response({}, content_type=LFS_CONTENT_TYPE)
