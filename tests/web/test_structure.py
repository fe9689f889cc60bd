"""Every page has the structure assistive technology navigates by: one h1, one main landmark,
headings that do not skip a level, landmarks told apart by their labels, and no content outside
a landmark (axe-core's page-has-heading-one, landmark-one-main, heading-order,
landmark-unique and region rules, which the journey reports as moderate findings)."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from tests.factories import make_image, make_personal_model

LANDMARKS = {"main", "nav", "header", "footer", "aside"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class Outline(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack: list[tuple[str, dict]] = []
        self.headings: list[int] = []
        self.mains = 0
        self.navs: list[str] = []
        self.outside: list[str] = []  # text in <body> outside every landmark

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        in_template = any(t == "template" for t, _ in self.stack)
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"} and not in_template:
            self.headings.append(int(tag[1]))
        if tag == "main":
            self.mains += 1
        if tag == "nav":
            self.navs.append(attrs.get("aria-label") or "")
        if tag not in VOID:
            self.stack.append((tag, attrs))

    def handle_data(self, data):
        if not data.strip() or not any(tag == "body" for tag, _ in self.stack):
            return
        for tag, attrs in self.stack:
            if tag in LANDMARKS | {"script", "style", "template", "dialog"} or (
                    attrs.get("role") in {"region", "dialog", "banner", "contentinfo"}
                    or "hidden" in attrs or attrs.get("aria-hidden") == "true"):
                return
        self.outside.append(data.strip()[:40])

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break


def outline(html: str) -> Outline:
    parsed = Outline()
    parsed.feed(html)
    return parsed


def check(url, response):
    assert response.status_code in (200, 404), (url, response.status_code)
    page = outline(response.content.decode())
    assert page.headings.count(1) == 1, (url, page.headings)
    assert page.headings[0] == 1, (url, "the first heading is not the h1", page.headings)
    skips = [(a, b) for a, b in zip(page.headings, page.headings[1:], strict=False) if b > a + 1]
    assert not skips, (url, "heading levels skipped", skips)
    assert page.mains == 1, (url, page.mains)
    assert len(page.navs) == len(set(page.navs)), (url, "navigation landmarks share a label",
                                                   page.navs)
    assert not page.outside, (url, "content outside a landmark", page.outside)


PUBLIC = ["landing", "account_login", "account_signup", "account_reset_password",
          "removal_request"]
SIGNED_IN = ["dashboard", "generate", "gallery", "models", "model_new", "training_list",
             "packs", "billing", "credits", "usage", "profile", "account_data", "account_delete",
             "outbox"]


@pytest.mark.parametrize("name", PUBLIC)
def test_public_pages_have_one_h1_one_main_and_landmarks(client, db, name):
    url = reverse(name)
    check(url, client.get(url))


def test_terms_and_error_pages(client, db):
    for url in ["/terms/", "/terms/privacy/", "/terms/acceptable-use/", "/no-such-page/"]:
        check(url, client.get(url))


@pytest.mark.parametrize("name", SIGNED_IN)
def test_signed_in_pages_have_one_h1_one_main_and_landmarks(alice_client, name):
    url = reverse(name)
    check(url, alice_client.get(url))


def test_pages_of_one_model_and_one_image(alice_client, alice):
    model = make_personal_model(alice)
    image = make_image(alice)
    for url in [reverse("model_detail", args=[model.pk]), f"/dashboard/gallery/{image.pk}/"]:
        check(url, alice_client.get(url))
