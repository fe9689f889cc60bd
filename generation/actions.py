"""Creating generations: validation, credit reservation and the job, in one transaction."""

import random

from django.conf import settings
from django.db import transaction

from credits import actions as credits
from generation.catalogue import (
    ASPECT_RATIOS,
    BASE_MODELS,
    DEFAULT_ASPECT_RATIO,
    DEFAULT_BASE_MODEL,
    MAX_IMAGES_PER_REQUEST,
)
from generation.models import Generation
from jobs.queue import enqueue
from likeness.errors import InvalidInput  # noqa: F401  (raised here, caught by callers)

MAX_SEED = 2**31 - 1


def clean_request(*, prompt, aspect_ratio=DEFAULT_ASPECT_RATIO, num_images=1,
                  base_model=DEFAULT_BASE_MODEL, seed=None, steps=None, guidance=None,
                  negative_prompt="") -> dict:
    prompt = (prompt or "").strip()
    if not prompt:
        raise InvalidInput("prompt", "Write a prompt: describe the picture you want.")
    if len(prompt) > settings.MAX_PROMPT_LENGTH:
        raise InvalidInput("prompt", f"The prompt is {len(prompt):,} characters long; "
                                     f"the limit is {settings.MAX_PROMPT_LENGTH:,}.")
    if aspect_ratio not in ASPECT_RATIOS:
        raise InvalidInput("aspect_ratio", f"Unknown aspect ratio {aspect_ratio!r}; choose one of "
                                           f"{', '.join(ASPECT_RATIOS)}.")
    if base_model not in BASE_MODELS:
        raise InvalidInput("base_model", f"Unknown base model {base_model!r}; choose one of "
                                         f"{', '.join(BASE_MODELS)}.")
    if isinstance(num_images, bool) or not isinstance(num_images, int) or not (
        1 <= num_images <= MAX_IMAGES_PER_REQUEST
    ):
        raise InvalidInput("num_images", f"Ask for 1 to {MAX_IMAGES_PER_REQUEST} images.")
    if seed is not None and not (0 <= seed <= MAX_SEED):
        raise InvalidInput("seed", f"The seed must be between 0 and {MAX_SEED}.")
    if steps is not None and not (1 <= steps <= 50):
        raise InvalidInput("steps", "Steps must be between 1 and 50.")
    if guidance is not None and not (0 <= guidance <= 20):
        raise InvalidInput("guidance", "Guidance must be between 0 and 20.")
    if len(negative_prompt or "") > settings.MAX_PROMPT_LENGTH:
        raise InvalidInput("negative_prompt", "The negative prompt is too long.")
    return {
        "prompt": prompt,
        "aspect_ratio": aspect_ratio,
        "num_images": num_images,
        "base_model": base_model,
        "seed": seed,
        "steps": steps,
        "guidance": guidance,
        "negative_prompt": (negative_prompt or "").strip(),
    }


def price(base_model: str, num_images: int) -> int:
    return BASE_MODELS[base_model].credits_per_image * num_images


def create_generation(user, **params) -> Generation:
    """Validate, reserve the credits and queue the job, all or nothing.

    Raises InvalidInput or credits.InsufficientCredits, in which case nothing was recorded."""
    cleaned = clean_request(**params)
    width, height = ASPECT_RATIOS[cleaned["aspect_ratio"]]
    seed = cleaned["seed"] if cleaned["seed"] is not None else random.randint(0, MAX_SEED - 8)
    cost = price(cleaned["base_model"], cleaned["num_images"])
    from generation.tasks import run_generation

    with transaction.atomic():
        generation = Generation.objects.create(
            user=user,
            prompt=cleaned["prompt"],
            negative_prompt=cleaned["negative_prompt"],
            base_model=cleaned["base_model"],
            aspect_ratio=cleaned["aspect_ratio"],
            width=width,
            height=height,
            num_images=cleaned["num_images"],
            seed=seed,
            steps=cleaned["steps"],
            guidance=cleaned["guidance"],
            credits_reserved=cost,
        )
        credits.spend(user, cost, reason=f"Generation of {cleaned['num_images']} image(s)",
                      reference=f"gen:{generation.id}:reserve")
        enqueue(run_generation, str(generation.id))
    return generation
