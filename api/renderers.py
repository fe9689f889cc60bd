"""The API's JSON, written by orjson: a page of the gallery spent about a tenth of its time in
the standard library's encoder (bench/gallery_server.py --profile); this writes it in about a
third of that time.

The values are those ninja's own renderer writes: times, dates, decimals, URLs and the rest go
through ninja's encoder (so a time is still `2026-01-01T10:00:05.123Z`), ids are their text.
The bytes differ where JSON leaves a choice (no space after `,` and `:`; non-ASCII text as
UTF-8, not `\\u` escapes) and in two values the standard encoder wrote badly: a float that is
not a number is null (it wrote NaN, which is not JSON), and a plain Enum is its value (ninja
wrote `Colour.RED`; the API's schemas hold none). What orjson cannot write (an integer beyond
64 bits, a key that is not text) goes to the standard library's encoder, as before."""

import json

import orjson
from django.http import HttpResponse
from ninja.renderers import BaseRenderer
from ninja.responses import NinjaJSONEncoder

_ENCODER = NinjaJSONEncoder()
# Times go to ninja's encoder (Django's format, milliseconds and "Z"), not orjson's own.
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME


class JSONRenderer(BaseRenderer):
    media_type = "application/json"
    charset = "utf-8"
    content_type = f"{media_type}; charset={charset}"  # what NinjaAPI.get_content_type() says

    def render(self, request, data, *, response_status: int) -> bytes:
        return dumps(data)


def json_response(data, status: int = 200) -> HttpResponse:
    """An answer the API writes itself (its errors, a page it does not validate again), in
    the bytes and content type of every other answer."""
    return HttpResponse(dumps(data), status=status, content_type=JSONRenderer.content_type)


def dumps(data) -> bytes:
    try:
        return orjson.dumps(data, default=_ENCODER.default, option=_OPTIONS)
    except orjson.JSONEncodeError:  # it raises TypeError too for what no encoder can write
        return json.dumps(data, cls=NinjaJSONEncoder).encode()
