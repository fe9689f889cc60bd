"""Every object URL of alice's is a 404 for bob: the same answer as for an id that does not
exist, so nothing tells him it is there."""

from tests.api.conftest import assert_error
from tests.factories import make_image


def test_bob_gets_404_for_every_alice_object(alice, bob, alice_api, bob_api):
    image = make_image(alice)
    urls = [
        f"/api/v1/generations/{image.generation_id}",
        f"/api/v1/images/{image.id}",
        f"/api/v1/images/{image.id}/file",
        f"/api/v1/images/{image.id}/thumbnail",
    ]

    for url in urls:
        assert alice_api.get(url).status_code == 200, url
        details = assert_error(bob_api.get(url), 404, "not_found")
        assert details == {}


def test_bob_lists_none_of_alice_images(alice, bob, bob_api):
    make_image(alice)

    body = bob_api.get("/api/v1/images").json()

    assert body == {"items": [], "next_cursor": None}


def test_bob_session_gets_404_too(alice, bob, client):
    image = make_image(alice)
    client.force_login(bob)

    assert_error(client.get(f"/api/v1/images/{image.id}/file"), 404, "not_found")
