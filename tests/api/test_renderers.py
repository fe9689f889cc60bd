"""The API's JSON (api.renderers, orjson) holds the values ninja's own renderer wrote: the same
data once parsed, times in Django's format, UTF-8 text; what orjson cannot write goes to the
standard encoder, and what no encoder can write is still an error."""

import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum

import pytest
from ninja.renderers import JSONRenderer as NinjasRenderer

from api.api import api
from api.renderers import JSONRenderer, dumps


class Colour(Enum):
    RED = "red"


VALUES = {
    "time": datetime(2026, 1, 1, 10, 0, 5, 123456, tzinfo=UTC),
    "day": date(2026, 1, 2),
    "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "price": Decimal("9.90"),
    "text": "un café à Paris — «ünïcode» ✓",
    "nested": {"a": [1, None, "x", 3.5, True]},
}


def test_the_values_are_ninjas():
    ours = dumps(VALUES)
    theirs = NinjasRenderer().render(None, VALUES, response_status=200)
    assert json.loads(ours) == json.loads(theirs)
    assert json.loads(ours)["time"] == "2026-01-01T10:00:05.123Z"
    assert "un café à Paris".encode() in ours  # UTF-8, not \\u escapes
    # A plain Enum (the API's schemas hold none) as its value; ninja's wrote "Colour.RED".
    assert json.loads(dumps({"colour": Colour.RED})) == {"colour": "red"}
    assert isinstance(api.renderer, JSONRenderer)
    assert api.get_content_type() == JSONRenderer.content_type == "application/json; charset=utf-8"


def test_what_orjson_cannot_write_goes_to_the_standard_encoder():
    assert json.loads(dumps({"big": 2**70})) == {"big": 2**70}
    assert json.loads(dumps({1: "one"})) == {"1": "one"}
    with pytest.raises(TypeError):
        dumps({"what": object()})


def test_an_answer_reads_as_before(alice, alice_api):
    alice.first_name = "Zoë"
    alice.save()
    response = alice_api.get("/api/v1/me")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(response.content.decode("utf-8")) == response.json()


def test_errors_are_written_the_same_way(alice_api):
    response = alice_api.get("/api/v1/no-such-endpoint")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.content == dumps(response.json())
    assert response.json()["error"]["code"] == "not_found"
