"""Together AI's chat completions for the prompt helper (generation.prompt_helper), through the
official `together` SDK and the same cached client as image generation (TOGETHER_API_KEY,
TOGETHER_BASE_URL, PROVIDER_TIMEOUT_SECONDS, no SDK retries). `POST /v1/chat/completions`:
`model`, `messages` and a few sampling fields; the answer is the first choice's content."""

from django.conf import settings

from providers.stainless import classify
from providers.together.images import LABEL, TogetherProvider


def available() -> bool:
    """Whether a Together key is set (the helper asks only then); never in PRIVATE_MODE, where
    the customer's words stay inside the installation (providers.private)."""
    return bool(settings.TOGETHER_API_KEY) and not settings.PRIVATE_MODE


def complete(model: str, system: str, user: str, *, max_tokens: int = 160,
             temperature: float = 0.7) -> str:
    """The assistant's answer to `user` under `system` ("" when it sent none); ProviderError
    (classified as for images) when the call fails."""
    try:
        answer = TogetherProvider().client().chat.completions.create(
            model=model, messages=[{"role": "system", "content": system},
                                   {"role": "user", "content": user}],
            max_tokens=max_tokens, temperature=temperature)
    except Exception as exc:
        raise classify(exc, LABEL)
    choice = answer.choices[0] if answer.choices else None
    message = getattr(choice, "message", None)
    content = getattr(message, "content", None)
    return content if isinstance(content, str) else ""
