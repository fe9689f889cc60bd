"""Cloudflare Images, an optional delivery backend for generated images (docs/providers.md).

On when CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN are set. A task uploads each new image
once (with our image id as Cloudflare's id, so a retried upload cannot make a twin) and records
Cloudflare's id and variant URL on the row; the original is then delivered from that URL. Our
storage keeps every file and stays the source of truth: any upload error leaves the image
served from it, and deleting an image deletes the Cloudflare copy too.

Wire contract: POST {base}/accounts/{account}/images/v1, Bearer auth, multipart `file`, `id`,
`metadata` (JSON), `requireSignedURLs`; answers are envelopes {"success", "errors": [{"code",
"message"}], "messages", "result"}."""

import hashlib
import hmac
import json
import time
from urllib.parse import urlsplit

from django.conf import settings

from likeness import http
from likeness.errors import ProviderError
from providers.interfaces import Delivery
from providers.private import refuse_outside

LABEL = "Cloudflare Images"

ALREADY_EXISTS = 5409  # Cloudflare's code for an id that is taken
NOT_FOUND = 5404


class CloudflareImagesError(ProviderError):
    """`code` is Cloudflare's own error code (5409: the id is taken), `status` the HTTP one."""

    def __init__(self, message: str, *, code: int | None = None, status: int | None = None,
                 transient: bool = False):
        super().__init__(message, transient=transient, code=code, status=status)


def enabled() -> bool:
    return bool(settings.CLOUDFLARE_ACCOUNT_ID and settings.CLOUDFLARE_API_TOKEN)


def _result(response):
    """The envelope's result, or CloudflareImagesError with its first error."""
    try:
        body = response.json()
    except ValueError:
        raise CloudflareImagesError(f"Cloudflare Images answered {response.status_code} "
                                    "without JSON", status=response.status_code,
                                    transient=http.is_transient(response.status_code))
    if isinstance(body, dict) and body.get("success") is True and response.is_success:
        return body.get("result")
    errors = body.get("errors") if isinstance(body, dict) else None
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    status = response.status_code
    raise CloudflareImagesError(
        f"Cloudflare Images: {first.get('message') or 'request failed'} "
        f"(code {first.get('code')}, HTTP {status})",
        code=first.get("code"), status=status, transient=http.is_transient(status))


def _call(method: str, path: str, **kwargs):
    url = f"{settings.CLOUDFLARE_BASE_URL}/accounts/{settings.CLOUDFLARE_ACCOUNT_ID}{path}"
    headers = {"Authorization": f"Bearer {settings.CLOUDFLARE_API_TOKEN}"}
    try:
        response = http.send(method, url, service=LABEL, headers=headers, **kwargs)
    except ProviderError as exc:  # timeouts, refused connections: worth another try
        raise CloudflareImagesError(f"Cloudflare Images unreachable: {exc}", transient=True)
    return _result(response)


def upload(data: bytes, *, image_id: str, filename: str, content_type: str,
           metadata: dict) -> dict:
    """Upload one image; returns the result ({id, filename, uploaded, variants}).

    Public images take our id as theirs, so a retry after a lost answer finds the first copy.
    Cloudflare refuses custom ids on images that require signed URLs, so those get its own."""
    signed = bool(settings.CLOUDFLARE_IMAGES_SIGNING_KEY)
    fields = {"metadata": json.dumps(metadata),
              "requireSignedURLs": "true" if signed else "false"}
    if not signed:
        fields["id"] = image_id
    try:
        return _call("POST", "/images/v1", files={"file": (filename, data, content_type)},
                     data=fields)
    except CloudflareImagesError as exc:
        if not signed and (exc.code == ALREADY_EXISTS or exc.status == 409):
            return details(image_id)  # an earlier try got through
        raise


def details(cf_id: str) -> dict:
    return _call("GET", f"/images/v1/{cf_id}")


def delete(cf_id: str) -> None:
    try:
        _call("DELETE", f"/images/v1/{cf_id}")
    except CloudflareImagesError as exc:
        if exc.code != NOT_FOUND and exc.status != 404:
            raise


def pick_variant(variants: list[str], name: str) -> str:
    """The URL of variant `name` (its last path segment), else the first one."""
    for url in variants:
        if urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1] == name:
            return url
    return variants[0] if variants else ""


def sign(url: str, *, now: float | None = None) -> str:
    """A URL that expires, as Cloudflare checks it: sig = HMAC-SHA256(key, path?exp=...)."""
    key = settings.CLOUDFLARE_IMAGES_SIGNING_KEY
    if not key:
        return url
    expires = int((now or time.time()) + settings.CLOUDFLARE_IMAGES_URL_SECONDS)
    parts = urlsplit(url)
    to_sign = f"{parts.path}?exp={expires}"
    signature = hmac.new(key.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    return f"{parts.scheme}://{parts.netloc}{to_sign}&sig={signature}"


def delivery_url(image) -> str | None:
    """Where to send the browser for the original, or None to serve it from our storage."""
    if not (enabled() and image.cf_url):
        return None
    return sign(image.cf_url)


def publish(image) -> bool:
    """Upload `image` if it has no copy yet. True when it has one afterwards. Raises
    CloudflareImagesError (see `.transient`) when Cloudflare refuses or cannot be reached, and
    PrivateModeRefused in private mode (nothing is sent)."""
    refuse_outside("image delivery", "cloudflare")
    if image.cf_image_id:
        return True
    with image.file.open("rb") as source:
        data = source.read()
    result = upload(data, image_id=str(image.pk), filename=f"{image.pk}.{image.extension}",
                    content_type=image.content_type,
                    # Nothing personal leaves: no prompt, no e-mail, only our ids.
                    metadata={"source": "likeness", "generation": str(image.generation_id)})
    if not isinstance(result, dict) or not result.get("id"):
        raise CloudflareImagesError("Cloudflare Images answered without an image id")
    url = pick_variant(list(result.get("variants") or []), settings.CLOUDFLARE_IMAGES_VARIANT)
    image.cf_image_id, image.cf_url = str(result["id"]), url
    type(image).objects.filter(pk=image.pk).update(cf_image_id=image.cf_image_id,
                                                   cf_url=image.cf_url)
    return True


class CloudflareDelivery(Delivery):
    name = "cloudflare"

    def enabled(self) -> bool:
        return enabled()

    def publish(self, image) -> bool:
        return publish(image)

    def delete(self, copy_id: str) -> None:
        delete(copy_id)

    def delivery_url(self, image) -> str | None:
        return delivery_url(image)
