from django.urls import reverse

from api.keys import authenticate_key, hash_key
from api.models import ApiKey


def test_a_new_key_is_shown_once(alice_client, alice):
    response = alice_client.post(reverse("api_keys"), {"name": "My laptop"})
    assert response.status_code == 200
    key = ApiKey.objects.get(user=alice)
    body = response.content.decode()
    start = body.index('id="new-api-key"')
    raw = body[body.index(">", start) + 1: body.index("</code>", start)]
    assert key.key_hash == hash_key(raw)
    assert authenticate_key(raw) == alice
    assert "My laptop" in body

    again = alice_client.get(reverse("api_keys")).content.decode()
    assert raw not in again
    assert key.prefix in again


def test_revoke_a_key(alice_client, alice):
    alice_client.post(reverse("api_keys"), {"name": "CI"})
    key = ApiKey.objects.get(user=alice)
    response = alice_client.post(reverse("api_key_revoke", args=[key.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("api_keys")
    key.refresh_from_db()
    assert not key.is_active
    page = alice_client.get(reverse("api_keys")).content.decode()
    assert "Revoked" in page


def test_revoke_needs_post(alice_client, alice):
    alice_client.post(reverse("api_keys"), {"name": "CI"})
    key = ApiKey.objects.get(user=alice)
    assert alice_client.get(reverse("api_key_revoke", args=[key.pk])).status_code == 405
    key.refresh_from_db()
    assert key.is_active
