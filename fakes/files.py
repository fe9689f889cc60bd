"""The fakes' file host: the bytes a provider serves from its CDN (results, uploads), their expiry,
and generated test images hosted there. A mixin of `FakeServer`, which owns the lock and the
dictionaries it keeps them in."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from fakes.http import Request, Response, route


class FileHost:
    """`self.lock`, `self.url`, `self._files` and `self._expired` come from FakeServer."""

    def serve_bytes(self, name: str, data: bytes, content_type: str = "application/octet-stream"
                    ) -> str:
        """Host `data` on this server (no auth, like a provider's CDN) and return its URL."""
        path = f"/files/{uuid.uuid4().hex}/{name}"
        with self.lock:
            self._files[path] = (data, content_type)
        return self.url + path

    def expire(self, url: str) -> None:
        """Make a hosted file answer 404 from now on (provider result URLs expire)."""
        path = urlsplit(url).path
        with self.lock:
            self._expired.add(path)

    def expire_all(self) -> None:
        with self.lock:
            self._expired.update(self._files)

    def file_bytes(self, url: str) -> bytes:
        with self.lock:
            return self._files[urlsplit(url).path][0]

    @route("GET", r"/files/(?P<key>[0-9a-f]{32})/(?P<name>.+)", auth=False)
    @route("HEAD", r"/files/(?P<key>[0-9a-f]{32})/(?P<name>.+)", auth=False)
    def _get_file(self, req: Request, key: str, name: str) -> Response:
        with self.lock:
            entry = None if req.path in self._expired else self._files.get(req.path)
        if entry is None:
            return self.file_not_found()
        data, content_type = entry
        return Response(200, data, content_type)

    def file_not_found(self) -> Response:
        return Response(404, b"Not Found", "text/plain")


    def make_image(self, width: int, height: int, seed: int, fmt: str = "png",
                   index: int = 0) -> tuple[bytes, int, int, str]:
        from fakes.images import make_image

        return make_image(width, height, seed, fmt, index=index, max_pixels=self.image_max_pixels)

    def host_image(self, width: int, height: int, seed: int, fmt: str = "png", index: int = 0,
                   prefix: str = "out") -> dict:
        data, w, h, content_type = self.make_image(width, height, seed, fmt, index)
        ext = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}[content_type]
        url = self.serve_bytes(f"{prefix}-{index}.{ext}", data, content_type)
        return {"url": url, "width": w, "height": h, "content_type": content_type, "data": data}
