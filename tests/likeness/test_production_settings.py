"""The production block of the settings: Redis for the cache, rate limits and sessions,
persistent PostgreSQL connections, S3/R2 storage, e-mail through django-anymail, and the task
queue's backend, each switched on by its environment variable alone."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "p" * 20 + "-random-enough-secret-key-0123456789"
PRODUCTION = {"DEBUG": "0", "SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "likeness.example"}
CLEARED = ("DATABASE_URL", "REDIS_URL", "EMAIL_BACKEND", "ANYMAIL_API_KEY", "ANYMAIL_OPTIONS",
           "TASK_BACKEND", "AWS_STORAGE_BUCKET_NAME", "DJANGO_SETTINGS_MODULE", "TESTING")
SHOW = (
    "import django, os, json; "
    "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'likeness.settings'); "
    "django.setup(); "
    "from django.conf import settings as s; "
    "print(json.dumps({'cache': s.CACHES['default'], 'session': s.SESSION_ENGINE, "
    "'db': {k: v for k, v in s.DATABASES['default'].items() if k != 'OPTIONS'}, "
    "'storages': {k: {'BACKEND': v['BACKEND'], 'OPTIONS': {o: str(x) for o, x in "
    "v.get('OPTIONS', {}).items()}} for k, v in s.STORAGES.items()}, "
    "'apps': s.INSTALLED_APPS, 'email': s.EMAIL_BACKEND, "
    "'anymail': getattr(s, 'ANYMAIL', None), 'tasks': s.TASKS, "
    "'rq': getattr(s, 'RQ_QUEUES', None)}, default=str))"
)


@pytest.fixture
def start(tmp_path):
    def run(**variables):
        env = {k: v for k, v in os.environ.items() if k not in CLEARED}
        env["DATA_DIR"] = str(tmp_path / "data")
        env.update(PRODUCTION)
        env.update(variables)
        return subprocess.run([sys.executable, "-c", SHOW], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)

    return run


def started(result):
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def refused(result, message):
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr, result.stderr


def test_without_redis_the_cache_stays_in_the_process(start):
    settings = started(start())
    assert settings["cache"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert settings["session"] == "django.contrib.sessions.backends.db"


def test_redis_holds_the_cache_rate_limits_and_sessions(start):
    settings = started(start(REDIS_URL="redis://cache.internal:6379/2"))
    assert settings["cache"] == {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                 "LOCATION": "redis://cache.internal:6379/2",
                                 "KEY_PREFIX": "likeness"}
    # Read from Redis, written through to the database: a flushed Redis signs nobody out.
    assert settings["session"] == "django.contrib.sessions.backends.cached_db"


def test_postgres_connections_are_reused_and_checked(start):
    settings = started(start(DATABASE_URL="postgres://u:p@db.internal:5432/likeness"))
    assert settings["db"]["ENGINE"] == "django.db.backends.postgresql"
    assert settings["db"]["CONN_MAX_AGE"] == 60
    assert settings["db"]["CONN_HEALTH_CHECKS"] is True
    settings = started(start(DATABASE_URL="postgres://u:p@db/likeness", DB_CONN_MAX_AGE="0",
                             DB_CONN_HEALTH_CHECKS="0"))
    assert (settings["db"]["CONN_MAX_AGE"], settings["db"]["CONN_HEALTH_CHECKS"]) == (0, False)


def test_sqlite_connections_are_reused_per_thread_too(start):
    # A new connection per request re-reads the schema: 2.8 ms a request on the gallery.
    settings = started(start())
    assert settings["db"]["ENGINE"] == "django.db.backends.sqlite3"
    assert (settings["db"]["CONN_MAX_AGE"], settings["db"]["CONN_HEALTH_CHECKS"]) == (60, True)
    settings = started(start(DB_CONN_MAX_AGE="0"))
    assert settings["db"]["CONN_MAX_AGE"] == 0


def test_a_bucket_moves_every_file_to_s3_or_r2_privately(start):
    settings = started(start(AWS_STORAGE_BUCKET_NAME="likeness-files",
                             AWS_S3_ENDPOINT_URL="https://acct.r2.cloudflarestorage.com",
                             AWS_S3_REGION_NAME="auto", AWS_ACCESS_KEY_ID="id",
                             AWS_SECRET_ACCESS_KEY="secret"))
    default = settings["storages"]["default"]
    assert default["BACKEND"] == "likeness.storage.S3Storage"
    assert default["OPTIONS"]["bucket_name"] == "likeness-files"
    assert default["OPTIONS"]["endpoint_url"] == "https://acct.r2.cloudflarestorage.com"
    assert default["OPTIONS"]["default_acl"] == "None"
    assert default["OPTIONS"]["querystring_auth"] == "True"
    # Static files are hashed and compressed for whitenoise, never in the bucket.
    assert settings["storages"]["staticfiles"]["BACKEND"] == (
        "whitenoise.storage.CompressedManifestStaticFilesStorage")


def test_anymail_sends_through_an_email_service(start):
    settings = started(start(EMAIL_BACKEND="anymail.backends.postmark.EmailBackend",
                             ANYMAIL_API_KEY="pm-token"))
    assert "anymail" in settings["apps"]
    assert settings["anymail"] == {"POSTMARK_SERVER_TOKEN": "pm-token"}
    settings = started(start(EMAIL_BACKEND="anymail.backends.mailgun.EmailBackend",
                             ANYMAIL_API_KEY="mg-key",
                             ANYMAIL_OPTIONS='{"MAILGUN_SENDER_DOMAIN": "mg.example.com"}'))
    assert settings["anymail"] == {"MAILGUN_API_KEY": "mg-key",
                                   "MAILGUN_SENDER_DOMAIN": "mg.example.com"}


def test_smtp_needs_no_anymail(start):
    settings = started(start(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend"))
    assert "anymail" not in settings["apps"] and settings["anymail"] is None


def test_bad_anymail_options_are_refused(start):
    refused(start(EMAIL_BACKEND="anymail.backends.mailgun.EmailBackend",
                  ANYMAIL_OPTIONS="{not json"), "ANYMAIL_OPTIONS must be a JSON object")


def test_the_database_queue_is_the_default(start):
    settings = started(start())
    assert settings["tasks"]["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"


def test_the_redis_queue_is_chosen_by_task_backend(start):
    settings = started(start(TASK_BACKEND="rq", REDIS_URL="redis://127.0.0.1:6379/1"))
    assert settings["tasks"]["default"]["BACKEND"] == "django_tasks_rq.RQBackend"
    assert "django_rq" in settings["apps"]
    assert settings["rq"]["default"]["URL"] == "redis://127.0.0.1:6379/1"


def test_the_redis_queue_without_redis_is_refused(start):
    refused(start(TASK_BACKEND="rq"), "TASK_BACKEND=rq needs REDIS_URL")
    refused(start(TASK_BACKEND="kafka"), "TASK_BACKEND must be 'database' or 'rq'")


def test_task_routes_make_the_queues_of_both_backends(start):
    settings = started(start(TASK_ROUTES="local=gpu-a100, studio.tasks.send_training_email=mail"))
    assert settings["tasks"]["default"]["QUEUES"] == ["default", "gpu-a100", "mail"]
    settings = started(start(TASK_BACKEND="rq", REDIS_URL="redis://127.0.0.1:6379/1"))
    assert sorted(settings["rq"]) == ["default", "gpu"]
    assert settings["tasks"]["default"]["QUEUES"] == ["default", "gpu"]


def test_bad_task_routes_and_gpu_jobs_are_refused(start):
    refused(start(TASK_ROUTES="local"), "TASK_ROUTES: 'local' is not kind=queue")
    refused(start(TASK_ROUTES="local=gpu queue"), "TASK_ROUTES: 'local=gpu queue'")
    refused(start(GPU_JOBS_PER_DEVICE="0"), "GPU_JOBS_PER_DEVICE must be 1 or more")
