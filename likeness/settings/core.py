"""The Django project: paths, the signing key and hosts, apps and middleware, the database,
accounts, e-mail, files, caches and sessions."""

import json
import os
import sys
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from likeness.env import env, env_bool, env_int, env_list, installation_secret

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(env("DATA_DIR", str(BASE_DIR / "var"))).resolve()
TESTING = "pytest" in sys.modules or env_bool("TESTING")

# DEBUG=1 (the default) is the embedded demo profile: SQLite, local files, the mail outbox,
# plain HTTP on loopback. It is not Django's DEBUG: Django's debug pages print the settings and
# the environment on a 500 and every URL pattern (the admin's path included) on a 404, so they
# show only when asked for with DJANGO_DEBUG_PAGES=1, and never in the production profile. They
# are not shown to loopback clients either: behind a reverse proxy or a tunnel on the same
# machine, every visitor comes from loopback.
DEMO_PROFILE = env_bool("DEBUG", True)
DJANGO_DEBUG_PAGES = env_bool("DJANGO_DEBUG_PAGES", False)
DEBUG = DEMO_PROFILE and DJANGO_DEBUG_PAGES
# Keys that were published, which sign nothing here.
_PUBLIC_KEYS = {"django-insecure-likeness-demo-key-change-me"}
SECRET_KEY = env("SECRET_KEY", "")
if not SECRET_KEY and DEMO_PROFILE:
    # A random key per installation, made at the first start and kept in DATA_DIR (mode 600).
    SECRET_KEY = installation_secret(DATA_DIR / "secret_key")
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if DEMO_PROFILE else "")
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

if SECRET_KEY in _PUBLIC_KEYS:
    raise ImproperlyConfigured("SECRET_KEY is a published key: unset it (the demo profile makes "
                               "its own) or set a random value of 32+ chars.")
if not DEMO_PROFILE:
    # The production profile refuses to start half-configured.
    if len(SECRET_KEY) < 32:
        raise ImproperlyConfigured("DEBUG is off: set SECRET_KEY to a random value of 32+ chars.")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("DEBUG is off: set ALLOWED_HOSTS (comma-separated).")
    if DJANGO_DEBUG_PAGES:
        raise ImproperlyConfigured("DJANGO_DEBUG_PAGES is for the demo profile only: debug "
                                   "pages print the settings and the environment.")

# E-mail through a service's HTTP API (django-anymail): EMAIL_BACKEND set to, e.g.,
# anymail.backends.postmark.EmailBackend (or mailgun, sendgrid, brevo, resend, amazon_ses ...),
# its key in ANYMAIL_API_KEY, and whatever else it needs in ANYMAIL_OPTIONS as a JSON object.
# The default outbox prints every mail and keeps a copy under DATA_DIR/outbox, which the demo's
# /outbox page lists so a person can click a verification link without a mail server.
EMAIL_BACKEND = env("EMAIL_BACKEND", "web.mail.OutboxBackend")
_ANYMAIL = EMAIL_BACKEND.startswith("anymail.backends.")
TASK_BACKEND = env("TASK_BACKEND", "database")  # the queue; see likeness.settings.jobs

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
    "privacy",
    "safety",
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
    "observability",
    *(["anymail"] if _ANYMAIL else []),
    *(["django_rq"] if TASK_BACKEND == "rq" else []),
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
    "likeness.files.UploadLimitMiddleware",  # before anything reads an upload's body
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.staff.StaffGuardMiddleware",
    "api.middleware.ApiKeyMiddleware",
    "likeness.ratelimit.CostlyActionMiddleware",
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
# Persistent connections (DB_CONN_MAX_AGE) are checked before reuse: a database restart or a
# proxy that drops idle connections costs one reconnect instead of a failed request.
DB_CONN_MAX_AGE = env_int("DB_CONN_MAX_AGE", 60)
DB_CONN_HEALTH_CHECKS = env_bool("DB_CONN_HEALTH_CHECKS", True)
if DATABASE_URL:
    DATABASES = {"default": {
        **dj_database_url.parse(DATABASE_URL, conn_max_age=DB_CONN_MAX_AGE),
        "CONN_HEALTH_CHECKS": DB_CONN_HEALTH_CHECKS, "TEST": {}}}
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "likeness.sqlite3",
            # Reused too (per thread): opening the file, its PRAGMAs and reading the schema
            # again took 2.8 ms of every request (bench/gallery_server.py).
            "CONN_MAX_AGE": DB_CONN_MAX_AGE,
            "CONN_HEALTH_CHECKS": DB_CONN_HEALTH_CHECKS,
            "OPTIONS": {
                # WAL lets the web and the worker read while the other writes; IMMEDIATE takes
                # the write lock at BEGIN so two writers queue instead of deadlocking.
                "init_command": (
                    "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=10000"
                ),
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            # A file, not Django's in-memory default: with an in-memory database the live
            # server's thread (which receives the fakes' webhooks) would share one connection
            # with the test.
            "TEST": {"NAME": str(Path(tempfile.gettempdir())
                                 / f"likeness-test-{os.getpid()}.sqlite3")} if TESTING else {},
        }
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
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if not DEMO_PROFILE else "http"
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
ACCOUNT_LOGOUT_REDIRECT_URL = "landing"
DEMO_EMAIL = env("DEMO_EMAIL", "demo@example.com")
DEMO_PASSWORD = env("DEMO_PASSWORD", "likeness-demo")

# --- E-mail ---------------------------------------------------------------------------------
EMAIL_OUTBOX_DIR = DATA_DIR / "outbox"
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Likeness <hello@likeness.local>")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
SHOW_OUTBOX = env_bool("SHOW_OUTBOX", DEMO_PROFILE)
ANYMAIL_API_KEY = env("ANYMAIL_API_KEY", "")
ANYMAIL_OPTIONS = env("ANYMAIL_OPTIONS", "")
if _ANYMAIL:
    _esp = EMAIL_BACKEND.split(".")[2].upper()
    try:
        ANYMAIL = {"POSTMARK_SERVER_TOKEN" if _esp == "POSTMARK" else f"{_esp}_API_KEY":
                   ANYMAIL_API_KEY, **json.loads(ANYMAIL_OPTIONS or "{}")}
    except ValueError as exc:
        raise ImproperlyConfigured(f"ANYMAIL_OPTIONS must be a JSON object: {exc}")

# --- Files ----------------------------------------------------------------------------------
MEDIA_ROOT = DATA_DIR / "media"
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Any S3-compatible store (AWS S3, Cloudflare R2, MinIO) replaces the local files when a bucket
# is set. Objects stay private; they leave only through short-lived signed URLs.
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", "")
_S3_OPTIONS = {
    "bucket_name": AWS_STORAGE_BUCKET_NAME,
    "access_key": env("AWS_ACCESS_KEY_ID", "") or None,
    "secret_key": env("AWS_SECRET_ACCESS_KEY", "") or None,
    "region_name": env("AWS_S3_REGION_NAME", "") or None,
    "endpoint_url": env("AWS_S3_ENDPOINT_URL", "") or None,
    "default_acl": None,
    "querystring_auth": True,
    "querystring_expire": env_int("AWS_QUERYSTRING_EXPIRE", 300),
    "file_overwrite": False,
}
if AWS_STORAGE_BUCKET_NAME:
    from botocore.config import Config as _BotoConfig

    # R2 rejects the CRC32 checksums boto3 >= 1.36 sends by default.
    _S3_OPTIONS["client_config"] = _BotoConfig(request_checksum_calculation="when_required",
                                               response_checksum_validation="when_required")
STORAGES = {
    # Private: no MEDIA_URL is served; files leave only through views that check the owner.
    "default": {"BACKEND": "likeness.storage.S3Storage", "OPTIONS": _S3_OPTIONS}
    if AWS_STORAGE_BUCKET_NAME else {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT, "base_url": "/media-not-served/"},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEMO_PROFILE or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEMO_PROFILE
WHITENOISE_AUTOREFRESH = DEMO_PROFILE
if DEMO_PROFILE:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing root

# --- Caches and sessions --------------------------------------------------------------------
# Redis: one cache shared by every web process, so rate limits count across all of them;
# sessions are read from it and written through to the database (a flushed Redis signs nobody
# out). Unset: a cache per process.
REDIS_URL = env("REDIS_URL", "")
CACHE_KEY_PREFIX = env("CACHE_KEY_PREFIX", "likeness")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": REDIS_URL, "KEY_PREFIX": CACHE_KEY_PREFIX}}
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
