"""The README's Python client (examples/client.py), run as written against a real web server
and worker: create a model, upload photos, train, generate with it, download the images."""

import os
import subprocess
import sys

import pytest

from tests.browser_fixtures import ROOT
from tests.studio.photos import person_jpeg, selfie_jpeg

pytestmark = pytest.mark.slow


def test_the_readme_client_example_works(stack, tmp_path):
    key = stack.shell(
        "from accounts.models import User\n"
        "from api.keys import create_api_key\n"
        "from credits.actions import grant\n"
        "user = User.objects.create_user('client@example.com', 'a-long-password-1')\n"
        "grant(user, 100, reason='test', reference='test:client-example')\n"
        "print(create_api_key(user, 'example')[1])\n"
    ).strip().splitlines()[-1]
    photos = tmp_path / "photos"
    photos.mkdir()
    for number in range(6):
        (photos / f"me-{number}.jpg").write_bytes(person_jpeg(number))
    (photos / "notes.txt").write_text("not a photo")
    selfie = tmp_path / "selfie.jpg"  # the person in the photos, taken now
    selfie.write_bytes(selfie_jpeg())
    out = tmp_path / "out"
    env = {**os.environ, "LIKENESS_URL": stack.base_url, "LIKENESS_KEY": key}
    result = subprocess.run([sys.executable, "examples/client.py", str(photos), str(out),
                             str(selfie)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 accepted, 1 refused" in result.stdout
    assert "notes.txt: unsupported_format" in result.stdout
    assert "consent: verified" in result.stdout
    saved = sorted(out.iterdir())
    assert len(saved) == 2 and all(path.stat().st_size > 1000 for path in saved)
