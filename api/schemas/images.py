"""Shapes of generations, images and their versions."""

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import ValidationInfo, field_validator

from api.schemas.common import (
    AspectRatio,
    BaseModelId,
    RequestSchema,
    StyleId,
)
from generation.catalogue import (
    DEFAULT_ASPECT_RATIO,
    DEFAULT_BASE_MODEL,
    MAX_IMAGES_PER_REQUEST,
)


# --- Generations and images -----------------------------------------------------------------
class GenerationIn(RequestSchema):
    prompt: str = Field(description="What the picture should show.",
                        examples=["a portrait in soft window light"])
    base_model: BaseModelId = Field(DEFAULT_BASE_MODEL, description="See GET /base-models.")
    model_id: str | None = Field(None, description="A ready personal model of yours (GET "
                                 "/models); it runs on FLUX.1 dev with its LoRA, and its trigger "
                                 "word is added to the prompt when missing. base_model is then "
                                 "ignored.")
    second_model_id: str | None = Field(
        None, description="Two people in one picture: a second ready personal model of yours, "
                          "sent as a second LoRA beside model_id's (providers that take two: "
                          "Together, fal, Nebius and the demo). Both trigger words go into the "
                          "prompt. Faces can blend: say who is where (\"TOK1 on the left\"). "
                          "Priced like one personal-model image; no likeness score or "
                          "guarantee.")
    style: StyleId | None = Field(None, description="A style id (GET /styles): its prompt "
                                                    "template and parameters; yours win.")
    lora_scale: float | None = Field(None, ge=0.3, le=1.5,
                                     description="The personal model's strength (default: the "
                                                 "model's default_lora_scale, tuned by its "
                                                 "validation round, else 1.0).")
    likeness_guarantee: bool | None = Field(
        None, strict=True,
        description="With a personal model: an image whose likeness is under "
                    "likeness_min_score is made again with a new seed (up to LIKENESS_RETRIES "
                    "times) at no charge, and refunded if it never reaches it. Default: your "
                    "plan's (GET /plans).")
    likeness_min_score: int | None = Field(
        None, ge=1, le=100, strict=True,
        description="The guarantee's bar, 0-100 (default LIKENESS_MIN_SCORE, 50: the face-match "
                    "line).")
    aspect_ratio: AspectRatio = DEFAULT_ASPECT_RATIO
    num_images: int = Field(1, ge=1, le=MAX_IMAGES_PER_REQUEST, strict=True)
    steps: int | None = Field(None, ge=1, le=50, strict=True)
    guidance: float | None = Field(None, ge=0, le=20)
    seed: int | None = Field(None, ge=0, le=2**31 - 1, strict=True)
    negative_prompt: str = ""
    callback_url: str | None = Field(None, description="POSTed the generation when it "
                                                       "finishes, signed (Likeness-Signature).")

    @field_validator("base_model", "aspect_ratio", "num_images", "negative_prompt",
                     mode="before")
    @classmethod
    def null_means_default(cls, value, info: ValidationInfo):
        # Clients often send null for an option they leave out; give it the default.
        return cls.model_fields[info.field_name].default if value is None else value


class GenerationCreatedOut(Schema):
    id: str
    status: Literal["queued", "running", "succeeded", "partial", "failed"]
    credits_reserved: int
    created_at: datetime


class ImageOut(Schema):
    id: str
    generation_id: str
    url: str = Field(description="The full image (GET, same auth as the API).")
    thumbnail_url: str = Field(description="A WebP thumbnail, at most 512 px.")
    width: int
    height: int
    prompt: str
    model: str = Field(description="The base model id.")
    aspect_ratio: str
    seed: int
    favorite: bool
    share_url: str | None
    created_at: datetime
    provider: str
    is_demo: bool = Field(description="Made by the offline demo provider, not by an AI model.")
    model_id: str | None = Field(description="The personal model it was made with, if any.")
    likeness: int | None = Field(
        description="How much it looks like the personal model's subject, 0-100 (its best face "
                    "against the training photos' faces; 50 is the face-match line, 0 no face "
                    "or a stranger). None for images of base models. docs/api.md#likeness.")
    face_count: int | None = Field(description="Faces found (big enough to compare).")
    all_faces_subject: bool = Field(description="A group shot in which every face is the "
                                                "subject's.")
    original_id: str | None = Field(None, description="For a version: the image it was made "
                                                      "from (upscaled, face restored).")
    operation: str | None = Field(None, description="upscale_2x, upscale_4x, face_restore; "
                                                    "None for an image made from a prompt.")
    metadata: dict[str, Any]


class FailureOut(Schema):
    index: int
    code: str
    message: str


class GenerationOut(Schema):
    id: str
    status: Literal["queued", "running", "succeeded", "partial", "failed"]
    stage: Literal["queued", "generating", "saving", "done", "failed"] = Field(
        description="What is happening now, for a progress display.")
    slots: list[str] = Field(description="Per image: queued, generating, saving, done, failed.")
    prompt: str = Field(description="As written.")
    prompt_sent: str = Field(description="As sent to the provider (trigger word, style).")
    model_id: str | None = Field(description="The personal model, if one was used.")
    second_model_id: str | None = Field(
        None, description="The second person's personal model (two people in one picture).")
    style: str | None
    seed: int
    steps: int | None
    guidance: float | None
    negative_prompt: str
    base_model: str
    aspect_ratio: str
    num_images: int
    likeness_guarantee: bool
    likeness_min_score: int | None = Field(description="The guarantee's bar, when it is on.")
    images: list[ImageOut]
    credits_reserved: int
    credits_charged: int
    credits_refunded: int
    error: str | None
    failures: list[FailureOut]
    operation: str | None = Field(None, description="For a new version of an image: what is "
                                                    "done to it (POST /images/{id}/upscale).")
    source_image_id: str | None = Field(None, description="The image a version is made from.")
    created_at: datetime
    finished_at: datetime | None


class ImageListOut(Schema):
    items: list[ImageOut]
    next_cursor: str | None


class ImagePatchIn(RequestSchema):
    favorite: bool | None = Field(None, strict=True, description="Mark or unmark as a favourite.")


class ShareOut(Schema):
    share_url: str = Field(description="The public page of this image; anyone with it sees the "
                                       "image and nothing else of the account.")


class ImageIdsIn(RequestSchema):
    ids: list[str] = Field(min_length=1, description="Image ids (at most 1,000 by default).")


class BulkDeleteOut(Schema):
    deleted: list[str] = Field(description="The ids deleted.")
    not_found: list[str] = Field(description="Ids that are unknown or of another account; "
                                             "nothing was changed for them.")
