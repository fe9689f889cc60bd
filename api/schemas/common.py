"""The shared parts of the request and response shapes: the enums built from the catalogue and
the text check every request field gets; requests refuse unknown fields."""

from typing import Literal

from ninja import Schema
from pydantic import ConfigDict, field_validator
from pydantic_core import PydanticCustomError

from generation.catalogue import (
    ASPECT_RATIOS,
    BASE_MODELS,
)
from generation.styles import STYLES
from likeness.text import text_problem
from studio.models import PersonalModel

# Built from the catalogue, so the OpenAPI enums follow it.
BaseModelId = Literal[tuple(BASE_MODELS)]  # type: ignore[valid-type]
AspectRatio = Literal[tuple(ASPECT_RATIOS)]  # type: ignore[valid-type]
SubjectClass = Literal[tuple(PersonalModel.SubjectClass.values)]  # type: ignore[valid-type]
ModelStatus = Literal[tuple(PersonalModel.Status.values)]  # type: ignore[valid-type]
StyleId = Literal[tuple(STYLES)]  # type: ignore[valid-type]


def _texts(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _texts(item)


class TextChecked(Schema):
    """Every text a request sends, in its body or its query, is text (likeness.text): no NUL
    or other control character, no unpaired surrogate (422 validation_error)."""

    @field_validator("*", mode="after")
    @classmethod
    def plain_text(cls, value):
        for text in _texts(value):
            if problem := text_problem(text):
                raise PydanticCustomError("invalid_text", problem)
        return value


class RequestSchema(TextChecked):
    model_config = ConfigDict(extra="forbid")
