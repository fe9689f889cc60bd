"""A real stack for browser tests: migrate a fresh SQLite database in a temporary DATA_DIR,
start the web server and a worker as separate processes (as scripts/serve does), and drive
Debian's Chromium through Playwright."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (localhost)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up in {timeout}s")


class Stack:
    def __init__(self, data_dir: Path, base_url: str, env: dict):
        self.data_dir = data_dir
        self.base_url = base_url
        self.env = env

    def shell(self, code: str) -> str:
        """Run code against this stack's database; returns what it printed."""
        return subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT,
                              env=self.env, capture_output=True, text=True, check=True,
                              timeout=300).stdout

    @property
    def outbox(self) -> Path:
        return self.data_dir / "outbox"


@contextlib.contextmanager
def running_stack(data_dir: Path, extra_env: dict | None = None):
    """Migrate a fresh database in data_dir and run the web server and a worker on it until the
    block ends. extra_env is added to (and overrides) the stack's environment, e.g. to point
    billing at a FakeStripe."""
    port = _free_port()
    env = {
        key: value for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(DATA_DIR=str(data_dir), DEMO_PROVIDER_DELAY="0.2", DEBUG="1",
               PYTHONUNBUFFERED="1", JOB_HEARTBEAT_SECONDS="1", TRAINING_DEMO_SECONDS="3",
               PUBLIC_BASE_URL=f"http://127.0.0.1:{port}")
    env.update(extra_env or {})
    log = open(data_dir / "stack.log", "w")  # noqa: SIM115 (kept open while the stack runs)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env,
                   check=True, stdout=log, stderr=subprocess.STDOUT)
    processes = [
        subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}",
                          "--noreload"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT),
        subprocess.Popen([sys.executable, "manage.py", "db_worker", "--no-reload",
                          "--interval", "0.2", "--no-startup-delay"],
                         cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT),
    ]
    try:
        base_url = f"http://127.0.0.1:{port}"
        _wait_for(base_url + "/healthz")
        yield Stack(data_dir, base_url, env)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("browser-data")) as running:
        yield running


@pytest.fixture(scope="session")
def playwright_session():
    """One Playwright for the session: a second sync_playwright started and stopped inside a
    running one leaves the next one unable to start ("Sync API inside the asyncio loop"), so
    tests that launch their own Chromium (the fake camera's) take this one."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (scripts/test installs it as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_session):
    browser = playwright_session.chromium.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run"],
    )
    yield browser
    browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60000)  # generous on a busy machine; the checks are exact
    yield page
    context.close()
