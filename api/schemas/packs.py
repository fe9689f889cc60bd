"""Shapes of packs and their runs, and the prompt helper."""

from datetime import datetime

from ninja import Field, Schema

from api.schemas.common import (
    RequestSchema,
    StyleId,
)
from api.schemas.images import (
    GenerationOut,
)


# --- Packs ----------------------------------------------------------------------------------
class PackPromptOut(Schema):
    title: str
    style: str | None
    aspect_ratio: str


class PicturePackOut(Schema):
    id: str = Field(description="The pack's id (its slug).")
    name: str
    description: str
    subjects: list[str] = Field(description="The subject classes it is made for.")
    images: int = Field(description="Pictures one run makes (one per prompt).")
    credits: int = Field(description="The price of one run.")
    prompts: list[PackPromptOut]


class PicturePackIn(RequestSchema):
    likeness_guarantee: bool | None = Field(
        None, strict=True, description="As for POST /generations (default: the plan's).")


class PicturePackRunOut(Schema):
    id: str
    pack: str | None = Field(description="The pack's id (null if staff deleted it).")
    pack_name: str
    model_id: str | None
    credits_reserved: int
    credits_charged: int = Field(description="Once finished: what was charged (failed images "
                                             "are refunded).")
    finished: bool
    generations: list[GenerationOut]
    created_at: datetime


class ExpandIn(RequestSchema):
    words: str = Field(max_length=2000, examples=["beach sunset, happy"])
    model_id: str | None = Field(None, description="A ready personal model of yours.")
    style: StyleId | None = None


class ExpandOut(Schema):
    prompt: str
