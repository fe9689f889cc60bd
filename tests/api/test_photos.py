"""POST/GET/DELETE /models/{id}/photos and the photos' bytes: checked one by one, refused
uploads leave nothing behind, and every URL is the owner's alone."""

import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from studio import catalogue
from studio.models import PersonalModel, TrainingPhoto
from tests.api.conftest import assert_error
from tests.storage import stored_names
from tests.studio.photos import blurred_jpeg, person_jpeg

PHOTO_FIELDS = {"id", "filename", "width", "height", "thumbnail_url", "file_url", "identity",
                "identity_distance", "held_out", "created_at"}




def upload(client, model_id, *files, **extra):
    data = {"files": [SimpleUploadedFile(name, content) for name, content in files]}
    return client.post(f"/api/v1/models/{model_id}/photos", data, **extra)


@pytest.fixture
def model(alice, alice_api):
    response = alice_api.post("/api/v1/models", {"name": "Alice", "subject_class": "woman"},
                              content_type="application/json")
    assert response.status_code == 201, response.content
    return PersonalModel.objects.get(pk=response.json()["id"])


def test_good_photos_are_accepted_and_bad_ones_leave_nothing(alice, alice_api, model):
    response = upload(alice_api, model.id,
                      ("a.jpg", person_jpeg(1)), ("b.jpg", person_jpeg(2)),
                      ("blurry.jpg", blurred_jpeg(3)), ("again.jpg", person_jpeg(1)),
                      ("notes.txt", b"hello"))

    assert response.status_code == 200, response.content
    body = response.json()
    assert [(p["filename"], p["width"], p["height"]) for p in body["accepted"]] == [
        ("a.jpg", 1200, 1500), ("b.jpg", 1200, 1500)]
    assert all(set(p) == PHOTO_FIELDS for p in body["accepted"])
    assert [(r["filename"], r["code"]) for r in body["rejected"]] == [
        ("blurry.jpg", "blurry"), ("again.jpg", "duplicate"), ("notes.txt", "unsupported_format")]
    assert all(r["reason"] for r in body["rejected"])
    assert body["photo_count"] == 2

    photos = list(TrainingPhoto.objects.filter(model=model))
    assert sorted(str(p.id) for p in photos) == sorted(p["id"] for p in body["accepted"])
    assert stored_names() == sorted([p.file.name for p in photos]
                                    + [p.thumbnail.name for p in photos])
    for photo in photos:
        with default_storage.open(photo.file.name) as f:
            assert Image.open(f).format == "JPEG"
        with default_storage.open(photo.thumbnail.name) as f:
            assert Image.open(f).format == "WEBP"

    detail = alice_api.get(f"/api/v1/models/{model.id}").json()
    assert detail["photo_count"] == 2
    first = body["accepted"][0]
    assert detail["cover_thumbnail_url"] == first["thumbnail_url"]


def test_list_photos_and_their_bytes(alice, alice_api, model):
    accepted = upload(alice_api, model.id, ("a.jpg", person_jpeg(1)),
                      ("b.png", person_jpeg(2))).json()["accepted"]
    photo = TrainingPhoto.objects.get(pk=accepted[0]["id"])

    listing = alice_api.get(f"/api/v1/models/{model.id}/photos")

    assert listing.status_code == 200
    body = listing.json()
    assert body["next_cursor"] is None
    assert {p["id"] for p in body["items"]} == {p["id"] for p in accepted}
    item = next(p for p in body["items"] if p["id"] == str(photo.id))
    assert item == {
        "id": str(photo.id),
        "filename": "a.jpg",
        "width": 1200,
        "height": 1500,
        "thumbnail_url": f"http://testserver/api/v1/models/{model.id}/photos/{photo.id}/thumbnail",
        "file_url": f"http://testserver/api/v1/models/{model.id}/photos/{photo.id}/file",
        "identity": "",  # fewer than three faces: not compared yet
        "identity_distance": None,
        "held_out": False,
        "created_at": item["created_at"],
    }
    page = alice_api.get(f"/api/v1/models/{model.id}/photos?limit=1").json()
    assert len(page["items"]) == 1 and page["next_cursor"]

    original = alice_api.get(item["file_url"])
    assert original.status_code == 200
    assert original["Content-Type"] == "image/jpeg"
    assert original["Cache-Control"].startswith("private")
    with default_storage.open(photo.file.name) as f:
        assert b"".join(original.streaming_content) == f.read()

    thumb = alice_api.get(item["thumbnail_url"])
    assert thumb.status_code == 200
    assert thumb["Content-Type"] == "image/webp"
    with default_storage.open(photo.thumbnail.name) as f:
        assert b"".join(thumb.streaming_content) == f.read()


def test_a_body_that_is_not_multipart_is_415(alice_api, model):
    for content_type, data in (("application/json", {"files": ["a.jpg"]}),
                               ("application/x-www-form-urlencoded", "files=a.jpg"),
                               ("image/jpeg", person_jpeg(1))):
        response = alice_api.post(f"/api/v1/models/{model.id}/photos", data,
                                  content_type=content_type)
        assert_error(response, 415, "unsupported_media_type")
    assert not TrainingPhoto.objects.exists()
    assert stored_names() == []


def test_no_files_is_422(alice_api, model):
    for data in ({"note": "no file here"}, {"file": SimpleUploadedFile("a.jpg", person_jpeg(1))}):
        response = alice_api.post(f"/api/v1/models/{model.id}/photos", data)
        details = assert_error(response, 422, "validation_error")
        assert details["field"] == "files"
    assert not TrainingPhoto.objects.exists()


def test_a_request_over_the_cap_is_413_and_stores_nothing(alice_api, model, settings):
    settings.PHOTO_UPLOAD_MAX_REQUEST_BYTES = 100_000
    photo = person_jpeg(1)
    assert len(photo) > 100_000

    details = assert_error(upload(alice_api, model.id, ("a.jpg", photo)), 413, "too_large")

    assert details["limit"] == 100_000 and details["size"] > 100_000
    assert not TrainingPhoto.objects.exists()
    assert stored_names() == []


def test_too_many_files_in_one_request_is_413(alice_api, model, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2

    response = upload(alice_api, model.id, *[(f"{i}.jpg", person_jpeg(i)) for i in range(3)])

    details = assert_error(response, 413, "too_large")
    assert details == {"max_files": 2}
    assert not TrainingPhoto.objects.exists()
    assert stored_names() == []


def test_a_file_over_the_photo_limit_is_rejected_with_its_real_size(alice_api, model,
                                                                    settings):
    settings.PHOTO_MAX_BYTES = 2_000_000
    big = person_jpeg(5) + bytes(3_000_000)  # a JPEG with trailing junk still decodes

    response = upload(alice_api, model.id, ("big.jpg", big), ("ok.jpg", person_jpeg(1)))

    assert response.status_code == 200, response.content
    body = response.json()
    assert [p["filename"] for p in body["accepted"]] == ["ok.jpg"]
    assert [(r["filename"], r["code"]) for r in body["rejected"]] == [
        ("big.jpg", "file_too_large")]
    assert body["rejected"][0]["reason"] == (
        f"The file is {len(big) / 1_000_000:.1f} MB; the limit is 2 MB.")
    assert TrainingPhoto.objects.count() == 1
    assert len(stored_names()) == 2


def test_a_full_model_is_409_limit_reached(alice_api, model, settings, monkeypatch):
    monkeypatch.setattr(catalogue, "MODEL_MAX_PHOTOS", 2)
    first = upload(alice_api, model.id, ("a.jpg", person_jpeg(1)), ("b.jpg", person_jpeg(2)),
                   ("c.jpg", person_jpeg(3))).json()
    assert [r["code"] for r in first["rejected"]] == ["too_many_photos"]
    stored = stored_names()

    details = assert_error(upload(alice_api, model.id, ("d.jpg", person_jpeg(4))), 409,
                           "limit_reached")

    assert details == {"photo_count": 2, "limit": 2}
    assert TrainingPhoto.objects.filter(model=model).count() == 2
    assert stored_names() == stored


def test_photos_of_a_model_that_is_not_a_draft_cannot_change(alice_api, model):
    photo_id = upload(alice_api, model.id, ("a.jpg", person_jpeg(1))).json()["accepted"][0]["id"]
    model.status = PersonalModel.Status.QUEUED
    model.save()
    stored = stored_names()

    details = assert_error(upload(alice_api, model.id, ("b.jpg", person_jpeg(2))), 409,
                           "conflict")
    assert details == {"status": "queued"}
    assert_error(alice_api.delete(f"/api/v1/models/{model.id}/photos/{photo_id}"), 409,
                 "conflict")

    assert list(TrainingPhoto.objects.values_list("id", flat=True).filter(model=model)) == [
        model.photos.get().id]
    assert stored_names() == stored


def test_delete_a_photo(alice_api, model):
    accepted = upload(alice_api, model.id, ("a.jpg", person_jpeg(1)),
                      ("b.jpg", person_jpeg(2))).json()["accepted"]
    gone, kept = accepted
    kept_photo = TrainingPhoto.objects.get(pk=kept["id"])

    response = alice_api.delete(f"/api/v1/models/{model.id}/photos/{gone['id']}")

    assert response.status_code == 204
    assert [p["id"] for p in alice_api.get(f"/api/v1/models/{model.id}/photos").json()[
        "items"]] == [kept["id"]]
    assert stored_names() == sorted([kept_photo.file.name, kept_photo.thumbnail.name])
    assert_error(alice_api.get(gone["file_url"]), 404, "not_found")
    assert_error(alice_api.delete(f"/api/v1/models/{model.id}/photos/{gone['id']}"), 404,
                 "not_found")


def test_deleting_the_model_deletes_every_photo_file(alice_api, model):
    upload(alice_api, model.id, ("a.jpg", person_jpeg(1)), ("b.jpg", person_jpeg(2)))
    assert len(stored_names()) == 4

    assert alice_api.delete(f"/api/v1/models/{model.id}").status_code == 204

    assert stored_names() == []
    assert not TrainingPhoto.objects.exists()


def test_bob_gets_404_for_every_url_of_alice(alice_api, bob_api, model):
    photo = upload(alice_api, model.id, ("a.jpg", person_jpeg(1))).json()["accepted"][0]
    base = f"/api/v1/models/{model.id}"
    reads = [base, f"{base}/photos", photo["file_url"], photo["thumbnail_url"]]

    for url in reads:
        assert alice_api.get(url).status_code == 200, url
        assert assert_error(bob_api.get(url), 404, "not_found") == {}
    for url in (base, f"{base}/photos/{photo['id']}"):
        assert assert_error(bob_api.delete(url), 404, "not_found") == {}
    assert_error(upload(bob_api, model.id, ("b.jpg", person_jpeg(2))), 404, "not_found")
    # A photo id under another of alice's models' URL is not found either.
    other = f"/api/v1/models/7d0c3c4e-8d4b-4a8e-9a53-2f0d7a1c9b11/photos/{photo['id']}/file"
    assert_error(alice_api.get(other), 404, "not_found")
    assert bob_api.get("/api/v1/models").json() == {"items": [], "next_cursor": None}

    assert TrainingPhoto.objects.filter(model=model).count() == 1
    assert len(stored_names()) == 2


def test_session_upload_needs_the_csrf_header(alice, model):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    refused = upload(client, model.id, ("a.jpg", person_jpeg(1)))
    assert_error(refused, 403, "forbidden")
    assert not TrainingPhoto.objects.exists()

    assert client.get("/api/v1/docs").status_code == 200  # hands out the CSRF cookie
    token = client.cookies["csrftoken"].value
    accepted = upload(client, model.id, ("a.jpg", person_jpeg(1)), HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 200, accepted.content
    assert len(accepted.json()["accepted"]) == 1


def test_unreadable_multipart_is_400(alice_api, model):
    response = alice_api.generic("POST", f"/api/v1/models/{model.id}/photos",
                                 b"--x\r\nnot really", content_type="multipart/form-data")
    assert_error(response, 400, "bad_request")
    assert not TrainingPhoto.objects.exists()


def test_photo_bytes_are_a_real_jpeg_without_metadata(alice_api, model):
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    out = io.BytesIO()
    Image.open(io.BytesIO(person_jpeg(1))).save(out, format="JPEG", exif=exif)
    photo = upload(alice_api, model.id, ("exif.jpg", out.getvalue())).json()["accepted"][0]

    data = b"".join(alice_api.get(photo["file_url"]).streaming_content)

    assert b"SecretCam" not in data
    assert not Image.open(io.BytesIO(data)).getexif()
