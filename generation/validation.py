"""The validation round: after a training, measure how much the model looks like its subject,
and at which LoRA strength it looks most like them.

Each of VALIDATION_PROMPTS is generated at each of VALIDATION_SCALES (with its own fixed seed,
the same at every strength and for every model, so strengths are compared on the same
pictures) through the ordinary routing, and scored (generation.likeness) against the faces held
out of training (studio.actions._hold_out) when there are any, else against the training
photos' faces. The
strength with the best median score becomes the model's default_lora_scale (a tie goes to the
strength nearest 1.0); the report (median, spread and every score per strength) and a thumbnail
of each picture are kept for the model's page. Its provider cost is part of the training's
price (the review page says so); nothing is charged to the customer for it."""

import logging
import statistics
from collections import defaultdict

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from generation import likeness
from generation.catalogue import (
    DEFAULT_LORA_SCALE,
    PERSONAL_BASE_MODEL,
    VALIDATION_PROMPTS,
    VALIDATION_SCALES,
    VALIDATION_SEEDS,
    size_for,
)
from generation.images import decode
from generation.loras import model_lora
from generation.models import ValidationSample
from jobs.retry import retry_or_fail
from jobs.routes import LOCAL, register_kind
from likeness import faces
from likeness.errors import ProviderError
from providers import routing
from providers.interfaces import ImageRequest
from studio.models import PersonalModel

logger = logging.getLogger(__name__)

SAMPLES = len(VALIDATION_PROMPTS) * len(VALIDATION_SCALES)


def wanted(model: PersonalModel) -> bool:
    return (settings.LIKENESS_VALIDATION and model.status == PersonalModel.Status.READY
            and bool(model.face_references))


def prompt_for(model: PersonalModel, template: str) -> str:
    return template.format(subject=f"{model.trigger_word} {model.subject_class}")


@task()
def validate_model(model_id: str, attempt: int = 1):
    model = PersonalModel.objects.filter(pk=model_id).first()
    if model is None or not wanted(model) or model.likeness_report.get("status") == "done":
        return
    PersonalModel.objects.filter(pk=model.pk).update(
        likeness_report={"status": "running", "samples": SAMPLES})
    try:
        made = _generate(model)
    except ProviderError as exc:
        logger.warning("validation of %s: %s", model.pk, exc)
        failed = {"status": "failed", "error": str(exc)[:300]}
        retry_or_fail(validate_model, str(model.pk), attempt=attempt + 1, error=exc,
                      give_up=lambda: PersonalModel.objects.filter(pk=model.pk).update(
                          likeness_report=failed))
        return
    _record(model, made)


def validation_kind(model_id: str, *args, **kwargs) -> str | None:
    """`local` when personal models are drawn by the local GPU engine first (TASK_ROUTES)."""
    model = PersonalModel.objects.filter(pk=model_id).first()
    if model is None or not routing.asks_local_first(
            PERSONAL_BASE_MODEL, personal=True, demo_lora=model.weights_is_demo,
            stored_lora=bool(model.weights)):
        return None
    return LOCAL


register_kind(validate_model, validation_kind)


def _generate(model: PersonalModel) -> list[dict]:
    references = model.holdout_references or model.face_references
    width, height = size_for(PERSONAL_BASE_MODEL, "1:1")
    made = []
    for number, (template, seed) in enumerate(zip(VALIDATION_PROMPTS, VALIDATION_SEEDS,
                                                  strict=True)):
        for scale in VALIDATION_SCALES:
            request = ImageRequest(
                prompt=prompt_for(model, template), width=width, height=height, seed=seed,
                base_model=PERSONAL_BASE_MODEL, num_images=1, aspect_ratio="1:1",
                lora=model_lora(model, scale))
            result = routing.generate(request)
            (image,) = result.images
            decoded = decode(image.data, keep_side=faces.EMBEDDING_SIDE)
            score = likeness.score(decoded.picture, references)
            made.append({"prompt": number, "scale": scale, "seed": image.seed,
                         "provider": result.provider.name, "score": score,
                         "thumbnail": decoded.thumbnail})
    return made


def summarise(scores_by_scale: dict[float, list[int]]) -> list[dict]:
    return [{"scale": scale, "median": statistics.median(scores), "low": min(scores),
             "high": max(scores), "scores": scores}
            for scale, scores in sorted(scores_by_scale.items())]


def best_scale(rows: list[dict]) -> float:
    return max(rows, key=lambda r: (r["median"], -abs(r["scale"] - DEFAULT_LORA_SCALE)))["scale"]


def _record(model: PersonalModel, made: list[dict]):
    by_scale = defaultdict(list)
    for sample in made:
        by_scale[sample["scale"]].append(sample["score"].likeness)
    rows = summarise(by_scale)
    best = best_scale(rows)
    report = {
        "status": "done", "best_scale": best,
        "median": next(r["median"] for r in rows if r["scale"] == best),
        "scales": rows, "samples": len(made),
        "against": "held_out" if model.holdout_references else "training",
        "provider": made[0]["provider"] if made else "",
        "prompts": [prompt_for(model, t) for t in VALIDATION_PROMPTS],
        "finished_at": timezone.now().isoformat(),
    }
    with transaction.atomic():
        locked = PersonalModel.objects.select_for_update().filter(pk=model.pk).first()
        if locked is None:
            return
        for old in locked.validation_samples.all():
            old.delete()  # a rerun replaces the round (the files go with generation.receivers)
        for sample in made:
            row = ValidationSample(
                model=locked, prompt=report["prompts"][sample["prompt"]],
                lora_scale=sample["scale"], seed=sample["seed"], provider=sample["provider"],
                likeness=sample["score"].likeness,
                likeness_distance=sample["score"].distance)
            row.thumbnail.save(f"{row.id}.webp", ContentFile(sample["thumbnail"]), save=False)
            row.save()
        locked.default_lora_scale = best
        locked.likeness_report = report
        locked.save(update_fields=["default_lora_scale", "likeness_report", "updated_at"])
