"""What an operator tunes in the product: training, generation, photos, the gallery, the API,
billing notices and data retention. Fixed product constants (prices per image, photo counts,
batch sizes) are in the apps' catalogue and plans modules."""

import os

from likeness.env import env, env_bool, env_float, env_int

CPU_CORES = os.cpu_count() or 1

ADMIN_PATH = env("ADMIN_PATH", "admin/").strip("/") + "/"

# --- Training -------------------------------------------------------------------------------
TRAINING_CREDITS = env_int("TRAINING_CREDITS", 20)
# Provider cost, for the estimate (steps x price) and the actual cost (seconds x price).
TRAINING_PRICE_PER_STEP_CENTS = env_float("TRAINING_PRICE_PER_STEP_CENTS", 0.2)
TRAINING_PRICE_PER_SECOND_CENTS = env_float("TRAINING_PRICE_PER_SECOND_CENTS", 0.1528)
TRAINING_DEMO_SECONDS = env_float("TRAINING_DEMO_SECONDS", 60)
# A run still training is asked for its state this often (a lost webhook costs at most this).
TRAINING_POLL_SECONDS = env_float("TRAINING_POLL_SECONDS", 30)
TRAINING_MAX_HOURS = env_float("TRAINING_MAX_HOURS", 6)
TRAINING_ZIP_URL_SECONDS = env_int("TRAINING_ZIP_URL_SECONDS", 6 * 3600)
# Data rights: training photos are deleted this many days after the model's training finished
# (0 keeps them until the model is deleted).
TRAINING_PHOTO_RETENTION_DAYS = env_int("TRAINING_PHOTO_RETENTION_DAYS", 0)

# --- Generation -----------------------------------------------------------------------------
GENERATION_CONCURRENCY = env_int("GENERATION_CONCURRENCY", 4)  # provider calls per generation
GENERATION_LORA_URL_SECONDS = env_int("GENERATION_LORA_URL_SECONDS", 3600)
# Instant mode (generation.instant): a person drawn from their model's photos by PuLID, no
# training needed. Its face models (InsightFace's) are licensed for non-commercial research
# only: an operator selling the service sets 0 unless their provider's terms cover it.
INSTANT_MODE = env_bool("INSTANT_MODE", True)
# The prompt helper ("Write it for me", POST /prompts/expand) asks this Together AI chat model
# when TOGETHER_API_KEY is set too (e.g. meta-llama/Llama-3.3-70B-Instruct-Turbo); empty: the
# offline rules only. Any failure of the model falls back to the rules.
PROMPT_HELPER_MODEL = env("PROMPT_HELPER_MODEL", "").strip()

# --- Likeness (generation.likeness) ---------------------------------------------------------
# With the likeness guarantee on, an image of a personal model scoring under LIKENESS_MIN_SCORE
# (0-100; 50 is the face-match line) is made again with a new seed, up to LIKENESS_RETRIES times
# per image, at no charge; an image that never reaches it is refunded.
LIKENESS_MIN_SCORE = env_int("LIKENESS_MIN_SCORE", 50)
LIKENESS_RETRIES = env_int("LIKENESS_RETRIES", 2)
# After a training, the validation round generates a few images at several LoRA strengths and
# keeps the strength with the best median likeness as the model's default (part of the
# training's price). Off, a model keeps the catalogue's default strength.
LIKENESS_VALIDATION = env_bool("LIKENESS_VALIDATION", True)

# --- Training photos ------------------------------------------------------------------------
PHOTO_MAX_BYTES = env_int("PHOTO_MAX_BYTES", 20 * 1024 * 1024)
PHOTO_MAX_PIXELS = env_int("PHOTO_MAX_PIXELS", 60_000_000)
# The pixels one upload request may decode in all (JPEGs count at the reduced scale they are
# decoded at, about 3 MP for a 12 MP photo; PNG, WebP and HEIC in full): the photos beyond it
# are refused with a reason and can be sent again in another request.
PHOTO_MAX_PIXELS_PER_REQUEST = env_int("PHOTO_MAX_PIXELS_PER_REQUEST", 300_000_000)
PHOTO_MIN_SIDE = env_int("PHOTO_MIN_SIDE", 512)
PHOTO_MIN_FACE_RATIO = env_float("PHOTO_MIN_FACE_RATIO", 0.08)
PHOTO_BLUR_THRESHOLD = env_float("PHOTO_BLUR_THRESHOLD", 40)
# The photos of one upload are checked side by side in this many processes of their own per web
# process (studio.photo_pool), started on its first upload; 0 checks them one by one in the
# request's thread. By default one per core, up to 4, and none on a single core.
PHOTO_CHECK_PROCESSES = env_int("PHOTO_CHECK_PROCESSES",
                                min(4, CPU_CORES) if CPU_CORES > 1 else 0)
# Metadata (EXIF, XMP, ICC, comments) beyond this refuses a photo (studio.uploads also refuses
# images with archives or markup hidden in them).
PHOTO_MAX_METADATA_BYTES = env_int("PHOTO_MAX_METADATA_BYTES", 2 * 1024 * 1024)
# One upload request may carry several photos; a request larger than this is refused with 413
# before its body is read (likeness.files.UploadLimitMiddleware, for every multipart body: the
# web form's, the API's, any other). A single photo over PHOTO_MAX_BYTES inside an accepted
# request is only listed as rejected. Django's own cap on the number of files per request is set
# well above a model's photos so a full model's worth fits in one request; beyond it Django
# refuses the body (answered 413 by the API too).
PHOTO_UPLOAD_MAX_REQUEST_BYTES = env_int("PHOTO_UPLOAD_MAX_REQUEST_BYTES", 200 * 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FILES = 60

# --- Gallery --------------------------------------------------------------------------------
# Bulk actions and archives take at most this many images per request (a larger ZIP is refused
# with a clear message; the ZIP itself is streamed as it is built).
GALLERY_ARCHIVE_MAX_IMAGES = env_int("GALLERY_ARCHIVE_MAX_IMAGES", 1000)

# --- API ------------------------------------------------------------------------------------
# Rate limits per API key and per account ("N/second|minute|hour|day"; empty turns one off).
RATE_LIMIT_GENERATIONS = env("RATE_LIMIT_GENERATIONS", "60/minute")
RATE_LIMIT_TRAININGS = env("RATE_LIMIT_TRAININGS", "10/hour")
IDEMPOTENCY_KEY_HOURS = env_int("IDEMPOTENCY_KEY_HOURS", 24)
# Completion callbacks to private, loopback or link-local addresses are refused unless this is on.
CALLBACKS_ALLOW_PRIVATE = env_bool("CALLBACKS_ALLOW_PRIVATE", False)

# --- Billing --------------------------------------------------------------------------------
# Below this balance the customer gets one e-mail and a banner (again only after a top-up).
LOW_CREDIT_THRESHOLD = env_int("LOW_CREDIT_THRESHOLD", 20)
