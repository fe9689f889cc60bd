"""Public links: unguessable, revocable, anonymous, and showing nothing but the image."""

import re

from django.urls import reverse

from gallery import sharing
from generation.models import Image
from tests.factories import make_image

HX = {"HTTP_HX_REQUEST": "true"}


def share_link(html: str) -> str:
    return re.search(r"data-share-url>([^<]+)<", html).group(1)


def test_share_then_open_anonymously(alice_client, alice, client):
    image = make_image(alice, prompt="my secret prompt with zorvek")
    response = alice_client.post(reverse("image_share", args=[image.pk]), **HX)
    assert response.status_code == 200
    url = share_link(response.content.decode())
    image.refresh_from_db()
    assert len(image.share_token) >= 43 and image.shared_at
    assert url == f"http://testserver/s/{image.share_token}"

    alice_client.logout()
    page = client.get(url)

    assert page.status_code == 200
    body = page.content.decode()
    image_url = f"http://testserver/s/{image.share_token}/image"
    assert f'<meta property="og:image" content="{image_url}">' in body
    assert '<meta property="og:title"' in body and 'name="twitter:card"' in body
    assert f'<meta property="og:url" content="{url}">' in body
    assert page["X-Robots-Tag"] == "noindex" and page["Referrer-Policy"] == "no-referrer"
    # Nothing else of the account: not the prompt, the e-mail, the name, other images.
    for private in ("secret prompt", "zorvek", "alice", "Alice", str(image.pk),
                    str(image.generation_id), "credit"):
        assert private not in body, private

    file = client.get(image_url)
    assert file.status_code == 200 and file["Content-Type"] == "image/png"
    with image.file.open("rb") as stored:
        assert b"".join(file.streaming_content) == stored.read()
    assert str(image.pk) not in file["Content-Disposition"]


def test_sharing_twice_keeps_the_link_and_revoking_kills_it(alice_client, alice, client):
    image = make_image(alice)
    first = sharing.share(image)
    assert sharing.share(image) == first

    response = alice_client.post(reverse("image_unshare", args=[image.pk]), **HX)
    assert response.status_code == 200 and "Create a public link" in response.content.decode()

    assert client.get(reverse("shared_image", args=[first])).status_code == 404
    assert client.get(reverse("shared_image_file", args=[first])).status_code == 404
    again = sharing.share(image)
    assert again != first
    assert client.get(reverse("shared_image", args=[again])).status_code == 200


def test_unknown_and_malformed_tokens_are_404(client, alice):
    image = make_image(alice)
    token = sharing.share(image)
    for bad in ("x" * 43, token[:-1], token + "a", "short", "%2e%2e", "a" * 65):
        assert client.get(f"/s/{bad}").status_code == 404, bad
        assert client.get(f"/s/{bad}/image").status_code == 404, bad


def test_shared_state_on_the_details(alice_client, alice):
    image = make_image(alice)
    body = alice_client.get(reverse("image_detail", args=[image.pk])).content.decode()
    assert "Create a public link" in body
    sharing.share(image)
    body = alice_client.get(reverse("image_detail", args=[image.pk])).content.decode()
    assert f"/s/{image.share_token}" in body and "Stop sharing" in body


def test_share_without_javascript_redirects_back(alice_client, alice):
    image = make_image(alice)
    response = alice_client.post(reverse("image_share", args=[image.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("image_detail", args=[image.pk])
    assert Image.objects.get(pk=image.pk).share_token
    response = alice_client.post(reverse("image_unshare", args=[image.pk]),
                                 {"next": "https://evil.example/"})
    assert response["Location"] == reverse("image_detail", args=[image.pk])
    assert Image.objects.get(pk=image.pk).share_token is None


def test_deleted_image_link_is_404(alice, client):
    image = make_image(alice)
    token = sharing.share(image)
    image.delete()
    assert client.get(reverse("shared_image", args=[token])).status_code == 404
