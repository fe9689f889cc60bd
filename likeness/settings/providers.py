"""Outside services: keys, addresses, timeouts and the routing table (docs/providers.md). Unset,
the providers whose keys are set are used, and the offline demo providers when none is."""

import os

from likeness.env import env, env_bool, env_float, env_int, env_list
from likeness.settings.core import DATA_DIR

PROVIDER_TIMEOUT_SECONDS = env_float("PROVIDER_TIMEOUT_SECONDS", 30)

# --- Replicate ------------------------------------------------------------------------------
REPLICATE_API_TOKEN = env("REPLICATE_API_TOKEN", "")
REPLICATE_BASE_URL = env("REPLICATE_BASE_URL", "https://api.replicate.com").rstrip("/")
REPLICATE_WEBHOOK_SECRET = env("REPLICATE_WEBHOOK_SECRET", "")
REPLICATE_TRAINER_VERSION = env(
    "REPLICATE_TRAINER_VERSION",
    "26dce37af90b9d997eeb970d92e47de3064d46c300504ae376c75bef6a9022d2",
)
REPLICATE_OWNER = env("REPLICATE_OWNER", "")  # the account owning destination models
# Replicate's FLUX-dev LoRA model, for personal models not trained on Replicate.
REPLICATE_LORA_MODEL = env("REPLICATE_LORA_MODEL", "black-forest-labs/flux-dev-lora")
# The community models that upscale and restore faces (run by version: they are not official
# models). docs/providers.md names their inputs.
REPLICATE_UPSCALE_MODEL = env(
    "REPLICATE_UPSCALE_MODEL",
    "nightmareai/real-esrgan:f121d640bd286e1fdc67f9799164c1d5be36ff74576ee11c803ae5b665dd46aa",
)
REPLICATE_FACE_RESTORE_MODEL = env(
    "REPLICATE_FACE_RESTORE_MODEL",
    "sczhou/codeformer:7de2ea26c616d5bf2245ad0d5e24f0ff9a6204578a5c876db53142edd9d2cd56",
)
# Instant mode's model (PuLID on FLUX.1 [dev], a community model run by version).
REPLICATE_INSTANT_MODEL = env(
    "REPLICATE_INSTANT_MODEL",
    "zsxkib/flux-pulid:8baa7ef2255075b46f4d91cd238c21d31181b3e6a864463f967960bb0112525b",
)

# --- fal.ai, Together AI, Nebius ------------------------------------------------------------
FAL_KEY = env("FAL_KEY", "")
FAL_QUEUE_URL = env("FAL_QUEUE_URL", "https://queue.fal.run").rstrip("/")
# fal's platform API (which endpoints it serves) and the keys that sign its webhooks.
FAL_API_URL = env("FAL_API_URL", "https://api.fal.ai").rstrip("/")
FAL_JWKS_URL = env("FAL_JWKS_URL", "https://rest.alpha.fal.ai/.well-known/jwks.json")
TOGETHER_API_KEY = env("TOGETHER_API_KEY", "")
TOGETHER_BASE_URL = env("TOGETHER_BASE_URL", "https://api.together.ai").rstrip("/")  # host only
NEBIUS_API_KEY = env("NEBIUS_API_KEY", "")
NEBIUS_BASE_URL = env("NEBIUS_BASE_URL", "https://api.tokenfactory.nebius.com/v1").rstrip("/")

# --- Hugging Face Hub -----------------------------------------------------------------------
HF_TOKEN = env("HF_TOKEN", "")
HF_NAMESPACE = env("HF_NAMESPACE", "")
HF_ENDPOINT = env("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
# Plans without private models publish public repositories unless this is off.
HF_PUBLIC_REPOS = env_bool("HF_PUBLIC_REPOS", True)
# huggingface_hub uploads large files through Xet when the hf_xet package is installed; Likeness
# uses the Hub's LFS protocol (docs/providers.md), which every Hub and our test fake speak. The
# SDK reads this once, when first imported; set HF_HUB_DISABLE_XET=0 to use Xet.
os.environ.setdefault("HF_HUB_DISABLE_XET", "1")

# --- Who trains, who draws ------------------------------------------------------------------
_default_trainer = "replicate" if REPLICATE_API_TOKEN else "fal" if FAL_KEY else "demo"
TRAINING_PROVIDER = env("TRAINING_PROVIDER", "") or _default_trainer
_keyed_providers = [name for name, key in (("together", TOGETHER_API_KEY),
                                           ("nebius", NEBIUS_API_KEY), ("fal", FAL_KEY),
                                           ("replicate", REPLICATE_API_TOKEN)) if key]
GENERATION_PROVIDERS = env_list("GENERATION_PROVIDERS", "") or _keyed_providers or ["demo"]
# The routing table: a base model id, or "personal" for personal models, -> its providers in
# order of preference, e.g. "flux-pro=together,replicate;personal=replicate,fal". A model not
# named uses GENERATION_PROVIDERS; providers that do not offer a model are skipped.
GENERATION_ROUTES: dict[str, list[str]] = {
    model.strip(): [name.strip() for name in names.split(",") if name.strip()]
    for model, _, names in (part.partition("=") for part in
                            env("GENERATION_ROUTES", "").split(";") if part.strip())
}
# Transient errors are retried at one provider this many times with backoff (a Retry-After
# longer than the wait limit moves on at once), then the next provider in the route is tried;
# when every provider is down the job is queued again (JOB_MAX_ATTEMPTS) and then refunded.
GENERATION_PROVIDER_ATTEMPTS = env_int("GENERATION_PROVIDER_ATTEMPTS", 3)
GENERATION_RETRY_BASE_SECONDS = env_float("GENERATION_RETRY_BASE_SECONDS", 1.0)
GENERATION_RETRY_MAX_WAIT_SECONDS = env_float("GENERATION_RETRY_MAX_WAIT_SECONDS", 10)
GENERATION_POLL_SECONDS = env_float("GENERATION_POLL_SECONDS", 0.5)  # queue APIs (fal, Replicate)
GENERATION_TIMEOUT_SECONDS = env_float("GENERATION_TIMEOUT_SECONDS", 300)
DEMO_PROVIDER_DELAY = env_float("DEMO_PROVIDER_DELAY", 0.4)  # seconds per image, to see progress
# The live catalogue (`manage.py check_providers`, refreshed hourly): a provider that said it
# does not serve a model is skipped for it until an answer this old is asked again.
CATALOGUE_MAX_AGE_SECONDS = env_int("CATALOGUE_MAX_AGE_SECONDS", 6 * 3600)

# --- Cloudflare Images ----------------------------------------------------------------------
# An optional delivery backend for generated images: on when both the account id and the token
# are set. Each new image is uploaded once by a task; the original is then delivered from its
# variant URL, and from our storage whenever it has no copy there.
CLOUDFLARE_ACCOUNT_ID = env("CLOUDFLARE_ACCOUNT_ID", "")
CLOUDFLARE_API_TOKEN = env("CLOUDFLARE_API_TOKEN", "")
CLOUDFLARE_BASE_URL = env("CLOUDFLARE_BASE_URL", "https://api.cloudflare.com/client/v4").rstrip("/")
CLOUDFLARE_IMAGES_VARIANT = env("CLOUDFLARE_IMAGES_VARIANT", "public")
# With a signing key, images are uploaded with requireSignedURLs and delivered by URLs that
# expire; without one, the variant URL is public to whoever knows it.
CLOUDFLARE_IMAGES_SIGNING_KEY = env("CLOUDFLARE_IMAGES_SIGNING_KEY", "")
CLOUDFLARE_IMAGES_URL_SECONDS = env_int("CLOUDFLARE_IMAGES_URL_SECONDS", 3600)

# --- Stripe ---------------------------------------------------------------------------------
# Without STRIPE_SECRET_KEY billing runs in demo mode: the plans are shown, nothing is sold.
# STRIPE_API_BASE points the official SDK elsewhere (a test fake), host only, without /v1.
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = env("STRIPE_API_BASE", "https://api.stripe.com").rstrip("/")
# One Stripe price per paid plan and per credit pack (accounts.plans names them).
STRIPE_PRICES = {
    "creator": env("STRIPE_PRICE_CREATOR", ""),
    "pro": env("STRIPE_PRICE_PRO", ""),
    "enterprise": env("STRIPE_PRICE_ENTERPRISE", ""),
    "pack_100": env("STRIPE_PRICE_PACK_100", ""),
    "pack_500": env("STRIPE_PRICE_PACK_500", ""),
}

# --- Private mode ---------------------------------------------------------------------------
# No photo, prompt or picture made of them leaves the installation (providers/private.py): only
# the local engine (or the demo) may train and draw, nothing is published to the Hugging Face
# Hub or Cloudflare Images; a configuration that says otherwise fails `manage.py check`.
PRIVATE_MODE = env_bool("PRIVATE_MODE", False)

# --- Your own GPU (providers/local, docs/local-gpu.md) --------------------------------------
# FLUX.1 in the diffusers layout, fetched once: LOCAL_MODELS_DIR/flux-schnell, .../flux-dev.
# The memory profile (bf16, fp8, int8, nf4, offload, offload-seq, cpu-fp32); empty: bf16 on a
# GPU, cpu-fp32 without one. Training works under LOCAL_TRAINING_DIR (photos, checkpoints),
# at LOCAL_TRAINING_RESOLUTION px.
LOCAL_MODELS_DIR = env("LOCAL_MODELS_DIR", str(DATA_DIR / "models"))
LOCAL_MEMORY_PROFILE = env("LOCAL_MEMORY_PROFILE", "")
LOCAL_TRAINING_DIR = env("LOCAL_TRAINING_DIR", str(DATA_DIR / "local-training"))
LOCAL_CACHE_DIR = env("LOCAL_CACHE_DIR", str(DATA_DIR / "local-cache"))
LOCAL_TRAINING_RESOLUTION = env_int("LOCAL_TRAINING_RESOLUTION", 512)
