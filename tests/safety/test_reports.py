"""Reports and takedown, end to end: a stranger reports a shared image from its page, staff see
it in the queue with the image, model and account, remove the image (the share link stops
working), suspend the model (no more training or generation, its links stop) or the account
(it cannot sign in, its subscription is canceled at Stripe, its credits stay as they were), and
every action leaves an audit row. Removal requests ("this model shows me") reach the same
queue. The public forms are CSRF-protected and rate limited."""

import pytest
from django.test import Client
from django.urls import reverse

from billing.models import Subscription
from credits.actions import get_balance
from gallery import sharing
from generation.actions import create_generation
from generation.models import Generation, Image
from likeness.errors import Suspended
from safety.models import Report, StaffAction
from studio import actions as studio
from tests.billing.conftest import checkout, deliver, stripe_fake  # noqa: F401
from tests.factories import key_client, make_image, make_personal_model, make_user
from tests.studio.photos import encode, selfie


@pytest.fixture
def shared(personal_model):
    image = make_image(personal_model.user)
    image.personal_model = personal_model
    image.prompt = "zorvek woman on a balcony"
    image.save()
    return image, sharing.share(image)


def _report(client, token, **data):
    return client.post(reverse("report_image", args=[token]),
                       {"reason": "not_consented", "details": "That is me.", **data})


def test_report_then_staff_removal_end_to_end(client, staff, shared):
    image, token = shared
    share_page = client.get(f"/s/{token}")
    assert reverse("report_image", args=[token]) in share_page.content.decode()
    form = client.get(reverse("report_image", args=[token]))
    assert form.status_code == 200 and form["Referrer-Policy"] == "no-referrer"

    response = _report(client, token, contact="me@example.org")
    assert response.status_code == 302 and response["Location"] == reverse("report_sent")
    report = Report.objects.get()
    assert (report.kind, report.reason, report.contact) == ("image", "not_consented",
                                                            "me@example.org")
    assert report.image == image and report.personal_model == image.personal_model
    assert report.account == image.user and report.status == "open"

    queue = staff.get(reverse("staff_safety")).content.decode()
    assert f'data-report="{report.pk}"' in queue and image.user.email in queue
    page = staff.get(reverse("staff_report", args=[report.pk])).content.decode()
    assert reverse("staff_image_file", args=[image.pk]) in page
    assert image.personal_model.name in page and image.user.email in page
    assert staff.get(reverse("staff_image_file", args=[image.pk])).status_code == 200

    refused = staff.post(reverse("staff_report", args=[report.pk]),
                         {"action": "remove_image", "reason": ""})
    assert refused.status_code == 200 and Image.objects.filter(pk=image.pk).exists()
    done = staff.post(reverse("staff_report", args=[report.pk]),
                      {"action": "remove_image", "reason": "Shows the reporter without consent"})
    assert done.status_code == 302
    assert not Image.objects.filter(pk=image.pk).exists()
    assert client.get(f"/s/{token}").status_code == 404
    assert client.get(f"/s/{token}/image").status_code == 404
    report.refresh_from_db()
    assert report.status == "actioned" and report.resolved_by == staff.user
    assert report.image is None and report.image_ref == image.pk  # still says what it was
    entry = StaffAction.objects.get()
    assert (entry.action, entry.actor, entry.target_ref) == ("remove_image", staff.user,
                                                             str(image.pk))
    assert entry.reason == "Shows the reporter without consent" and entry.report == report
    assert entry.details["was_shared"] is True
    audit = staff.get(reverse("staff_audit")).content.decode()
    assert 'data-audit-action="remove_image"' in audit and staff.user.email in audit


def test_suspending_a_model_stops_it_everywhere(client, staff, shared, rich_alice):
    image, token = shared
    model = image.personal_model
    _report(client, token)
    report = Report.objects.get()
    staff.post(reverse("staff_report", args=[report.pk]),
               {"action": "suspend_model", "reason": "Not the account holder's face"})
    model.refresh_from_db()
    assert model.is_suspended and model.suspended_reason == "Not the account holder's face"
    assert client.get(f"/s/{token}").status_code == 404  # its links are revoked
    balance = get_balance(rich_alice)
    with pytest.raises(Suspended):
        create_generation(rich_alice, prompt="zorvek hiking", model_id=str(model.pk))
    api = key_client(rich_alice)
    answer = api.post("/api/v1/generations", {"prompt": "hiking", "model_id": str(model.pk)},
                      content_type="application/json")
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "suspended"
    with pytest.raises(Suspended):
        studio.start_training(model)
    assert get_balance(rich_alice) == balance and not Generation.objects.exclude(
        pk=image.generation_id).exists()
    with pytest.raises(sharing.SharingNotAllowed):
        sharing.share(image)
    assert StaffAction.objects.get().action == "suspend_model"
    # Reinstating takes a reason too, and is audited.
    staff.post(reverse("staff_model", args=[model.pk]),
               {"action": "reinstate_model", "reason": "Consent confirmed by e-mail"})
    model.refresh_from_db()
    assert not model.is_suspended
    assert [a.action for a in StaffAction.objects.order_by("at", "id")] == [
        "suspend_model", "reinstate_model"]


def test_a_generation_queued_before_the_suspension_is_refunded(staff, personal_model,
                                                               rich_alice, run_jobs):
    balance = get_balance(rich_alice)
    generation = create_generation(rich_alice, prompt="zorvek hiking",
                                   model_id=str(personal_model.pk))
    from safety import actions

    actions.suspend_model(staff.user, personal_model, reason="Reported")
    run_jobs()
    generation.refresh_from_db()
    assert generation.status == "failed" and not generation.images.exists()
    assert get_balance(rich_alice) == balance


def test_suspending_an_account_cancels_its_subscription_and_keeps_its_credits(
        client, staff, shared, stripe_fake, checkout, deliver):  # noqa: F811
    image, token = shared
    alice = image.user
    deliver.all(checkout(alice, plan="pro"))
    subscription = Subscription.objects.get(user=alice)
    balance = get_balance(alice)
    api = key_client(alice)
    _report(client, token)
    report = Report.objects.get()
    staff.post(reverse("staff_report", args=[report.pk]),
               {"action": "suspend_account", "reason": "Repeated abuse"})
    alice.refresh_from_db()
    assert not alice.is_active
    assert stripe_fake.subscriptions[subscription.stripe_id]["status"] == "canceled"
    assert get_balance(alice) == balance  # kept in the ledger, unusable while suspended
    entry = StaffAction.objects.get()
    assert entry.details["subscriptions_canceled"] == [subscription.stripe_id]
    assert entry.details["credits_kept"] == balance
    assert client.get(f"/s/{token}").status_code == 404
    assert api.get("/api/v1/me").status_code == 401  # its API keys stop working
    signed_in = Client()
    signed_in.force_login(alice)
    assert signed_in.get("/dashboard/").status_code == 302  # signed out


def test_staff_accounts_are_not_suspended_from_reports(staff):
    from likeness.errors import Conflict
    from safety import actions

    other = make_user("other-staff@example.com", is_staff=True)
    with pytest.raises(Conflict):
        actions.suspend_account(staff.user, other, reason="x")
    assert other.is_active and not StaffAction.objects.exists()


def test_a_removal_request_finds_the_model_and_compares_faces(client, staff, shared):
    image, token = shared
    page = client.get(reverse("removal_request") + f"?link=http://testserver/s/{token}")
    assert f"/s/{token}" in page.content.decode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(reverse("removal_request"), {
        "link": f"http://testserver/s/{token}", "reason": "not_consented",
        "details": "This model shows me.", "contact": "eileen@example.org",
        "photo": SimpleUploadedFile("me.jpg", encode(selfie()), content_type="image/jpeg")})
    assert response.status_code == 302, response.content
    report = Report.objects.get()
    assert report.kind == "removal" and report.personal_model == image.personal_model
    assert report.face_distance is None  # the factory's model has no photos to compare with
    assert f'data-report="{report.pk}"' in staff.get(reverse("staff_safety")).content.decode()


def test_a_removal_request_that_matches_nothing_is_still_taken(client, db):
    response = client.post(reverse("removal_request"), {
        "link": "https://huggingface.co/nobody/nothing", "reason": "not_consented",
        "details": "Saw it on a forum", "contact": "x@example.org"})
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.personal_model is None and report.link.endswith("nobody/nothing")
    # A Hugging Face repository of a model is found by its id.
    model = make_personal_model(make_user("h@example.com"), trigger_word="hubword",
                                hf_repo_id="likeness/hubword-lora")
    from safety.actions import find_subject

    assert find_subject("https://huggingface.co/likeness/hubword-lora") == (None, model)
    assert find_subject("likeness/hubword-lora/") == (None, model)


def test_the_public_forms_need_their_csrf_token_and_are_rate_limited(shared, settings):
    _, token = shared
    strict = Client(enforce_csrf_checks=True)
    assert _report(strict, token).status_code == 403
    settings.RATE_LIMIT_REPORTS = "3/hour"
    client = Client()
    statuses = [_report(client, token).status_code for _ in range(5)]
    assert statuses == [302, 302, 302, 429, 429]
    assert Report.objects.count() == 3


def test_a_wrong_token_has_no_report_form(client, db):
    assert client.get("/s/not-a-real-token-at-all-x/report").status_code == 404


def test_safety_pages_are_staff_only(client, alice, staff, shared):
    image, token = shared
    _report(client, token)
    report = Report.objects.get()
    urls = [reverse("staff_safety"), reverse("staff_audit"),
            reverse("staff_report", args=[report.pk]),
            reverse("staff_image_file", args=[image.pk]),
            reverse("staff_model", args=[image.personal_model_id])]
    for url in urls:
        client.logout()
        assert client.get(url).status_code == 302, url
        client.force_login(alice)
        assert client.get(url).status_code == 404, url
        assert staff.get(url).status_code == 200, url
