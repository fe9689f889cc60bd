"""A personal model as the image providers need it: its LoRA, and where they can read the
weights (the Hub when the repository is public, else a short-lived signed link to our copy)."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from generation.catalogue import DEFAULT_LORA_SCALE
from providers.demo.faces import read_weights
from providers.interfaces import Lora
from providers.registry import publisher

LORA_SALT = "generation.lora-weights"


def lora_weights_url(model) -> tuple[str, str]:
    """(url, source): the Hub's resolve URL for a public repository, else a short-lived signed
    link to our stored copy (a presigned bucket URL on S3/R2, else our own signed view)."""
    if model.hf_repo_id and not model.hf_private:
        return publisher().weights_url(model.hf_repo_id), "hub"
    if not model.weights:
        return "", ""
    storage = model.weights.storage
    if hasattr(storage, "bucket_name"):  # django-storages' S3Storage
        return storage.url(model.weights.name, expire=settings.GENERATION_LORA_URL_SECONDS), \
            "signed"
    token = signing.dumps(str(model.pk), salt=LORA_SALT)
    path = reverse("lora_weights", args=[model.pk, token])
    return f"{settings.PUBLIC_BASE_URL}{path}", "signed"


_demo_weights: dict[tuple[str, str], tuple[tuple[bytes, ...], float]] = {}


def demo_weights(model) -> tuple[tuple[bytes, ...], float]:
    """The face crops and best strength in a model's demo weights (providers.demo.faces),
    read once per weights file."""
    key = (str(model.pk), model.weights.name)
    if key not in _demo_weights:
        with model.weights.open("rb") as handle:
            crops, best = read_weights(handle.read())
        _demo_weights[key] = (tuple(crops), best or DEFAULT_LORA_SCALE)
    return _demo_weights[key]


def lora_for(generation):
    """The LoRA spec the providers need for this generation, or None."""
    model = generation.personal_model
    if model is None:
        return None
    return model_lora(model, generation.lora_scale if generation.lora_scale is not None
                      else DEFAULT_LORA_SCALE)


def second_lora_for(generation):
    """The second person's LoRA (two people in one picture), or None."""
    model = generation.second_model
    if model is None:
        return None
    return model_lora(model, generation.second_lora_scale
                      if generation.second_lora_scale is not None else DEFAULT_LORA_SCALE)


def model_lora(model, scale: float) -> Lora:
    """A personal model's LoRA at the strength `scale`."""
    url, source = ("", "") if model.weights_is_demo else lora_weights_url(model)
    faces, best = demo_weights(model) if model.weights_is_demo and model.weights else ((), 1.0)
    return Lora(model_id=str(model.pk), name=model.name, trigger_word=model.trigger_word,
                subject_class=model.subject_class, scale=scale,
                url=url, url_source=source, replicate_version=model.provider_version,
                is_demo=model.weights_is_demo, demo_faces=faces, demo_best_scale=best,
                storage_name="" if model.weights_is_demo or not model.weights
                else model.weights.name)
