"""Staff review of consent selfies that did not match: the queue lists them, staff accept one
only with a reason (audited), and the model may then train; a removal request's photo is
compared with the model's faces, and only the distance is kept."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from credits.actions import grant
from likeness.errors import ConsentMismatch
from safety import likeness_check
from safety.models import Report, StaffAction
from studio import actions, consent
from studio.models import Consent
from tests.faces_data import grace_hopper
from tests.studio.photos import person_jpeg, selfie_jpeg


@pytest.fixture
def model(alice):
    grant(alice, 100, reason="test", reference="test:review")
    model = actions.create_model(alice, name="Eileen", subject_class="woman")
    actions.add_photos(model, [(f"{i}.jpg", person_jpeg(i)) for i in range(5)])
    return model


def test_staff_accept_a_mismatch_with_a_reason(model, staff):
    with pytest.raises(ConsentMismatch):
        consent.give_selfie(model, model.user, selfie=selfie_jpeg(grace_hopper()),
                            rights_confirmed=True)
    attempt = Consent.objects.get()
    queue = staff.get(reverse("staff_safety")).content.decode()
    assert f'data-consent-review="{attempt.pk}"' in queue
    page = staff.get(reverse("staff_model", args=[model.pk])).content.decode()
    assert f'data-consent="{attempt.pk}"' in page and "Accept the selfie" in page
    assert reverse("staff_photo_file", args=[model.pk, model.photos.first().pk]) in page

    url = reverse("staff_model", args=[model.pk])
    staff.post(url, {"action": "override_consent", "consent": attempt.pk, "reason": ""})
    attempt.refresh_from_db()
    assert attempt.overridden_at is None  # no reason, no override
    staff.post(url, {"action": "override_consent", "consent": attempt.pk,
                     "reason": "Same person: a photo from 1990 (checked on a video call)"})
    attempt.refresh_from_db()
    assert attempt.is_valid and attempt.overridden_by == staff.user
    assert consent.status(model) == "overridden"
    entry = StaffAction.objects.get()
    assert entry.action == "override_consent" and entry.details["consent"] == attempt.pk
    assert entry.details["match_distance"] == attempt.match_distance
    assert f'data-consent-review="{attempt.pk}"' not in staff.get(
        reverse("staff_safety")).content.decode()
    actions.start_training(model)


def test_a_removal_requests_photo_is_compared_and_not_kept(client, model, staff):
    response = client.post(reverse("removal_request"), {
        "link": "", "details": f"The model {model.trigger_word}… shows me", "reason": "minor",
        "contact": "eileen@example.org",
        "photo": SimpleUploadedFile("me.jpg", selfie_jpeg(), content_type="image/jpeg")})
    assert response.status_code == 302
    assert Report.objects.get().face_distance is None  # no model named: nothing to compare
    same = likeness_check.distance_to_model(io.BytesIO(selfie_jpeg()), model)
    other = likeness_check.distance_to_model(io.BytesIO(selfie_jpeg(grace_hopper())), model)
    assert same < 0.6 < other
