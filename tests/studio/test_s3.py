"""The S3 path (R2, AWS S3, MinIO) against moto's S3 server on 127.0.0.1, through the same
django-storages settings an operator would set."""

import urllib.error
import urllib.request

import boto3
import pytest
from botocore.config import Config
from django.core.files.storage import default_storage
from moto.server import ThreadedMotoServer

from likeness.files import serve_file
from studio import actions
from tests.studio.photos import person_jpeg

BUCKET = "likeness-test"


@pytest.fixture(scope="module")
def s3_server():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_server, settings):
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test",
                          config=Config(request_checksum_calculation="when_required"))
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "likeness.storage.S3Storage",
        "OPTIONS": {
            "bucket_name": BUCKET, "access_key": "test", "secret_key": "test",
            "region_name": "us-east-1", "endpoint_url": s3_server, "default_acl": None,
            "querystring_auth": True, "querystring_expire": 60, "file_overwrite": False,
        },
    }}
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def keys(client):
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_photos_live_privately_in_the_bucket_and_leave_with_the_model(s3, alice):
    model = actions.create_model(alice, name="Alice", subject_class="woman")
    accepted, rejected = actions.add_photos(model, [("a.jpg", person_jpeg(1)),
                                                    ("bad.txt", b"not a photo")])
    assert len(accepted) == 1 and rejected[0]["code"] == "unsupported_format"
    photo = accepted[0]
    assert keys(s3) == sorted([photo.file.name, photo.thumbnail.name])

    acl = s3.get_object_acl(Bucket=BUCKET, Key=photo.file.name)
    assert not [g for g in acl["Grants"] if "AllUsers" in g["Grantee"].get("URI", "")]

    plain = f"{s3.meta.endpoint_url}/{BUCKET}/{photo.file.name}"
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(plain)  # noqa: S310 (local moto server)
    assert denied.value.code == 403

    response = serve_file(photo.file, content_type="image/jpeg", download_name="alice.jpg")
    assert response.status_code == 302
    signed = response["Location"]
    assert "Signature=" in signed and "Expires=" in signed
    with urllib.request.urlopen(signed) as fetched:  # noqa: S310
        assert fetched.read()[:3] == b"\xff\xd8\xff"
        assert "attachment" in fetched.headers["Content-Disposition"]

    actions.delete_model(model)
    assert keys(s3) == []
    assert default_storage.__class__.__name__ == "S3Storage"


def test_threads_share_one_boto3_session_per_process_and_options(s3, s3_server, monkeypatch):
    """A generation saves from short-lived pool threads: they share the process's one boto3
    session and resource instead of each paying for a new one; so do two stores built from the
    same options, while other options get their own."""
    import threading

    from django.core.files.base import ContentFile

    from likeness import storage
    from likeness.storage import S3Storage

    monkeypatch.setattr(storage, "_SHARED", {})  # as in a new process
    made = []
    original = S3Storage._create_session
    monkeypatch.setattr(S3Storage, "_create_session",
                        lambda self: made.append(self.endpoint_url) or original(self))
    saved, errors = [], []

    def save(n):
        try:
            saved.append(default_storage.save(f"threads/{n}.txt", ContentFile(b"x" * n)))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(n,)) for n in range(1, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert keys(s3) == sorted(saved) and len(saved) == 8
    assert made == [s3_server]

    from django.conf import settings

    options = settings.STORAGES["default"]["OPTIONS"]
    twin = S3Storage(**options)
    assert twin.open("threads/3.txt").read() == b"xxx"
    other = S3Storage(**{**options, "endpoint_url": s3_server + "/"})
    assert other.exists("threads/4.txt")
    assert made == [s3_server, s3_server + "/"]
