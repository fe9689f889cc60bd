"""The authorisation matrix: every URL of the site and the API that names an object is visited
as its owner (alice), as another customer (bob) and anonymously; only the owner gets in. URLs
are discovered from the resolver, so a route added later fails here until it is listed below
(in MATRIX, TOKEN_ROUTES or the staff area)."""

import json
import re

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.urls import get_resolver

from api.keys import create_api_key
from generation.models import PackRun, ValidationSample
from studio.actions import create_model
from studio.models import TrainingPhoto, TrainingRun
from tests.factories import enable_totp, key_client, make_image, make_user, png_bytes, webp_bytes


def discovered_routes() -> set[str]:
    def walk(resolver, prefix=""):
        for p in resolver.url_patterns:
            if hasattr(p, "url_patterns"):
                yield from walk(p, prefix + str(p.pattern))
            else:
                yield prefix + str(p.pattern)

    return {r for r in walk(get_resolver()) if "<" in r or "(?P" in r}


# route -> (methods, what the ids are). "{model}" etc. are filled from alice's objects.
M, P, R, G, IMG, K = "{model}", "{photo}", "{run}", "{generation}", "{image}", "{key}"
PR, VS = "{pack_run}", "{sample}"
MATRIX: dict[str, tuple[tuple[str, ...], str]] = {
    "dashboard/api-keys/<uuid:pk>/revoke": (("POST",), f"/dashboard/api-keys/{K}/revoke"),
    "dashboard/generations/<uuid:pk>/": (("GET",), f"/dashboard/generations/{G}/"),
    "dashboard/generations/<uuid:pk>/status": (("GET",), f"/dashboard/generations/{G}/status"),
    "dashboard/generations/images/<uuid:pk>/vary": (
        ("POST",), f"/dashboard/generations/images/{IMG}/vary"),
    "dashboard/images/<uuid:pk>/": (("GET",), f"/dashboard/images/{IMG}/"),
    "dashboard/images/<uuid:pk>/favorite": (("POST",), f"/dashboard/images/{IMG}/favorite"),
    "dashboard/images/<uuid:pk>/share": (("POST",), f"/dashboard/images/{IMG}/share"),
    "dashboard/images/<uuid:pk>/share/revoke": (("POST",),
                                               f"/dashboard/images/{IMG}/share/revoke"),
    "dashboard/images/<uuid:pk>/delete": (("POST",), f"/dashboard/images/{IMG}/delete"),
    "dashboard/images/<uuid:pk>/vary": (("POST",), f"/dashboard/images/{IMG}/vary"),
    "dashboard/images/<uuid:pk>/upscale": (("POST",), f"/dashboard/images/{IMG}/upscale"),
    "dashboard/images/<uuid:pk>/restore-face": (("POST",),
                                                f"/dashboard/images/{IMG}/restore-face"),
    "images/<uuid:pk>/file": (("GET",), f"/images/{IMG}/file"),
    "images/<uuid:pk>/thumbnail": (("GET",), f"/images/{IMG}/thumbnail"),
    "dashboard/models/<uuid:pk>/": (("GET",), f"/dashboard/models/{M}/"),
    "dashboard/models/<uuid:pk>/photos/": (("GET", "POST"), f"/dashboard/models/{M}/photos/"),
    "dashboard/models/<uuid:pk>/review/": (("GET",), f"/dashboard/models/{M}/review/"),
    "dashboard/models/<uuid:pk>/delete": (("GET", "POST"), f"/dashboard/models/{M}/delete"),
    "dashboard/models/<uuid:pk>/photos/<uuid:photo_id>/delete": (
        ("POST",), f"/dashboard/models/{M}/photos/{P}/delete"),
    "dashboard/models/<uuid:pk>/photos/<uuid:photo_id>/thumbnail": (
        ("GET",), f"/dashboard/models/{M}/photos/{P}/thumbnail"),
    "dashboard/models/<uuid:pk>/photos/<uuid:photo_id>/file": (
        ("GET",), f"/dashboard/models/{M}/photos/{P}/file"),
    "dashboard/models/<uuid:pk>/train": (("POST",), f"/dashboard/models/{M}/train"),
    "dashboard/models/<uuid:pk>/consent/": (("GET", "POST"), f"/dashboard/models/{M}/consent/"),
    "dashboard/training/<uuid:pk>/": (("GET",), f"/dashboard/training/{R}/"),
    "dashboard/training/<uuid:pk>/status": (("GET",), f"/dashboard/training/{R}/status"),
    "dashboard/training/<uuid:pk>/cancel": (("POST",), f"/dashboard/training/{R}/cancel"),
    "dashboard/training/<uuid:pk>/retry": (("POST",), f"/dashboard/training/{R}/retry"),
    "dashboard/packs/runs/<uuid:pk>/": (("GET",), f"/dashboard/packs/runs/{PR}/"),
    "dashboard/instant/<uuid:pk>/": (("GET", "POST"), f"/dashboard/instant/{M}/"),
    "dashboard/validation/<uuid:pk>.webp": (("GET",), f"/dashboard/validation/{VS}.webp"),
    # The API
    "api/v1/generations/<generation_id>": (("GET",), f"/api/v1/generations/{G}"),
    "api/v1/images/<image_id>": (("GET", "PATCH", "DELETE"), f"/api/v1/images/{IMG}"),
    "api/v1/images/<image_id>/share": (("POST", "DELETE"), f"/api/v1/images/{IMG}/share"),
    "api/v1/images/<image_id>/upscale": (("POST",), f"/api/v1/images/{IMG}/upscale"),
    "api/v1/models/<model_id>/instant": (("POST",), f"/api/v1/models/{M}/instant"),
    "api/v1/images/<image_id>/restore-face": (("POST",), f"/api/v1/images/{IMG}/restore-face"),
    "api/v1/images/<image_id>/file": (("GET",), f"/api/v1/images/{IMG}/file"),
    "api/v1/images/<image_id>/thumbnail": (("GET",), f"/api/v1/images/{IMG}/thumbnail"),
    "api/v1/models/<model_id>": (("GET", "DELETE"), f"/api/v1/models/{M}"),
    "api/v1/models/<model_id>/photos": (("GET", "POST"), f"/api/v1/models/{M}/photos"),
    "api/v1/models/<model_id>/photos/<photo_id>": (("DELETE",),
                                                   f"/api/v1/models/{M}/photos/{P}"),
    "api/v1/models/<model_id>/photos/<photo_id>/file": (
        ("GET",), f"/api/v1/models/{M}/photos/{P}/file"),
    "api/v1/models/<model_id>/photos/<photo_id>/thumbnail": (
        ("GET",), f"/api/v1/models/{M}/photos/{P}/thumbnail"),
    "api/v1/models/<model_id>/train": (("POST",), f"/api/v1/models/{M}/train"),
    "api/v1/models/<model_id>/consent": (("GET", "POST"), f"/api/v1/models/{M}/consent"),
    "api/v1/models/<model_id>/cancel": (("POST",), f"/api/v1/models/{M}/cancel"),
    "api/v1/trainings/<training_id>": (("GET",), f"/api/v1/trainings/{R}"),
    "api/v1/models/<model_id>/packs/<pack_id>": (
        ("POST",), f"/api/v1/models/{M}/packs/corporate-headshots"),
    "api/v1/pack-runs/<run_id>": (("GET",), f"/api/v1/pack-runs/{PR}"),
}

# Public by design, guarded by an unguessable token (each has its test of a wrong token below)
# or by allauth's own key checks; the outbox is the demo's (each reader sees only their own
# mail: tests/web/test_outbox.py), off in production.
TOKEN_ROUTES = {
    "lora-weights/<uuid:pk>/<str:token>/lora.safetensors": "/lora-weights/{model}/wrong/"
                                                             "lora.safetensors",
    "training-files/<uuid:run_id>/<str:token>/photos.zip": "/training-files/{run}/wrong/"
                                                             "photos.zip",
    "s/<str:token>": "/s/wrong-token",
    "s/<str:token>/image": "/s/wrong-token/image",
    "s/<str:token>/report": "/s/wrong-token/report",
    "account-deleted/<str:token>/": "/account-deleted/wrong-token/",
    "terms/<slug:page>/": None,  # the operator's public terms pages
    "outbox/<str:name>": None,
    # The pack is public; the personal model posted with it is the caller's or refused
    # (tests/generation/test_packs.py::test_refusals_change_nothing).
    "dashboard/packs/<slug:slug>/run": None,
    "accounts/^confirm-email/(?P<key>[-:\\w]+)/$": None,
    "accounts/^password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$": None,
}
# The admin and the staff pages (their staff-only checks: below, and tests/safety).
STAFF_PREFIXES = (settings.ADMIN_PATH, "staff/")


def test_every_object_route_is_in_the_matrix():
    missing = sorted(r for r in discovered_routes() if r not in MATRIX and r not in
                     TOKEN_ROUTES and not r.startswith(STAFF_PREFIXES))
    assert not missing, ("add these routes to tests/security/test_authorization.py (MATRIX "
                         f"or TOKEN_ROUTES): {missing}")
    gone = sorted(set(MATRIX) - discovered_routes())
    assert not gone, f"these routes are listed but no longer exist: {gone}"


@pytest.fixture
def objects(alice):
    model = create_model(alice, name="Alice", subject_class="woman")
    photo = TrainingPhoto(user=alice, model=model, filename="a.jpg", width=64, height=48,
                          source_format="PNG", sha256="0" * 64, phash="0" * 16, sharpness=99)
    photo.file.save(f"{photo.id}.jpg", ContentFile(png_bytes()), save=False)
    photo.thumbnail.save(f"{photo.id}-thumb.webp", ContentFile(webp_bytes()), save=False)
    photo.save()
    run = TrainingRun.objects.create(user=alice, model=model, provider="demo", status="failed",
                                     stage="training", steps=1000, learning_rate=0.0004,
                                     lora_rank=16)
    image = make_image(alice)
    key, _ = create_api_key(alice, "matrix")
    pack_run = PackRun.objects.create(user=alice, pack_name="Test", personal_model=model,
                                      credits_reserved=0)
    sample = ValidationSample(model=model, prompt="p", lora_scale=1.0, seed=1, provider="demo",
                              likeness=90)
    sample.thumbnail.save("s.webp", ContentFile(webp_bytes()), save=True)
    return {"model": model.pk, "photo": photo.pk, "run": run.pk,
            "generation": image.generation_id, "image": image.pk, "key": key.pk,
            "pack_run": pack_run.pk, "sample": sample.pk}


CASES = [(route, method) for route, (methods, _) in MATRIX.items() for method in methods]


def _call(client, method, url):
    if method == "POST" and url.endswith(("/photos", "/consent")):  # the API's uploads
        from django.core.files.uploadedfile import SimpleUploadedFile

        return client.post(url, {"files": [SimpleUploadedFile("a.png", png_bytes())]})
    body = {"favorite": True} if method == "PATCH" else {}
    if url.endswith("/upscale"):  # a valid request, so only the owner check can refuse it
        if not url.startswith("/api/"):
            return client.post(url, {"scale": "2"})
        body = {"scale": 2}
    if url.endswith("/instant"):
        if not url.startswith("/api/"):
            return client.post(url, {"prompt": "a portrait"})
        body = {"prompt": "a portrait"}
    data = json.dumps(body) if (body or url.startswith("/api/")) and method != "GET" else ""
    return client.generic(method, url, data=data, content_type="application/json")


@pytest.mark.parametrize(("route", "method"), CASES, ids=[f"{m} {r}" for r, m in CASES])
def test_only_the_owner_gets_in(route, method, objects, alice, bob, client, settings):
    settings.RATE_LIMITS_ENABLED = False
    url = MATRIX[route][1].format(**objects)
    api = route.startswith("api/")

    anonymous = _call(client, method, url)
    if api:
        assert anonymous.status_code == 401, anonymous.content
    else:
        assert anonymous.status_code in (302, 404), anonymous.status_code
        if anonymous.status_code == 302:
            assert anonymous["Location"].startswith("/accounts/login/")

    other = key_client(bob) if api else _session(bob)
    response = _call(other, method, url)
    assert response.status_code == 404, (response.status_code, response.content[:300])

    owner = key_client(alice) if api else _session(alice)
    response = _call(owner, method, url)
    assert response.status_code not in (401, 403, 404, 500), (response.status_code,
                                                              response.content[:300])


def _session(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("route", [r for r, u in TOKEN_ROUTES.items() if u])
def test_token_urls_refuse_a_wrong_token(route, objects, client, alice):
    client.force_login(alice)  # even the owner needs the right token
    url = TOKEN_ROUTES[route].format(**objects)
    assert client.get(url).status_code == 404


def test_every_staff_object_page_is_staff_only(objects, alice, client, db):
    from django.contrib import admin
    from django.urls import reverse

    staff = make_user("staff@example.com", is_staff=True, is_superuser=True)
    enable_totp(staff)
    urls = []
    for model, _model_admin in admin.site._registry.items():
        instance = model._default_manager.first()
        info = (model._meta.app_label, model._meta.model_name)
        urls.append(reverse("admin:{}_{}_changelist".format(*info)))
        if instance is not None:
            urls.append(reverse("admin:{}_{}_change".format(*info), args=[instance.pk]))
    urls.append("/staff/providers/")
    assert len(urls) > 10
    for url in urls:
        client.logout()
        response = client.get(url)
        if url.startswith("/" + settings.ADMIN_PATH):  # the admin's path is no one else's business
            assert response.status_code == 404, url
        else:
            assert response.status_code == 302 and re.match(r"^/accounts/login/", response[
                "Location"]), url
        client.force_login(alice)
        assert client.get(url).status_code == 404, url
        client.force_login(staff)
        assert client.get(url).status_code == 200, url
