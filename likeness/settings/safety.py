"""Trust and safety: the prompt policy for base models, consent selfies, the visible
"AI-generated" mark, the operator's terms pages and the public report forms (README: "Trust
and safety")."""

from django.core.exceptions import ImproperlyConfigured

from likeness.env import env, env_bool
from likeness.settings.core import DATA_DIR

# --- Prompt policy --------------------------------------------------------------------------
# Generations with a personal model are always checked (providers.moderation: "standard" for
# adults and pets, "strict" for children). Base models: "off", "base" (only sexual content
# involving minors is refused) or "standard".
PROMPT_POLICY_BASE = env("PROMPT_POLICY_BASE", "base").strip().lower()
if PROMPT_POLICY_BASE not in ("off", "base", "standard"):
    raise ImproperlyConfigured("PROMPT_POLICY_BASE must be off, base or standard, not "
                               f"{PROMPT_POLICY_BASE!r}")

# --- Consent --------------------------------------------------------------------------------
# The consent selfie is checked against the training photos and then forgotten; with this on,
# it is kept (private, with the model, for staff to review) until the model is deleted.
CONSENT_KEEP_SELFIES = env_bool("CONSENT_KEEP_SELFIES", False)

# --- Transparency ---------------------------------------------------------------------------
# Every generated image carries IPTC's "trainedAlgorithmicMedia" in its XMP metadata; this also
# draws a small visible "AI-generated" label in its corner.
AI_MARK_VISIBLE = env_bool("AI_MARK_VISIBLE", False)
# The operator's own acceptable-use and privacy pages: acceptable-use.html and privacy.html
# (HTML fragments) in this folder replace the built-in text; read on every request.
TERMS_DIR = env("TERMS_DIR", str(DATA_DIR / "terms"))

# --- Reports --------------------------------------------------------------------------------
# The public "report this image" and removal-request forms, per client address.
RATE_LIMIT_REPORTS = env("RATE_LIMIT_REPORTS", "5/hour,20/day")
