"""scripts/serve warns when it listens beyond loopback: the demo profile is not a deployment.
It runs here against a stand-in virtualenv whose `python` only notes what it was asked."""

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def serve(tmp_path):
    (tmp_path / "scripts").mkdir()
    for name in ("serve", "setup"):
        shutil.copy(ROOT / "scripts" / name, tmp_path / "scripts" / name)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    stub = tmp_path / ".venv" / "bin" / "python"
    stub.parent.mkdir(parents=True)
    # The worker waits (as a worker does) until the web server, which returns at once, ends.
    stub.write_text('#!/usr/bin/env bash\necho "$@" >> "$(dirname "$0")/../../calls.log"\n'
                    '[[ "$*" == *db_worker* ]] && exec sleep 30\nexit 0\n')
    stub.chmod(0o755)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    (tmp_path / ".venv" / f".installed-{digest}").touch()

    def run(**env):
        done = subprocess.run(["bash", "scripts/serve"], cwd=tmp_path, capture_output=True,
                              text=True, timeout=60,
                              env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **env})
        calls = (tmp_path / "calls.log").read_text()
        assert "manage.py runserver" in calls, done.stderr
        return done

    return run


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::"])
def test_a_host_beyond_loopback_gets_a_clear_warning(serve, host):
    warning = serve(HOST=host).stderr
    assert f"WARNING: HOST={host} makes this demo reachable from other machines" in warning
    assert "demo@example.com / likeness-demo" in warning  # the password anyone can read
    assert "plain HTTP" in warning and "DEBUG=0" in warning


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_loopback_is_quiet(serve, host):
    assert "WARNING" not in serve(HOST=host).stderr
