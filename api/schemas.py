"""Request and response shapes. Requests refuse unknown fields, so a typo is an error rather
than a silently ignored option."""

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import ConfigDict, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from generation.catalogue import (
    ASPECT_RATIOS,
    BASE_MODELS,
    DEFAULT_ASPECT_RATIO,
    DEFAULT_BASE_MODEL,
    MAX_IMAGES_PER_REQUEST,
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


# --- Account --------------------------------------------------------------------------------
class ModelSlots(Schema):
    used: int
    limit: int


class MeOut(Schema):
    id: str = Field(description="The account's public id.")
    email: str
    name: str
    plan: str = Field(description="The plan's id, as in GET /plans.")
    credits: int = Field(description="The credit balance.")
    model_slots: ModelSlots


class CreditEntryOut(Schema):
    id: str
    delta: int = Field(description="Credits added (positive) or taken (negative).")
    balance_after: int
    reason: str
    kind: Literal["grant", "spend", "refund", "adjustment"]
    reference: str
    created_at: datetime


class CreditsOut(Schema):
    balance: int
    items: list[CreditEntryOut]
    next_cursor: str | None


class PlanOut(Schema):
    id: str
    name: str
    price_cents: int
    interval: Literal["month", "once"]
    monthly_credits: int
    model_slots: int
    private_models: bool
    likeness_guarantee: bool = Field(description="Whether generations with a personal model "
                                                 "have the likeness guarantee by default.")
    tagline: str
    features: list[str]


# --- Catalogue ------------------------------------------------------------------------------
class BaseModelOut(Schema):
    id: str
    name: str
    description: str
    credits_per_image: int
    supports_custom_model: bool = Field(description="Personal models (model_id) run on it.")
    custom_model_credits_per_image: int | None = Field(
        description="The price per image with a personal model, when supported.")
    supports_negative_prompt: bool
    default_steps: int
    max_steps: int
    aspect_ratios: list[str] = Field(description="The aspect ratios this model can make.")
    sizes: dict[str, list[int]] = Field(description="aspect ratio -> [width, height] in pixels.")
    providers: list[str] = Field(description="The providers that serve it, in the order they "
                                             "are tried (failover).")
    available: bool = Field(description="Whether a configured provider serves it now (the "
                                        "live catalogue: `manage.py check_providers`).")
    family: str = Field(description="Its architecture: `flux1` or `flux2`. Personal models "
                                    "are FLUX.1 LoRAs and run only on FLUX.1 [dev].")
    licence: str = Field(description="The licence of its weights.")
    licence_url: str
    commercial_weights: bool = Field(description="Whether its weights may be run commercially "
                                                 "on one's own hardware.")


class StyleOut(Schema):
    id: str
    name: str
    description: str
    template: str = Field(description="How the prompt is rewritten; {prompt} is yours.")
    negative_prompt: str
    guidance: float | None
    steps: int | None
    aspect_ratio: str | None = Field(description="The shape the style suggests.")
    suggestions: list[str]


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


# --- Personal models ------------------------------------------------------------------------
class ModelIn(RequestSchema):
    name: str = Field(min_length=1, max_length=80, description="What you call the subject.",
                      examples=["Alice"])
    subject_class: SubjectClass = Field(description="Who or what the model is of.")
    trigger_word: str | None = Field(
        None, description="The word that stands for the subject in prompts: 3-24 letters, "
                          "digits or underscores, starting with a letter, unique on this "
                          "installation. Left out, a made-up word is chosen.",
        examples=["zorvek"])


class LikenessAtScaleOut(Schema):
    scale: float
    median: float
    low: int
    high: int


class LikenessReportOut(Schema):
    status: Literal["running", "done", "failed"]
    median: float | None = Field(description="The median likeness (0-100) at best_scale.")
    best_scale: float | None
    against: Literal["held_out", "training"] | None = Field(
        description="Scored against photos held out of training, or the training photos.")
    samples: int | None = Field(description="Test pictures made.")
    error: str | None
    scales: list[LikenessAtScaleOut]


class ModelOut(Schema):
    id: str
    name: str
    subject_class: SubjectClass
    trigger_word: str
    status: ModelStatus = Field(description="draft -> queued -> training -> ready | failed | "
                                            "canceled. Photos can change only in draft.")
    photo_count: int
    cover_thumbnail_url: str | None = Field(description="The first photo's thumbnail, if any.")
    steps: int = Field(description="Training steps.")
    learning_rate: float
    lora_rank: int
    consent_status: str = Field(description="not_required (pets), missing, outdated (the photos "
                                            "changed since), mismatch (the last selfie did not "
                                            "match), verified or overridden (accepted by "
                                            "staff). Training needs verified or overridden.")
    suspended: bool = Field(description="Staff suspended the model after a report: it neither "
                                        "trains nor generates.")
    default_lora_scale: float | None = Field(
        description="The LoRA strength generations use by default: the one whose test pictures "
                    "looked most like the subject in the validation round (null before it).")
    likeness_report: LikenessReportOut | None = Field(
        description="The validation round after training (null before it, and for pets).")
    created_at: datetime
    updated_at: datetime


class ConsentOut(Schema):
    id: int
    model_id: str
    method: str = Field(description="selfie (an adult: matched to the training photos) or "
                                    "guardian (a child: the parent's statement).")
    status: str = Field(description="verified or mismatch.")
    valid: bool = Field(description="It lets the model train: verified, or a mismatch "
                                    "accepted by staff.")
    match_distance: float | None = Field(description="The selfie's face against the photos' "
                                                     "faces: the median distance.")
    threshold: float | None = Field(description="The most a match may be.")
    photo_count: int
    message: str
    created_at: datetime


class ConsentStateOut(Schema):
    required: bool
    method: str | None = Field(description="selfie or guardian; null for pets.")
    status: str = Field(description="As the model's consent_status.")
    statements: list[str] = Field(description="What rights_confirmed (and guardian_confirmed) "
                                              "confirm, word for word.")
    consent: ConsentOut | None = Field(description="The consent that covers the photos now, "
                                                   "else the latest attempt.")


class ModelListOut(Schema):
    items: list[ModelOut]
    next_cursor: str | None


class PhotoOut(Schema):
    id: str
    filename: str = Field(description="The name it was uploaded with.")
    width: int = Field(description="Of the stored photo (upright, long side at most 2048 px).")
    height: int
    thumbnail_url: str = Field(description="A WebP thumbnail (GET, same auth as the API).")
    file_url: str = Field(description="The stored photo: a JPEG with every metadata field "
                                      "stripped (GET, same auth as the API).")
    identity: Literal["same", "borderline", "different", ""] = Field(
        description="The face against the model's other photos: same person, borderline (keep it "
                    "only if it is the same person), different (training is refused until it is "
                    "removed), or empty while fewer than three faces can be compared, and for "
                    "pets.")
    identity_distance: float | None = Field(
        description="The face's distance from the set's reference face (0 is identical; up to "
                    "0.5 is the same person, over 0.65 someone else).")
    held_out: bool = Field(description="Kept out of training so that the trained model can be "
                                       "scored against a face it never saw.")
    created_at: datetime


class PhotoListOut(Schema):
    items: list[PhotoOut]
    next_cursor: str | None


class RejectedPhotoOut(Schema):
    filename: str
    code: str = Field(description="unsupported_format, corrupt, empty, animated, file_too_large, "
                                  "too_many_pixels, decompression_bomb, request_pixel_limit (send "
                                  "it again in another request), polyglot, trailing_data, "
                                  "metadata_too_large, too_small, blurry, no_face, face_too_small, "
                                  "multiple_faces, duplicate, near_duplicate, different_person or "
                                  "too_many_photos.")
    reason: str = Field(description="What is wrong, for a person.")


class PhotoUploadOut(Schema):
    accepted: list[PhotoOut] = Field(description="Stored photos, in the order sent.")
    rejected: list[RejectedPhotoOut] = Field(description="Refused files, in the order sent; "
                                                         "nothing of them is kept.")
    photo_count: int = Field(description="The model's photos after this upload.")


class TrainIn(RequestSchema):
    provider: str | None = Field(None, description="demo, replicate or fal; the deployment's "
                                                   "default when left out.")
    steps: int | None = Field(None, description="Training steps, 100-6000 (default 1000).")
    learning_rate: float | None = Field(None, description="0.00001-0.01 (default 0.0004).")
    lora_rank: int | None = Field(None, description="1-128 (default 16).")
    callback_url: str | None = Field(None, description="POSTed the training when it ends, "
                                                       "signed (see Likeness-Signature).")


class TrainingEventOut(Schema):
    stage: str
    status: str
    message: str
    at: datetime


class TrainingOut(Schema):
    id: str
    model_id: str
    provider: str
    status: str = Field(description="queued, running, succeeded, failed or canceled.")
    stage: str = Field(description="packaging, uploading, training, publishing or done.")
    progress: float = Field(description="0.0-1.0 across the whole pipeline.")
    events: list[TrainingEventOut]
    cost_estimate_cents: float
    cost_actual_cents: float | None
    credits: int
    credits_refunded: bool
    steps: int
    learning_rate: float
    lora_rank: int
    cancel_requested: bool
    cancel_refused: bool = Field(description="The provider could not stop the training (it "
                                             "had started): it may still finish; if it ends "
                                             "without a model the credits come back.")
    callback_url: str | None = None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    error_code: str | None


class TrainingListOut(Schema):
    items: list[TrainingOut]
    next_cursor: str | None


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
