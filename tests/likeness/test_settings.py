"""The settings read the environment strictly: the production profile refuses to start
half-configured, secrets can come from files, and bad values are named in the error."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k" * 20 + "-random-enough-secret-key-0123456789"
# Every variable these tests set; the rest of the environment is left as it is.
OURS = ("DEBUG", "DJANGO_DEBUG_PAGES", "SECRET_KEY", "SECRET_KEY_FILE", "ALLOWED_HOSTS",
        "DATABASE_URL", "DATABASE_URL_FILE", "DATA_DIR", "DJANGO_SETTINGS_MODULE", "TESTING")
SETUP = (
    "import django, os, json; "
    "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'likeness.settings'); "
    "django.setup(); "
    "from django.conf import settings as s; "
    "print(json.dumps({'debug': s.DEBUG, 'demo': s.DEMO_PROFILE, 'key': s.SECRET_KEY, "
    "'hosts': s.ALLOWED_HOSTS, "
    "'engine': s.DATABASES['default']['ENGINE'], 'name': str(s.DATABASES['default']['NAME']), "
    "'host': s.DATABASES['default'].get('HOST', '')}))"
)


@pytest.fixture
def start(tmp_path):
    def run(**variables):
        env = {k: v for k, v in os.environ.items() if k not in OURS}
        env["DATA_DIR"] = str(tmp_path / "data")
        env.update(variables)
        return subprocess.run([sys.executable, "-c", SETUP], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)

    return run


def started(result):
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def refused(result, message):
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr, result.stderr


def test_the_defaults_start_in_the_demo_profile_on_sqlite(start, tmp_path):
    settings = started(start())
    assert settings["demo"] is True
    assert settings["debug"] is False  # no Django debug pages unless asked for
    assert settings["engine"] == "django.db.backends.sqlite3"
    assert settings["name"] == str(tmp_path / "data" / "likeness.sqlite3")
    assert "127.0.0.1" in settings["hosts"]


def test_the_demo_profile_makes_its_own_signing_key_once(start, tmp_path):
    first = started(start())["key"]
    key_file = tmp_path / "data" / "secret_key"
    assert key_file.read_text().strip() == first
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert len(first) >= 50 and "insecure" not in first
    assert started(start())["key"] == first, "the same key after a restart"
    other = started(start(DATA_DIR=str(tmp_path / "elsewhere")))["key"]
    assert other != first, "another installation has another key"


def test_an_explicit_secret_key_wins_over_the_generated_one(start, tmp_path):
    assert started(start(SECRET_KEY=GOOD_KEY))["key"] == GOOD_KEY
    assert not (tmp_path / "data" / "secret_key").exists()


def test_a_key_file_left_readable_by_others_is_closed(start, tmp_path):
    first = started(start())["key"]
    key_file = tmp_path / "data" / "secret_key"
    key_file.chmod(0o644)
    assert started(start())["key"] == first
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_the_published_demo_key_is_refused(start):
    refused(start(SECRET_KEY="django-insecure-likeness-demo-key-change-me"), "published key")


def test_debug_pages_only_when_asked_and_never_in_production(start):
    assert started(start(DJANGO_DEBUG_PAGES="1"))["debug"] is True
    refused(start(DEBUG="0", SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="likeness.example",
                  DJANGO_DEBUG_PAGES="1"), "DJANGO_DEBUG_PAGES is for the demo profile only")


ERROR_PAGES = (
    "import django, os, json; from unittest import mock; "
    "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'likeness.settings'); "
    "django.setup(); "
    "from django.conf import settings; from django.test import Client; "
    "c = Client(HTTP_HOST='127.0.0.1', raise_request_exception=False); "
    "missing = c.get('/no-such-page/'); "
    "p = mock.patch('web.views.render', side_effect=RuntimeError('boom')); p.start(); "
    "crash = c.get('/'); p.stop(); "
    "print(json.dumps({'admin': settings.ADMIN_PATH, 'codes': [missing.status_code, "
    "crash.status_code], 'missing': missing.content.decode(), "
    "'crash': crash.content.decode()}))"
)


@pytest.mark.parametrize("variables", [{}, {"ADMIN_PATH": "hidden-staff-door/"}])
def test_error_pages_of_the_default_profile_tell_nothing(start, variables, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in OURS}
    env.update(DATA_DIR=str(tmp_path / "data"), **variables)
    result = subprocess.run([sys.executable, "-c", ERROR_PAGES], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    pages = started(result)
    assert pages["codes"] == [404, 500]
    for page in (pages["missing"], pages["crash"]):
        assert pages["admin"] not in page  # the URL patterns are not listed
        for leak in ("URLconf", "Traceback", "DJANGO_SETTINGS_MODULE", "SECRET_KEY", "boom",
                     str(tmp_path)):
            assert leak not in page


def test_production_without_a_secret_key_refuses_to_start(start):
    refused(start(DEBUG="0", ALLOWED_HOSTS="likeness.example"), "set SECRET_KEY")


def test_production_with_a_short_secret_key_refuses_to_start(start):
    refused(start(DEBUG="0", SECRET_KEY="short", ALLOWED_HOSTS="likeness.example"),
            "set SECRET_KEY")


def test_production_without_allowed_hosts_refuses_to_start(start):
    refused(start(DEBUG="false", SECRET_KEY=GOOD_KEY), "set ALLOWED_HOSTS")


def test_production_with_a_key_and_hosts_starts(start):
    settings = started(start(DEBUG="0", SECRET_KEY=GOOD_KEY,
                             ALLOWED_HOSTS="likeness.example, www.likeness.example"))
    assert settings["debug"] is False
    assert settings["key"] == GOOD_KEY
    assert settings["hosts"] == ["likeness.example", "www.likeness.example"]


def test_the_secret_key_is_read_from_a_file(start, tmp_path):
    secret = tmp_path / "secret_key"
    secret.write_text(GOOD_KEY + "\n")
    settings = started(start(DEBUG="0", SECRET_KEY_FILE=str(secret),
                             ALLOWED_HOSTS="likeness.example"))
    assert settings["key"] == GOOD_KEY


def test_an_unreadable_secret_file_is_named(start, tmp_path):
    missing = tmp_path / "no-such-file"
    refused(start(DEBUG="0", SECRET_KEY_FILE=str(missing), ALLOWED_HOSTS="likeness.example"),
            f"SECRET_KEY_FILE={missing} cannot be read")


def test_a_postgres_database_url_switches_the_engine(start):
    settings = started(start(DATABASE_URL="postgres://likeness:pw@db.internal:5432/likeness"))
    assert settings["engine"] == "django.db.backends.postgresql"
    assert (settings["name"], settings["host"]) == ("likeness", "db.internal")


@pytest.mark.parametrize(("name", "value", "message"), [
    ("DEBUG", "maybe", "DEBUG must be a boolean (1/0, true/false), not 'maybe'"),
    ("JOB_LEASE_SECONDS", "soon", "JOB_LEASE_SECONDS must be an integer, not 'soon'"),
    ("JOB_HEARTBEAT_SECONDS", "often", "JOB_HEARTBEAT_SECONDS must be a number, not 'often'"),
])
def test_a_bad_value_is_refused_clearly(start, name, value, message):
    refused(start(**{name: value}), message)
