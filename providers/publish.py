"""Publishing trained weights to the Hugging Face Hub (one repository per personal model)."""

import logging

from django.conf import settings

from providers.base import ProviderError

logger = logging.getLogger(__name__)


def hub_configured() -> bool:
    return bool(settings.HF_TOKEN and settings.HF_NAMESPACE)


def _api():
    from huggingface_hub import HfApi

    return HfApi(endpoint=settings.HF_ENDPOINT, token=settings.HF_TOKEN)


def _classify(exc: Exception) -> ProviderError:
    status = getattr(getattr(exc, "response", None), "status_code", None)
    transient = status is None or status == 429 or status >= 500
    return ProviderError(f"Hugging Face: {exc}", transient=transient, code="hub_error")


def repo_id_for(model) -> str:
    return f"{settings.HF_NAMESPACE}/likeness-{model.trigger_word}"


def model_card(model) -> str:
    return f"""---
license: other
base_model: black-forest-labs/FLUX.1-dev
tags: [flux, lora, likeness]
instance_prompt: {model.trigger_word}
---
# {model.trigger_word}

A personal FLUX LoRA trained with Likeness. Use the trigger word `{model.trigger_word}`
({model.get_subject_class_display().lower()}) in the prompt.
"""


def publish(model, weights: bytes, *, private: bool) -> str:
    """Create (or reuse) the model's repository and upload the weights and a model card.
    Idempotent: a retry after a crash uploads the same files into the same repository."""
    from huggingface_hub import CommitOperationAdd

    repo_id = repo_id_for(model)
    try:
        api = _api()
        api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
        api.create_commit(
            repo_id,
            operations=[
                CommitOperationAdd("lora.safetensors", weights),
                CommitOperationAdd("README.md", model_card(model).encode()),
            ],
            commit_message="Likeness: trained LoRA",
        )
    except Exception as exc:
        raise _classify(exc)
    return repo_id


def set_visibility(repo_id: str, *, private: bool) -> None:
    try:
        _api().update_repo_settings(repo_id, private=private)
    except Exception as exc:
        raise _classify(exc)


def delete_repo(repo_id: str) -> None:
    from huggingface_hub.utils import RepositoryNotFoundError

    try:
        _api().delete_repo(repo_id, repo_type="model")
    except RepositoryNotFoundError:
        return  # already gone: the goal is reached
    except Exception as exc:
        raise _classify(exc)
