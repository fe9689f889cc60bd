"""Likeness settings: everything comes from the environment, with embedded defaults that run
the whole product offline on one machine (SQLite, local files, the database task queue, the
console mail outbox and the demo providers)."""

import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from likeness.env import env, env_bool, env_float, env_int, env_list

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env("DATA_DIR", str(BASE_DIR / "var"))).resolve()
TESTING = "pytest" in sys.modules or env_bool("TESTING")

DEBUG = env_bool("DEBUG", True)
_INSECURE_KEY = "django-insecure-likeness-demo-key-change-me"
SECRET_KEY = env("SECRET_KEY", _INSECURE_KEY)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if DEBUG else "")
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

if not DEBUG:
    # The production profile refuses to start half-configured.
    if SECRET_KEY == _INSECURE_KEY or len(SECRET_KEY) < 32:
        raise ImproperlyConfigured("DEBUG is off: set SECRET_KEY to a random value of 32+ chars.")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("DEBUG is off: set ALLOWED_HOSTS (comma-separated).")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    # jobs first: its db_worker command extends django_tasks_db's with leases and retries.
    "jobs",
    "accounts",
    "credits",
    "billing",
    "providers",
    "studio",
    "generation",
    "gallery",
    "api",
    "web",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks",
    "django_tasks_db",
    "django_htmx",
    "ninja",
    "template_partials",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "corsheaders",
    "csp",
    "security",
    "observability",
]

MIDDLEWARE = [
    "observability.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "security.middleware.StaffGuardMiddleware",
    "security.ratelimit.CostlyActionMiddleware",
]

ROOT_URLCONF = "likeness.urls"
WSGI_APPLICATION = "likeness.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "web.context_processors.site",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL,
                                         conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
    }
    DATABASES["default"].setdefault("TEST", {})
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "likeness.sqlite3",
            "OPTIONS": {
                # WAL lets the web and the worker read while the other writes; IMMEDIATE takes
                # the write lock at BEGIN so two writers queue instead of deadlocking.
                "init_command": (
                    "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=10000"
                ),
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
if TESTING and not DATABASE_URL:
    # A file, not Django's in-memory default: with an in-memory database the live server's
    # thread (which receives the fakes' webhooks) would share one connection with the test.
    import os
    import tempfile

    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"likeness-test-{os.getpid()}.sqlite3")
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts -------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if not DEBUG else "http"
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
ACCOUNT_LOGOUT_REDIRECT_URL = "landing"

DEMO_EMAIL = env("DEMO_EMAIL", "demo@example.com")
DEMO_PASSWORD = env("DEMO_PASSWORD", "likeness-demo")

# --- E-mail ---------------------------------------------------------------------------------
# The default outbox prints every mail and keeps a copy under DATA_DIR/outbox, which the demo's
# /outbox page lists so a person can click a verification link without a mail server.
EMAIL_BACKEND = env("EMAIL_BACKEND", "web.mail.OutboxBackend")
EMAIL_OUTBOX_DIR = DATA_DIR / "outbox"
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Likeness <hello@likeness.local>")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
SHOW_OUTBOX = env_bool("SHOW_OUTBOX", DEBUG)

# --- Files ----------------------------------------------------------------------------------
MEDIA_ROOT = DATA_DIR / "media"
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    # Private: no MEDIA_URL is served; files leave only through views that check the owner.
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT, "base_url": "/media-not-served/"},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
if DEBUG:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing root

# Any S3-compatible store (AWS S3, Cloudflare R2, MinIO) replaces the local files when a bucket
# is set. Objects stay private; they leave only through short-lived signed URLs.
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", "")
if AWS_STORAGE_BUCKET_NAME:
    from botocore.config import Config as _BotoConfig

    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "access_key": env("AWS_ACCESS_KEY_ID", "") or None,
            "secret_key": env("AWS_SECRET_ACCESS_KEY", "") or None,
            "region_name": env("AWS_S3_REGION_NAME", "") or None,
            "endpoint_url": env("AWS_S3_ENDPOINT_URL", "") or None,
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": env_int("AWS_QUERYSTRING_EXPIRE", 300),
            "file_overwrite": False,
            # R2 rejects the CRC32 checksums boto3 >= 1.36 sends by default.
            "client_config": _BotoConfig(request_checksum_calculation="when_required",
                                         response_checksum_validation="when_required"),
        },
    }

# --- Tasks ----------------------------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# A running job whose worker has not sent a heartbeat for this long is handed to another worker.
JOB_LEASE_SECONDS = env_int("JOB_LEASE_SECONDS", 60)
JOB_HEARTBEAT_SECONDS = env_float("JOB_HEARTBEAT_SECONDS", 5)
JOB_MAX_ATTEMPTS = env_int("JOB_MAX_ATTEMPTS", 5)
JOB_RETRY_BASE_SECONDS = env_float("JOB_RETRY_BASE_SECONDS", 2)
# Tasks one `db_worker` process runs at once (threads): most work waits on providers.
WORKER_THREADS = env_int("WORKER_THREADS", 4)

# --- Providers ------------------------------------------------------------------------------
# Names as in ../shared/PROVIDERS.md. Unset, the providers whose keys are set are used, and the
# offline demo providers when none is.
REPLICATE_API_TOKEN = env("REPLICATE_API_TOKEN", "")
REPLICATE_BASE_URL = env("REPLICATE_BASE_URL", "https://api.replicate.com").rstrip("/")
REPLICATE_WEBHOOK_SECRET = env("REPLICATE_WEBHOOK_SECRET", "")
REPLICATE_TRAINER = "ostris/flux-dev-lora-trainer"
REPLICATE_TRAINER_VERSION = env(
    "REPLICATE_TRAINER_VERSION",
    "26dce37af90b9d997eeb970d92e47de3064d46c300504ae376c75bef6a9022d2",
)
REPLICATE_OWNER = env("REPLICATE_OWNER", "")  # the account owning destination models
FAL_KEY = env("FAL_KEY", "")
FAL_QUEUE_URL = env("FAL_QUEUE_URL", "https://queue.fal.run").rstrip("/")
HF_TOKEN = env("HF_TOKEN", "")
HF_NAMESPACE = env("HF_NAMESPACE", "")
HF_ENDPOINT = env("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
# Plans without private models publish public repositories unless this is off.
HF_PUBLIC_REPOS = env_bool("HF_PUBLIC_REPOS", True)

_default_trainer = "replicate" if REPLICATE_API_TOKEN else "fal" if FAL_KEY else "demo"
TRAINING_PROVIDER = env("TRAINING_PROVIDER", "") or _default_trainer
DEMO_PROVIDER_DELAY = env_float("DEMO_PROVIDER_DELAY", 0.4)  # seconds per image, to see progress
PROVIDER_TIMEOUT_SECONDS = env_float("PROVIDER_TIMEOUT_SECONDS", 30)

# --- Generation -----------------------------------------------------------------------------
# Image providers (../shared/PROVIDERS.md). Unset, GENERATION_PROVIDERS lists the providers whose
# keys are set, in this order, and the offline demo provider when none is.
TOGETHER_API_KEY = env("TOGETHER_API_KEY", "")
TOGETHER_BASE_URL = env("TOGETHER_BASE_URL", "https://api.together.ai").rstrip("/")  # host only
NEBIUS_API_KEY = env("NEBIUS_API_KEY", "")
NEBIUS_BASE_URL = env("NEBIUS_BASE_URL", "https://api.tokenfactory.nebius.com/v1").rstrip("/")
# Replicate's FLUX-dev LoRA model, for personal models not trained on Replicate.
REPLICATE_LORA_MODEL = env("REPLICATE_LORA_MODEL", "black-forest-labs/flux-dev-lora")
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
GENERATION_CONCURRENCY = env_int("GENERATION_CONCURRENCY", 4)  # provider calls per generation
GENERATION_POLL_SECONDS = env_float("GENERATION_POLL_SECONDS", 0.5)  # queue APIs (fal, Replicate)
GENERATION_TIMEOUT_SECONDS = env_float("GENERATION_TIMEOUT_SECONDS", 300)
GENERATION_LORA_URL_SECONDS = env_int("GENERATION_LORA_URL_SECONDS", 3600)
GENERATION_MAX_BATCH = 10  # prompts one batch may queue

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

# --- Gallery --------------------------------------------------------------------------------
# Bulk actions and archives take at most this many images per request (a larger ZIP is refused
# with a clear message; the ZIP itself is streamed as it is built).
GALLERY_PAGE_SIZE = 24
GALLERY_ARCHIVE_MAX_IMAGES = env_int("GALLERY_ARCHIVE_MAX_IMAGES", 1000)
# Cloudflare Images, an optional delivery backend for generated images (../shared/PROVIDERS.md):
# on when both the account id and the token are set. Each new image is uploaded once by a task;
# the original is then delivered from its variant URL, and from our storage whenever it has no
# copy there (an upload that failed, or the backend turned off).
CLOUDFLARE_ACCOUNT_ID = env("CLOUDFLARE_ACCOUNT_ID", "")
CLOUDFLARE_API_TOKEN = env("CLOUDFLARE_API_TOKEN", "")
CLOUDFLARE_BASE_URL = env("CLOUDFLARE_BASE_URL", "https://api.cloudflare.com/client/v4").rstrip("/")
CLOUDFLARE_IMAGES_VARIANT = env("CLOUDFLARE_IMAGES_VARIANT", "public")
# With a signing key, images are uploaded with requireSignedURLs and delivered by URLs that
# expire; without one, the variant URL is public to whoever knows it.
CLOUDFLARE_IMAGES_SIGNING_KEY = env("CLOUDFLARE_IMAGES_SIGNING_KEY", "")
CLOUDFLARE_IMAGES_URL_SECONDS = env_int("CLOUDFLARE_IMAGES_URL_SECONDS", 3600)

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# === Security and observability ===============================================================
# One block for the hardening work (README: "Security" and "Observability"). The middleware and
# apps it needs are listed in INSTALLED_APPS/MIDDLEWARE above.
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Load balancers probe over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

# Content-Security-Policy (django-csp 4): no inline script or style anywhere; a template that
# needs one uses the request's nonce ({{ request.csp_nonce }}). Images may also come from
# Cloudflare Images and any origins in CSP_IMG_SRC; forms may post to Stripe's pages (a
# checkout or portal redirect after a form is held to form-action).
from csp.constants import NONCE, NONE, SELF  # noqa: E402

_stripe_pages = ["https://checkout.stripe.com", "https://billing.stripe.com"]
_stripe_base = env("STRIPE_API_BASE", "https://api.stripe.com").rstrip("/")
if not _stripe_base.startswith("https://api.stripe.com"):
    _stripe_pages.append(_stripe_base)  # a fake's pages live on its own host
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:", "blob:", "https://imagedelivery.net",
                    *([CLOUDFLARE_BASE_URL] if CLOUDFLARE_ACCOUNT_ID else []),
                    *env_list("CSP_IMG_SRC", "")],
        "font-src": [SELF],
        "connect-src": [SELF],
        "media-src": [SELF],
        "object-src": [NONE],
        "frame-src": [NONE],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF, *_stripe_pages],
        **({"report-uri": [env("CSP_REPORT_URI", "")]} if env("CSP_REPORT_URI", "") else {}),
    },
}

# CORS: only the API, only from these origins (comma-separated, e.g. https://app.example.com).
# API keys travel in the Authorization header, so no cookies are allowed across origins.
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", "")
CORS_URLS_REGEX = r"^/api/v1/.*$"
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_HEADERS = ["accept", "authorization", "content-type", "idempotency-key",
                      "x-request-id"]
CORS_EXPOSE_HEADERS = ["retry-after", "content-disposition", "x-request-id"]

# Two-factor authentication (allauth.mfa): any customer may turn it on; staff must, before the
# admin or any staff page opens (security.middleware.StaffGuardMiddleware).
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Likeness"
STAFF_REQUIRE_MFA = env_bool("STAFF_REQUIRE_MFA", True)

# Rate limits. allauth's own for sign-in, sign-up and password reset (counted in the cache:
# set REDIS_URL so every web process shares the count), and ours for every costly action
# (security.ratelimit.COSTLY lists them): "N/second|minute|hour|day", comma-separated windows.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "10/m/ip,50/h/ip",
    "reset_password": "10/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "confirm_email": "1/3m/key",
    "change_password": "5/m/user",
    "reauthenticate": "10/m/user",
}
RATE_LIMITS_ENABLED = env_bool("RATE_LIMITS_ENABLED", True)
RATE_LIMIT_COSTLY = env("RATE_LIMIT_COSTLY", "60/minute,600/hour")  # per account, per action
RATE_LIMIT_EXPORT = env("RATE_LIMIT_EXPORT", "5/hour")

# Structured logs: one JSON object per line with request_id, account_id and job_id
# (LOG_FORMAT=plain for a person reading a terminal).
LOG_FORMAT = env("LOG_FORMAT", "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "observability.logs.ContextFilter"}},
    "formatters": {
        "json": {"()": "observability.logs.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s "
                            "account=%(account_id)s job=%(job_id)s] %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["context"],
                             "formatter": "plain" if LOG_FORMAT == "plain" else "json"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Prometheus metrics at /metrics: open to a bearer METRICS_TOKEN, or to clients in
# METRICS_ALLOWED_NETWORKS (CIDRs); closed (404) when neither is set.
METRICS_TOKEN = env("METRICS_TOKEN", "")
METRICS_ALLOWED_NETWORKS = env_list("METRICS_ALLOWED_NETWORKS", "")
# Sentry when SENTRY_DSN is set; PostHog product events when POSTHOG_API_KEY is set.
SENTRY_DSN = env("SENTRY_DSN", "")
SENTRY_ENVIRONMENT = env("SENTRY_ENVIRONMENT", "production" if not DEBUG else "development")
SENTRY_TRACES_SAMPLE_RATE = env_float("SENTRY_TRACES_SAMPLE_RATE", 0.0)
POSTHOG_API_KEY = env("POSTHOG_API_KEY", "")
POSTHOG_HOST = env("POSTHOG_HOST", "https://us.i.posthog.com")

# Uploads: metadata (EXIF, XMP, ICC, comments) beyond this refuses a photo
# (security.uploads also refuses images with archives or markup hidden in them).
PHOTO_MAX_METADATA_BYTES = env_int("PHOTO_MAX_METADATA_BYTES", 2 * 1024 * 1024)

# Data rights: training photos are deleted this many days after the model's training finished
# (0 keeps them until the model is deleted).
TRAINING_PHOTO_RETENTION_DAYS = env_int("TRAINING_PHOTO_RETENTION_DAYS", 0)

# --- Product --------------------------------------------------------------------------------
DEMO_CREDITS = 1000
MAX_PROMPT_LENGTH = 2000
ADMIN_PATH = env("ADMIN_PATH", "admin/").strip("/") + "/"

# --- Training photos ------------------------------------------------------------------------
PHOTO_MAX_BYTES = env_int("PHOTO_MAX_BYTES", 20 * 1024 * 1024)
PHOTO_MAX_PIXELS = env_int("PHOTO_MAX_PIXELS", 60_000_000)
PHOTO_MIN_SIDE = env_int("PHOTO_MIN_SIDE", 512)
PHOTO_MIN_FACE_RATIO = env_float("PHOTO_MIN_FACE_RATIO", 0.08)
PHOTO_BLUR_THRESHOLD = env_float("PHOTO_BLUR_THRESHOLD", 40)
MODEL_MIN_PHOTOS = 5
MODEL_MAX_PHOTOS = 30
MODEL_RECOMMENDED_PHOTOS = (10, 20)

# Uploads of training photos (enforced by the API's POST /models/{id}/photos; pages can share it).
# One request may carry several photos; a request larger than this is refused with 413 before
# its body is read. A single photo over PHOTO_MAX_BYTES inside an accepted request is only
# listed as rejected. Django's own cap on the number of files per request is set well above
# MODEL_MAX_PHOTOS so a full model's worth fits in one request; beyond it Django refuses the
# body (answered 413 by the API too).
PHOTO_UPLOAD_MAX_REQUEST_BYTES = env_int("PHOTO_UPLOAD_MAX_REQUEST_BYTES", 200 * 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FILES = 60

# --- API ------------------------------------------------------------------------------------
# Rate limits per API key and per account ("N/second|minute|hour|day"; empty turns one off).
RATE_LIMIT_GENERATIONS = env("RATE_LIMIT_GENERATIONS", "60/minute")
RATE_LIMIT_TRAININGS = env("RATE_LIMIT_TRAININGS", "10/hour")
IDEMPOTENCY_KEY_HOURS = env_int("IDEMPOTENCY_KEY_HOURS", 24)
# Completion callbacks to private, loopback or link-local addresses are refused unless this is on.
CALLBACKS_ALLOW_PRIVATE = env_bool("CALLBACKS_ALLOW_PRIVATE", False)

# Recurring tasks: name -> (task, seconds between runs). Queued once per period by any worker.
RECURRING_TASKS: dict[str, tuple[str, int]] = {
    "training.reconcile": ("studio.tasks.reconcile_trainings", 30),
    "training.cleanup": ("studio.tasks.sweep_cleanups", 300),
    "api.idempotency": ("api.tasks.prune_idempotency_keys", 3600),
}

# --- Billing (Stripe) -----------------------------------------------------------------------
# Without STRIPE_SECRET_KEY billing runs in demo mode: the plans are shown, nothing is sold.
# STRIPE_API_BASE points the official SDK elsewhere (a test fake), host only, without /v1.
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = env("STRIPE_API_BASE", "https://api.stripe.com").rstrip("/")
# One Stripe price per paid plan and per credit pack (billing.plans names them).
STRIPE_PRICES = {
    "creator": env("STRIPE_PRICE_CREATOR", ""),
    "pro": env("STRIPE_PRICE_PRO", ""),
    "enterprise": env("STRIPE_PRICE_ENTERPRISE", ""),
    "pack_100": env("STRIPE_PRICE_PACK_100", ""),
    "pack_500": env("STRIPE_PRICE_PACK_500", ""),
}
# Below this balance the customer gets one e-mail and a banner (again only after a top-up).
LOW_CREDIT_THRESHOLD = env_int("LOW_CREDIT_THRESHOLD", 20)
RECURRING_TASKS["billing.reconcile"] = ("billing.tasks.reconcile_billing", 3600)
RECURRING_TASKS["accounts.retention"] = ("accounts.tasks.apply_photo_retention", 3600)

# --- Production -----------------------------------------------------------------------------
# What changes when Likeness runs on several machines (docs/deployment.md). Each part stays off
# until its variable is set, so the offline defaults above are untouched. Every name is read
# unconditionally, so `manage.py settings_doc` lists it.
# Persistent connections (DB_CONN_MAX_AGE) are checked before reuse: a database restart or a
# proxy that drops idle connections costs one reconnect instead of a failed request.
DB_CONN_HEALTH_CHECKS = env_bool("DB_CONN_HEALTH_CHECKS", True)
if DATABASE_URL:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = DB_CONN_HEALTH_CHECKS

# Redis: one cache shared by every web process, so the API's rate limits count across all of
# them; sessions are read from it and written through to the database (a flushed Redis signs
# nobody out).
REDIS_URL = env("REDIS_URL", "")
CACHE_KEY_PREFIX = env("CACHE_KEY_PREFIX", "likeness")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# E-mail through a service's HTTP API (django-anymail): EMAIL_BACKEND set to, e.g.,
# anymail.backends.postmark.EmailBackend (or mailgun, sendgrid, brevo, resend, amazon_ses ...),
# its key in ANYMAIL_API_KEY, and whatever else it needs in ANYMAIL_OPTIONS as a JSON object
# ({"MAILGUN_SENDER_DOMAIN": "mg.example.com"}).
ANYMAIL_API_KEY = env("ANYMAIL_API_KEY", "")
ANYMAIL_OPTIONS = env("ANYMAIL_OPTIONS", "")
if EMAIL_BACKEND.startswith("anymail.backends."):
    import json as _json

    INSTALLED_APPS.append("anymail")
    _esp = EMAIL_BACKEND.split(".")[2].upper()
    ANYMAIL = {"POSTMARK_SERVER_TOKEN" if _esp == "POSTMARK" else f"{_esp}_API_KEY":
               ANYMAIL_API_KEY}
    try:
        ANYMAIL.update(_json.loads(ANYMAIL_OPTIONS or "{}"))
    except ValueError as exc:
        raise ImproperlyConfigured(f"ANYMAIL_OPTIONS must be a JSON object: {exc}")

# The task queue: the database (the default, chosen by measurement in docs/deployment.md) or
# Redis through RQ (`pip install -e .[rq]`; workers run `manage.py rqworker --with-scheduler`).
TASK_BACKEND = env("TASK_BACKEND", "database")
if TASK_BACKEND == "rq":
    if not REDIS_URL:
        raise ImproperlyConfigured("TASK_BACKEND=rq needs REDIS_URL.")
    INSTALLED_APPS.append("django_rq")
    RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 3600}}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend"}}
elif TASK_BACKEND != "database":
    raise ImproperlyConfigured(f"TASK_BACKEND must be 'database' or 'rq', not {TASK_BACKEND!r}")
