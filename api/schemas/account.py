"""Shapes of the account, its credits and plans, and the catalogue (base models, styles)."""

from datetime import datetime
from typing import Literal

from ninja import Field, Schema


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
