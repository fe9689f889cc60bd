"""Shapes of personal models, their consent, photos and trainings."""

from datetime import datetime
from typing import Literal

from ninja import Field, Schema

from api.schemas.common import (
    ModelStatus,
    RequestSchema,
    SubjectClass,
)


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
