"""Security and observability: cookies, HSTS, the Content-Security-Policy, CORS, two-factor
authentication for staff, rate limits, logs, metrics, Sentry and PostHog (README: "Security"
and "Observability"). The middleware and apps they need are in likeness.settings.core."""

from csp.constants import NONCE, NONE, SELF

from likeness.env import env, env_bool, env_float, env_int, env_list
from likeness.settings.core import DEMO_PROFILE
from likeness.settings.providers import CLOUDFLARE_ACCOUNT_ID, CLOUDFLARE_BASE_URL, STRIPE_API_BASE

SESSION_COOKIE_SECURE = not DEMO_PROFILE
CSRF_COOKIE_SECURE = not DEMO_PROFILE
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEMO_PROFILE:
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
_stripe_pages = ["https://checkout.stripe.com", "https://billing.stripe.com"]
if not STRIPE_API_BASE.startswith("https://api.stripe.com"):
    _stripe_pages.append(STRIPE_API_BASE)  # a fake's pages live on its own host
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
# admin or any staff page opens (accounts.staff.StaffGuardMiddleware).
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Likeness"
STAFF_REQUIRE_MFA = env_bool("STAFF_REQUIRE_MFA", True)

# Rate limits. allauth's own for sign-in, sign-up and password reset (counted in the cache:
# set REDIS_URL so every web process shares the count), and ours for every costly action
# (likeness.ratelimit.COSTLY lists them): "N/second|minute|hour|day", comma-separated windows.
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
SENTRY_ENVIRONMENT = env("SENTRY_ENVIRONMENT", "production" if not DEMO_PROFILE else "development")
SENTRY_TRACES_SAMPLE_RATE = env_float("SENTRY_TRACES_SAMPLE_RATE", 0.0)
POSTHOG_API_KEY = env("POSTHOG_API_KEY", "")
POSTHOG_HOST = env("POSTHOG_HOST", "https://us.i.posthog.com")
