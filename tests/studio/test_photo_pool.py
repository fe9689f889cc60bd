"""The photos of one upload are checked side by side in processes of their own
(studio.photo_pool), with the outcomes that checking them one by one gives."""

import io
import os
import signal

import pytest
from PIL import Image

from studio import photo_pool
from studio.photos import OVER_BUDGET, Batch, CheckedPhoto, PhotoRejected, check_photo
from tests.studio.photos import blurred_jpeg, encode, person_jpeg, scene


@pytest.fixture(autouse=True)
def fresh_pool():
    yield
    photo_pool.shutdown()


def mixed_upload():
    """A request's worth of photos, each refused or kept for a different reason."""
    one, two = person_jpeg(1), person_jpeg(2)
    resaved = encode(Image.open(io.BytesIO(one)), quality=80)  # the same photo
    return [one, blurred_jpeg(3), two, one, resaved, b"", b"not a photo at all",
            encode(Image.new("RGB", (300, 300), (90, 90, 90))), person_jpeg(4)]


def outcomes(uploads, existing=None, **kwargs):
    existing = [] if existing is None else existing
    found = []
    for outcome in Batch().check_all(uploads, subject_class="woman", existing=existing,
                                     **kwargs):
        if isinstance(outcome, CheckedPhoto):
            existing.append((outcome.sha256, outcome.phash))
            found.append(("kept", outcome.sha256, outcome.phash, outcome.face_box,
                          outcome.sharpness, outcome.embedding))
        else:
            found.append((outcome.code, outcome.reason))
    return found


def test_the_processes_give_the_outcomes_of_checking_one_by_one(settings):
    uploads = mixed_upload()
    settings.PHOTO_CHECK_PROCESSES = 0
    alone = outcomes(uploads)
    settings.PHOTO_CHECK_PROCESSES = 2
    side_by_side = outcomes(uploads)
    assert side_by_side == alone
    assert [o[0] for o in alone] == ["kept", "blurry", "kept", "duplicate", "near_duplicate",
                                     "empty", "unsupported_format", "too_small", "kept"]
    # ... and check_photo, one photo in this thread, agrees on each of them.
    existing, one_by_one = [], []
    for data in uploads:
        try:
            checked = check_photo(data, subject_class="woman", existing=existing)
        except PhotoRejected as exc:
            one_by_one.append(exc.code)
        else:
            existing.append((checked.sha256, checked.phash))
            one_by_one.append("kept")
    assert one_by_one == [o[0] for o in alone]
    kept = [o for o in side_by_side if o[0] == "kept"]
    assert all(o[3] and len(o[5]) == 128 for o in kept)  # a face and its embedding, each


def test_the_processes_follow_this_process_settings(settings):
    """A check in another process reads the settings of the request, not its own."""
    settings.PHOTO_CHECK_PROCESSES = 2
    assert [o[0] for o in outcomes([person_jpeg(1), person_jpeg(2)])] == ["kept", "kept"]
    settings.PHOTO_BLUR_THRESHOLD = 1e9  # nothing is sharp enough
    assert [o[0] for o in outcomes([person_jpeg(1), person_jpeg(2)])] == ["blurry", "blurry"]
    settings.PHOTO_BLUR_THRESHOLD = 40
    settings.PHOTO_MIN_FACE_RATIO = 0.99  # no face is that large
    assert [o[0] for o in outcomes([person_jpeg(1)])] == ["face_too_small"]


def test_the_pixel_budget_is_spent_in_order_before_anything_is_decoded(settings):
    settings.PHOTO_CHECK_PROCESSES = 2
    big = [encode(scene(i, size=(2400, 3000))) for i in range(3)]  # decoded in full
    settings.PHOTO_MAX_PIXELS_PER_REQUEST = 2 * 2400 * 3000
    assert [o[0] for o in outcomes(big)] == ["kept", "kept", OVER_BUDGET]


def test_a_killed_process_does_not_lose_a_photo(settings):
    settings.PHOTO_CHECK_PROCESSES = 2
    assert [o[0] for o in outcomes([person_jpeg(1)])] == ["kept"]
    for pid in list(photo_pool._pool._processes):  # killed, as the out-of-memory killer would
        os.kill(pid, signal.SIGKILL)
    uploads = [person_jpeg(5), person_jpeg(6), blurred_jpeg(7)]
    assert [o[0] for o in outcomes(uploads)] == ["kept", "kept", "blurry"]


def _die(*args):
    os._exit(1)  # in a photo-check process: it dies, as one killed in the middle would


def test_a_photo_that_breaks_the_processes_twice_is_refused_with_a_reason(settings,
                                                                          monkeypatch):
    settings.PHOTO_CHECK_PROCESSES = 1
    monkeypatch.setattr(photo_pool, "_examine", _die)
    refused = outcomes([person_jpeg(1)])
    assert refused == [("check_failed", refused[0][1])] and "upload it once more" in refused[0][1]
    monkeypatch.undo()
    assert [o[0] for o in outcomes([person_jpeg(2)])] == ["kept"]  # a new pool, working


def test_the_photos_beyond_a_full_model_are_not_checked(settings, alice):
    """add_photos stops asking once the model is full; the checks not begun are dropped."""
    from studio.actions import add_photos
    from studio.catalogue import MODEL_MAX_PHOTOS
    from studio.models import PersonalModel

    settings.PHOTO_CHECK_PROCESSES = 2
    model = PersonalModel.objects.create(user=alice, name="Jo", subject_class="woman",
                                         trigger_word="jo_tok")
    uploads = [(f"{i}.jpg", person_jpeg(i)) for i in range(MODEL_MAX_PHOTOS + 2)]
    accepted, rejected = add_photos(model, uploads)
    assert len(accepted) == MODEL_MAX_PHOTOS
    assert [r["code"] for r in rejected] == ["too_many_photos"] * 2
