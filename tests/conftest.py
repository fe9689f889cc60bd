"""Shared fixtures. Three customers, as in the house style: alice owns things, bob is another
customer on the same plan, charlie has no access to anything of theirs."""

from unittest import mock

import pytest
from allauth.account.models import EmailAddress
from django.core.cache import cache
from django.db import connection
from django_tasks_db.management.commands import db_worker

from accounts.models import User

# The browser fixtures (a real web server + worker, and Chromium) are shared by every browser
# test, so one Chromium serves the whole session.
pytest_plugins = ["tests.browser_fixtures"]

PASSWORD = "correct-horse-battery-9"


def make_user(email, *, password=PASSWORD, verified=True, **extra):
    user = User.objects.create_user(email, password, **extra)
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    return user


@pytest.fixture(autouse=True)
def _isolated_files(settings, tmp_path):
    """Every test gets its own media folder and mail outbox, and the demo provider is instant."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media", "base_url": "/media-not-served/"},
        },
    }
    settings.EMAIL_OUTBOX_DIR = tmp_path / "outbox"
    cache.clear()  # rate-limit counters and the like never leak from one test to the next
    settings.DEMO_PROVIDER_DELAY = 0
    settings.JOB_RETRY_BASE_SECONDS = 0


@pytest.fixture
def alice(db):
    return make_user("alice@example.com", name="Alice")


@pytest.fixture
def bob(db):
    return make_user("bob@example.com", name="Bob")


@pytest.fixture
def charlie(db):
    return make_user("charlie@example.com", name="Charlie")


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def run_jobs(db):
    """Run every task that is ready now, in this process, the way `db_worker --batch` does."""

    def run(max_tasks=None):
        # The worker closes "old" connections between tasks; inside the test's transaction that
        # would close PostgreSQL's test connection (the test client skips it the same way).
        with mock.patch.object(db_worker, "close_old_connections", lambda: None):
            db_worker.Worker(
                queue_names=["*"], interval=0, batch=True, backend_name="default",
                startup_delay=False, max_tasks=max_tasks, worker_id="pytest",
                excluded_queue_names=[],
            ).run()

    return run


def is_postgres():
    return connection.vendor == "postgresql"


def _database_url_is_postgres():
    import os

    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


requires_postgres = pytest.mark.skipif(
    not _database_url_is_postgres(),
    reason="concurrency is proven on PostgreSQL (scripts/test runs it there with DATABASE_URL)",
)
