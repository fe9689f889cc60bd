from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from api.models import ApiKey


def test_create_api_key_prints_a_working_key(alice):
    out, err = StringIO(), StringIO()

    call_command("create_api_key", "Alice@Example.com", "--name", "ci", stdout=out, stderr=err)

    raw = out.getvalue().strip()
    assert raw.startswith("lk_")
    key = ApiKey.objects.get(user=alice)
    assert key.name == "ci"
    assert raw not in key.key_hash and key.prefix == raw[:10]
    assert "shown once" in err.getvalue()
    response = Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/me")
    assert response.json()["email"] == "alice@example.com"


def test_create_api_key_unknown_email(db):
    with pytest.raises(CommandError, match="nobody@example.com"):
        call_command("create_api_key", "nobody@example.com", stdout=StringIO())
    assert not ApiKey.objects.exists()
