"""The prompt policy as generations apply it: which level of providers.moderation a request is
held to, and the refusal it becomes.

- a personal model of a child: "strict" (nothing suggestive, no negative prompt that names
  clothing);
- a personal model of an adult or a pet: "standard";
- a base model: PROMPT_POLICY_BASE ("off", "base" or "standard").

The prompt checked is the one the provider would get (trigger word inserted, style applied), and
the negative prompt as it would be sent before a model that takes none drops it: a request that
asks for something refused is refused, whatever the model would have done with it. A refusal
records nothing and charges nothing (generation.actions checks before its transaction)."""

import logging

from django.conf import settings

from likeness.errors import PromptRefused
from providers.moderation import check

logger = logging.getLogger(__name__)


def level_for(model) -> str | None:
    """The moderation level for a request with this personal model (None: a base model);
    None when the policy is off."""
    if model is None:
        return None if settings.PROMPT_POLICY_BASE == "off" else settings.PROMPT_POLICY_BASE
    return "strict" if model.subject_class == "child" else "standard"


def enforce(prompt: str, negative_prompt: str = "", *, model=None) -> None:
    """Raise PromptRefused when the policy refuses this request; return when it passes."""
    level = level_for(model)
    if level is None:
        return
    trigger = model.trigger_word if model is not None else ""
    verdict, field = check(prompt, level=level, trigger_word=trigger), "prompt"
    if verdict.allowed and negative_prompt:
        # Read with the prompt: a minor in one and undressing in the other is refused too.
        verdict = check(prompt, negative_prompt=negative_prompt, level=level,
                        trigger_word=trigger)
        field = "negative_prompt"
    if verdict.allowed:
        return
    # The operator's log names what matched; the customer's message never repeats the prompt.
    logger.info("prompt refused", extra={"policy_level": level,
                                         "policy_categories": verdict.categories,
                                         "policy_matches": verdict.matches,
                                         "personal_model": str(model.pk) if model else ""})
    raise PromptRefused(field, verdict.message, verdict.categories)
