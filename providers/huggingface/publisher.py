"""Publishing trained weights to the Hugging Face Hub (one repository per personal model)."""

from django.conf import settings

from likeness import http
from likeness.errors import ProviderError
from providers.interfaces import Publisher
from providers.private import refuse_outside


def _api():
    from huggingface_hub import (
        HfApi,  # loaded when first used: only the SDKs a deployment calls
    )

    return HfApi(endpoint=settings.HF_ENDPOINT, token=settings.HF_TOKEN)


def _classify(exc: Exception) -> ProviderError:
    status = getattr(getattr(exc, "response", None), "status_code", None)
    return ProviderError(f"Hugging Face: {exc}", transient=http.is_transient(status),
                         code="hub_error", status=status)


# A LoRA trained on FLUX.1 [dev] is a derivative of it, under its licence (docs/providers.md).
LICENCE_NAME = "flux-1-dev-non-commercial-license"
LICENCE_LINK = "https://huggingface.co/black-forest-labs/FLUX.1-dev/blob/main/LICENSE.md"


def model_card(model) -> str:
    """The README, whose metadata the Hub validates (`license: other` needs a name and a
    link to the licence)."""
    return f"""---
license: other
license_name: {LICENCE_NAME}
license_link: {LICENCE_LINK}
base_model: black-forest-labs/FLUX.1-dev
pipeline_tag: text-to-image
library_name: diffusers
tags: [flux, lora, likeness, text-to-image]
instance_prompt: {model.trigger_word}
---
# {model.trigger_word}

A personal FLUX LoRA trained with Likeness. Use the trigger word `{model.trigger_word}`
({model.get_subject_class_display().lower()}) in the prompt.

Its base model, FLUX.1 [dev], is released under the FLUX.1 [dev] Non-Commercial License
({LICENCE_LINK}); this LoRA is a derivative and carries the same terms.
"""


class HubPublisher(Publisher):
    name = "huggingface"

    def configured(self) -> bool:
        return bool(settings.HF_TOKEN and settings.HF_NAMESPACE)

    def repo_id_for(self, model) -> str:
        return f"{settings.HF_NAMESPACE}/likeness-{model.trigger_word}"

    def publish(self, model, weights: bytes, *, private: bool) -> str:
        """Create (or reuse) the model's repository and upload the weights and a model card.
        Idempotent: a retry after a crash uploads the same files into the same repository.
        In private mode it refuses (PrivateModeRefused) before anything is sent."""
        refuse_outside("the weights' publisher", "huggingface")
        from huggingface_hub import CommitOperationAdd  # the SDK, loaded when first used

        repo_id = self.repo_id_for(model)
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

    def set_visibility(self, repo_id: str, *, private: bool) -> None:
        try:
            _api().update_repo_settings(repo_id, private=private)
        except Exception as exc:
            raise _classify(exc)

    def delete_repo(self, repo_id: str) -> None:
        from huggingface_hub.utils import RepositoryNotFoundError  # the SDK, when first used

        try:
            _api().delete_repo(repo_id, repo_type="model")
        except RepositoryNotFoundError:
            return  # already gone: the goal is reached
        except Exception as exc:
            raise _classify(exc)

    def repo_url(self, repo_id: str) -> str:
        return f"{settings.HF_ENDPOINT.rstrip('/')}/{repo_id}" if repo_id else ""

    def weights_url(self, repo_id: str) -> str:
        return f"{self.repo_url(repo_id)}/resolve/main/lora.safetensors"
