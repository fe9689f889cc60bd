"""Creating generations: validation, credit reservation and the job, in one transaction.

A request names a base model or a personal model (which runs on FLUX.1 dev with its LoRA) and
optionally a style. The prompt is kept as written and as it will be sent: the personal model's
trigger word inserted when missing, then the style's template applied."""

import random
import re
import uuid

from django.db import transaction

from accounts.plans import get_plan
from credits import actions as credits
from generation import policy
from generation.catalogue import (
    ASPECT_RATIOS,
    BASE_MODELS,
    DEFAULT_ASPECT_RATIO,
    DEFAULT_BASE_MODEL,
    DEFAULT_LORA_SCALE,
    LORA_SCALE_RANGE,
    MAX_BATCH_PROMPTS,
    MAX_IMAGES_PER_REQUEST,
    MAX_PROMPT_LENGTH,
    MAX_SEED,
    PERSONAL_BASE_MODEL,
    credits_per_image,
    size_for,
)
from generation.loras import model_lora
from generation.models import Generation
from generation.styles import STYLES
from generation.tasks import run_generation
from jobs.queue import enqueue
from likeness.errors import Conflict, InvalidInput, NotFound
from likeness.http import check_public_url
from likeness.text import clean_text, visible
from providers.private import refuse_route
from providers.routing import can_route
from studio.models import PersonalModel
from studio.slots import ensure_usable


class ModelNotFound(NotFound):
    """No personal model of this customer has that id (another account's included: 404)."""


def clean_request(*, prompt, aspect_ratio=DEFAULT_ASPECT_RATIO, num_images=1,
                  base_model=DEFAULT_BASE_MODEL, seed=None, steps=None, guidance=None,
                  negative_prompt="", style=None, lora_scale=None, likeness_guarantee=None,
                  likeness_min_score=None) -> dict:
    prompt = clean_text((prompt or "").strip(), "prompt")
    if not visible(prompt):  # empty, or only spaces and invisible characters
        raise InvalidInput("prompt", "Write a prompt: describe the picture you want.")
    if len(prompt) > MAX_PROMPT_LENGTH:
        raise InvalidInput("prompt", f"The prompt is {len(prompt):,} characters long; "
                                     f"the limit is {MAX_PROMPT_LENGTH:,}.")
    if aspect_ratio not in ASPECT_RATIOS:
        raise InvalidInput("aspect_ratio", f"Unknown aspect ratio {aspect_ratio!r}; choose one of "
                                           f"{', '.join(ASPECT_RATIOS)}.")
    if base_model not in BASE_MODELS:
        raise InvalidInput("base_model", f"Unknown base model {base_model!r}; choose one of "
                                         f"{', '.join(BASE_MODELS)}.")
    model = BASE_MODELS[base_model]
    if isinstance(num_images, bool) or not isinstance(num_images, int) or not (
        1 <= num_images <= MAX_IMAGES_PER_REQUEST
    ):
        raise InvalidInput("num_images", f"Ask for 1 to {MAX_IMAGES_PER_REQUEST} images.")
    if seed is not None and not (0 <= seed <= MAX_SEED):
        raise InvalidInput("seed", f"The seed must be between 0 and {MAX_SEED}.")
    if steps is not None and not (1 <= steps <= 50):
        raise InvalidInput("steps", "Steps must be between 1 and 50.")
    if steps is not None and steps > model.max_steps:
        raise InvalidInput("steps", f"{model.name} takes at most {model.max_steps} steps.")
    if guidance is not None and not (0 <= guidance <= 20):
        raise InvalidInput("guidance", "Guidance must be between 0 and 20.")
    clean_text(negative_prompt or "", "negative_prompt")
    if len(negative_prompt or "") > MAX_PROMPT_LENGTH:
        raise InvalidInput("negative_prompt", "The negative prompt is too long.")
    if style not in (None, "") and style not in STYLES:
        raise InvalidInput("style", f"Unknown style {style!r}; choose one of "
                                    f"{', '.join(STYLES)}.")
    low, high = LORA_SCALE_RANGE
    if lora_scale is not None and not (low <= lora_scale <= high):
        raise InvalidInput("lora_scale", f"The personal model's strength must be between {low} "
                                         f"and {high}.")
    if likeness_guarantee is not None and not isinstance(likeness_guarantee, bool):
        raise InvalidInput("likeness_guarantee", "The likeness guarantee is on (true) or off "
                                                 "(false).")
    if likeness_min_score is not None and (
            isinstance(likeness_min_score, bool) or not isinstance(likeness_min_score, int)
            or not 1 <= likeness_min_score <= 100):
        raise InvalidInput("likeness_min_score", "The likeness bar is a score from 1 to 100.")
    return {
        "prompt": prompt,
        "aspect_ratio": aspect_ratio,
        "num_images": num_images,
        "base_model": base_model,
        "seed": seed,
        "steps": steps,
        "guidance": guidance,
        "negative_prompt": (negative_prompt or "").strip(),
        "style": style or "",
        "lora_scale": lora_scale,
        "likeness_guarantee": likeness_guarantee,
        "likeness_min_score": likeness_min_score,
    }


def owned_model(user, model_id) -> PersonalModel:
    """The caller's personal model in any state; ModelNotFound for an unknown id or another
    account's."""
    try:
        pk = uuid.UUID(str(model_id))
    except ValueError:
        raise ModelNotFound("No personal model with this id.")
    model = PersonalModel.objects.filter(user=user, pk=pk).first()
    if model is None:
        raise ModelNotFound("No personal model with this id.")
    return model


def personal_model_for(user, model_id):
    """The caller's ready, usable personal model. ModelNotFound for an unknown id or another
    account's; Conflict when it is not trained yet; LimitReached beyond the plan's slots."""
    model = owned_model(user, model_id)
    if model.status != PersonalModel.Status.READY or not (
            model.weights or model.provider_version or model.hf_repo_id):
        raise Conflict(f"The personal model {model.name!r} is not ready yet "
                       f"(it is {model.get_status_display().lower()}); generate with it once "
                       "its training has finished.", model_id=str(model.pk), status=model.status)
    ensure_usable(model)
    return model


def names(prompt: str, trigger_word: str) -> bool:
    """Whether the prompt has the trigger word in it, as a word of its own."""
    return bool(re.search(rf"(?<![\w]){re.escape(trigger_word)}(?![\w])", prompt,
                          re.IGNORECASE))


def with_trigger_word(prompt: str, trigger_word: str, subject_class: str) -> str:
    """The prompt as it must reach the LoRA: with the trigger word in it."""
    if names(prompt, trigger_word):
        return prompt
    return f"a photo of {trigger_word} {subject_class}, {prompt}"


def with_trigger_words(prompt: str, first, second) -> str:
    """Two people: both trigger words in the prompt, "… and …" in front when both are missing
    (one missing: it is put in front of the prompt like a single model's)."""
    if not names(prompt, first.trigger_word) and not names(prompt, second.trigger_word):
        return (f"a photo of {first.trigger_word} {first.subject_class} and "
                f"{second.trigger_word} {second.subject_class} together, {prompt}")
    for model in (second, first):  # the missing one in front, the first person first
        prompt = with_trigger_word(prompt, model.trigger_word, model.subject_class)
    return prompt


def prompt_as_sent(prompt: str, *, style: str = "", model=None, second=None) -> str:
    if model is not None and second is not None:
        prompt = with_trigger_words(prompt, model, second)
    elif model is not None:
        prompt = with_trigger_word(prompt, model.trigger_word, model.subject_class)
    if style:
        prompt = STYLES[style].apply(prompt)
    return prompt


def price(base_model: str, num_images: int, *, personal: bool = False) -> int:
    return credits_per_image(base_model, personal=personal) * num_images


def second_model_for(user, model, second_id):
    """Two people in one picture: the second person's ready model, checked like the first;
    None without one."""
    if second_id in (None, ""):
        return None
    if model is None:
        raise InvalidInput("model_id", "Two people need two personal models: choose the "
                                       "first person's model too.")
    second = personal_model_for(user, second_id)
    if second.pk == model.pk:
        raise InvalidInput("second_model_id", "Choose two different personal models for two "
                                              "people in one picture.")
    return second


def prepare(user, params: dict):
    """A request checked and completed (personal models, style defaults, routing), not yet
    recorded: (cleaned parameters, personal model or None); a second person's model is
    cleaned["second_model"]. Raises like create_generation."""
    model_id = params.pop("model_id", None)
    second_id = params.pop("second_model_id", None)
    callback_url = check_public_url(params.pop("callback_url", None))
    cleaned = clean_request(**params)
    cleaned["callback_url"] = callback_url
    model = personal_model_for(user, model_id) if model_id not in (None, "") else None
    second = cleaned["second_model"] = second_model_for(user, model, second_id)
    if model is not None:
        cleaned["base_model"] = PERSONAL_BASE_MODEL
    style = STYLES.get(cleaned["style"])
    if style is not None:
        # The style's parameters fill in what the customer left open.
        if cleaned["guidance"] is None:
            cleaned["guidance"] = style.guidance
        if cleaned["steps"] is None and style.steps:
            cleaned["steps"] = min(style.steps, BASE_MODELS[cleaned["base_model"]].max_steps)
        if not cleaned["negative_prompt"]:
            cleaned["negative_prompt"] = style.negative_prompt
    sent = prompt_as_sent(cleaned["prompt"], style=cleaned["style"], model=model, second=second)
    for subject in (model, second) if second is not None else (model,):
        # A pair is held to the stricter of its two models' levels (a child's: strict).
        policy.enforce(sent, cleaned["negative_prompt"], model=subject)
    if not BASE_MODELS[cleaned["base_model"]].supports_negative_prompt:
        cleaned["negative_prompt"] = ""
    _ensure_routable(cleaned["base_model"], model, second)
    return cleaned, model


def _ensure_routable(base_model: str, model, second) -> None:
    refuse_route(base_model, personal=model is not None)  # PRIVATE_MODE: before any charge
    if second is not None:
        if not can_route(base_model, personal=True, lora=model_lora(model, 1.0),
                         second_lora=model_lora(second, 1.0)):
            raise InvalidInput("second_model_id", "No configured image provider takes two "
                                                  "personal models in one picture right now.")
        return
    if not can_route(base_model, personal=model is not None):
        raise InvalidInput("model_id" if model else "base_model",
                           f"No configured image provider offers "
                           f"{'personal models' if model else base_model} right now.")


def _lora_scale(asked, model) -> float | None:
    """The strength asked for, else the model's own (its validation round's), else the
    catalogue's default; None without a personal model."""
    if model is None:
        return None
    if asked is not None:
        return asked
    return model.default_lora_scale if model.default_lora_scale is not None \
        else DEFAULT_LORA_SCALE


def _guarantee(user, asked, model, second=None) -> bool:
    """The likeness guarantee applies to personal models with reference faces (pets and
    models trained before faces were kept have none); the plan gives the default. Not to two
    people in one picture: which face is whose is not measured (docs/api.md)."""
    if model is None or not model.face_references or second is not None:
        return False
    return get_plan(user.plan).likeness_guarantee if asked is None else asked


def create_one(user, cleaned: dict, model, *, batch_id=None, pack_run=None,
            pack_item="") -> Generation:
    width, height = size_for(cleaned["base_model"], cleaned["aspect_ratio"])
    seed = cleaned["seed"] if cleaned["seed"] is not None else random.randint(0, MAX_SEED - 8)
    cost = price(cleaned["base_model"], cleaned["num_images"], personal=model is not None)
    second = cleaned.get("second_model")
    generation = Generation.objects.create(
        user=user,
        prompt=cleaned["prompt"],
        prompt_sent=prompt_as_sent(cleaned["prompt"], style=cleaned["style"], model=model,
                                   second=second),
        negative_prompt=cleaned["negative_prompt"],
        base_model=cleaned["base_model"],
        personal_model=model,
        lora_scale=_lora_scale(cleaned["lora_scale"], model),
        second_model=second,
        second_lora_scale=_lora_scale(None, second),
        likeness_guarantee=_guarantee(user, cleaned["likeness_guarantee"], model, second),
        likeness_min_score=cleaned["likeness_min_score"] if model and not second else None,
        style=cleaned["style"],
        aspect_ratio=cleaned["aspect_ratio"],
        width=width,
        height=height,
        num_images=cleaned["num_images"],
        seed=seed,
        steps=cleaned["steps"],
        guidance=cleaned["guidance"],
        credits_reserved=cost,
        batch_id=batch_id,
        pack_run=pack_run,
        pack_item=pack_item,
        slots=["queued"] * cleaned["num_images"],
        callback_url=cleaned.get("callback_url", ""),
    )
    credits.spend(user, cost, reason=f"Generation of {cleaned['num_images']} image(s)",
                  reference=f"gen:{generation.id}:reserve")
    enqueue(run_generation, str(generation.id))
    return generation


def create_generation(user, **params) -> Generation:
    """Validate, reserve the credits and queue the job, all or nothing.

    Raises InvalidInput, ModelNotFound, Conflict, LimitReached or credits.InsufficientCredits,
    in which case nothing was recorded."""
    cleaned, model = prepare(user, dict(params))
    with transaction.atomic():
        return create_one(user, cleaned, model)


def create_batch(user, prompts: list[str], **params) -> list[Generation]:
    """Several prompts with the same settings, queued at once: all of them or none (the credits
    for the whole batch must be there)."""
    prompts = [p.strip() for p in prompts if p and p.strip()]
    if not prompts:
        raise InvalidInput("prompt", "Write at least one prompt, one per line.")
    if len(prompts) > MAX_BATCH_PROMPTS:
        raise InvalidInput("prompt", f"A batch holds at most {MAX_BATCH_PROMPTS} "
                                     f"prompts; this one has {len(prompts)}.")
    prepared = [prepare(user, {**params, "prompt": prompt}) for prompt in prompts]
    batch_id = uuid.uuid4()
    return create_prepared(user, prepared, lambda cleaned, model: create_one(
        user, cleaned, model, batch_id=batch_id))


def create_prepared(user, prepared: list[tuple[dict, object]], create) -> list:
    """`create(cleaned, model)` for every prepared request in one transaction: all of them or
    none (the credits for all must be there; InsufficientCredits then names the total)."""
    total = sum(price(c["base_model"], c["num_images"], personal=m is not None)
                for c, m in prepared)
    try:
        with transaction.atomic():
            return [create(cleaned, model) for cleaned, model in prepared]
    except credits.InsufficientCredits:
        # Say what the whole set needs, not what its last request lacked.
        raise credits.InsufficientCredits(total, credits.get_balance(user))


# --- Reproducing an image -------------------------------------------------------------------
def settings_of(image) -> dict:
    """The parameters that made this image, for "use these settings" (the prompt as written)."""
    meta = image.metadata or {}
    generation = image.generation
    params = {
        "prompt": meta.get("prompt") or image.prompt,
        "base_model": image.base_model,
        "aspect_ratio": image.aspect_ratio,
        "num_images": 1,
        "seed": image.seed,
        "steps": meta.get("steps"),
        "guidance": meta.get("guidance"),
        "negative_prompt": meta.get("negative_prompt") or "",
        "style": meta.get("style") or (generation.style if generation else "") or "",
    }
    model_id = image.personal_model_id or (meta.get("lora") or {}).get("model_id")
    if model_id:
        params["model_id"] = str(model_id)
        params["lora_scale"] = (meta.get("lora") or {}).get("scale")
    second_id = (generation.second_model_id if generation else None) or (
        meta.get("second_lora") or {}).get("model_id")
    if model_id and second_id:
        params["second_model_id"] = str(second_id)
    return params


def vary_seed(user, image) -> Generation:
    """The same image's settings with a new seed: one image, charged like any other."""
    params = settings_of(image)
    params["seed"] = None
    if params.get("negative_prompt") and params.get("style"):
        # The style's own negative prompt is filled in again by prepare.
        style = STYLES.get(params["style"])
        if style and params["negative_prompt"] == style.negative_prompt:
            params["negative_prompt"] = ""
    return create_generation(user, **params)
