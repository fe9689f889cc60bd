"""The acceptable-use and privacy pages: built-in text, or the operator's own file in
TERMS_DIR (read on each request); linked from every footer and from the consent step."""

import pytest
from django.urls import reverse


@pytest.mark.parametrize(("page", "text"), [("acceptable-use", "Acceptable use"),
                                            ("privacy", "Privacy")])
def test_the_built_in_pages(client, settings, tmp_path, page, text):
    settings.TERMS_DIR = str(tmp_path / "none")
    response = client.get(reverse("terms", args=[page]))
    assert response.status_code == 200 and "<h1" in response.content.decode()
    assert text in response.content.decode()


def test_the_operator_text_replaces_the_built_in_one(client, settings, tmp_path):
    settings.TERMS_DIR = str(tmp_path)
    (tmp_path / "acceptable-use.html").write_text("<h1>Our rules</h1><p>Be kind.</p>")
    body = client.get(reverse("terms", args=["acceptable-use"])).content.decode()
    assert "<h1>Our rules</h1><p>Be kind.</p>" in body and "What you must not make" not in body
    (tmp_path / "acceptable-use.html").write_text("<p>Changed, no restart.</p>")
    assert "Changed, no restart." in client.get(
        reverse("terms", args=["acceptable-use"])).content.decode()


def test_unknown_pages_are_404(client, db):
    assert client.get("/terms/anything/").status_code == 404


def test_every_footer_links_them(client, alice_client):
    for response in (client.get("/"), alice_client.get("/dashboard/")):
        body = response.content.decode()
        assert reverse("terms", args=["acceptable-use"]) in body
        assert reverse("terms", args=["privacy"]) in body
    assert reverse("removal_request") in client.get("/").content.decode()
