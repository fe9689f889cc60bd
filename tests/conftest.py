"""Shared fixtures. Three customers, as in the house style: alice owns things, bob is another
customer on the same plan, charlie has no access to anything of theirs."""

import socket
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connection
from django_tasks_db.management.commands import db_worker

from credits.actions import grant
from jobs import progress
from tests.factories import enable_totp, make_personal_model, make_user

# The browser fixtures (a real web server + worker, and Chromium) are shared by every browser
# test, so one Chromium serves the whole session.
pytest_plugins = ["tests.browser_fixtures"]


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
    yield
    progress._restart.clear()  # a test's lost GPU (jobs.progress.request_restart) stays its own


class FakeServers:
    """The fakes of outside services (fakes/) a test module uses: each started once, at its
    first use in the module, and reset whenever a test asks for it (and after the test)."""

    def __init__(self):
        self.running: dict[tuple, object] = {}

    def get(self, cls, **options):
        key = (cls, tuple(sorted(options.items())))
        if key not in self.running:
            self.running[key] = cls(**options).start()
        fake = self.running[key]
        fake.reset()
        return fake

    def reset_all(self):
        for fake in self.running.values():
            fake.reset()

    def stop_all(self):
        for fake in self.running.values():
            fake.stop()


@pytest.fixture(scope="module")
def _fake_servers():
    servers = FakeServers()
    yield servers
    servers.stop_all()


@pytest.fixture
def fake_servers(_fake_servers):
    """`fake_servers.get(FakeStripe)`: the module's fake, reset for this test."""
    yield _fake_servers
    _fake_servers.reset_all()


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
def staff_client(client, db):
    """A client signed in as staff with two-factor authentication, as staff pages require."""
    staff = make_user("staff@example.com", is_staff=True)
    enable_totp(staff)
    client.force_login(staff)
    return client


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def run_jobs(db, django_capture_on_commit_callbacks):
    """Run every task that is ready now, in this process, the way `db_worker --batch` does.

    Inside the test's transaction nothing commits, so what a task asks to run on commit (the
    signals of finished work) runs when the task returns, as it would in a worker."""

    class Worker(db_worker.Worker):
        def run_task(self, db_task_result):
            with django_capture_on_commit_callbacks(execute=True):
                super().run_task(db_task_result)

    def run(max_tasks=None):
        # The worker closes "old" connections between tasks; inside the test's transaction that
        # would close PostgreSQL's test connection (the test client skips it the same way).
        with mock.patch.object(db_worker, "close_old_connections", lambda: None):
            Worker(
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


@pytest.fixture
def rich_alice(alice):
    grant(alice, 95, reason="test", reference="test:generation")  # 100 credits in all
    return alice


@pytest.fixture
def personal_model(rich_alice):
    return make_personal_model(rich_alice)


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
