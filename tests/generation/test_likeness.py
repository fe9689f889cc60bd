"""Likeness end to end in demo mode, with a real face (scikit-image's astronaut, Eileen Collins):
a demo training keeps her face, its validation round tunes the strength and reports; every
image of the model carries a score (page, gallery sort and filter, API, export); with the
guarantee on, a low score is made again and never charged."""

import io
import json
import re
import zipfile

import pytest
from PIL import Image as PILImage

from api.keys import create_api_key
from credits.actions import get_balance, grant, ledger_is_consistent
from generation import likeness, validation
from generation.actions import create_generation
from generation.catalogue import VALIDATION_PROMPTS, VALIDATION_SCALES
from generation.models import Generation, Image, ValidationSample
from likeness.errors import InvalidInput
from providers.demo import faces as demo_faces
from studio import actions
from studio.models import PersonalModel
from tests import faces_data
from tests.factories import consent_for
from tests.storage import stored_names
from tests.studio.photos import encode, person_jpeg, scene


@pytest.fixture(autouse=True)
def instant_demo(settings):
    settings.TRAINING_DEMO_SECONDS = 0.001


def train(user, run_jobs, photos=None) -> PersonalModel:
    """A demo-trained model of the astronaut (five photos unless told), run to its end."""
    grant(user, 200, reason="test", reference="test:likeness")
    model = actions.create_model(user, name="Eileen", subject_class="woman")
    actions.add_photos(model, photos or [(f"{i}.jpg", person_jpeg(i)) for i in range(5)])
    consent_for(model)  # the consent selfie matched
    actions.start_training(model)
    run_jobs()
    model.refresh_from_db()
    assert model.status == PersonalModel.Status.READY
    return model


@pytest.fixture
def trained(alice, run_jobs):
    """Alice's demo-trained model of the astronaut, its validation round run."""
    return train(alice, run_jobs)


def generate(user, model, run_jobs, **params) -> Generation:
    generation = create_generation(user, prompt="a portrait in a garden", model_id=str(model.pk),
                                   **params)
    run_jobs()
    generation.refresh_from_db()
    return generation


def test_the_demo_weights_carry_the_subjects_face(trained):
    with trained.weights.open("rb") as handle:
        crops, best = demo_faces.read_weights(handle.read())
    assert len(crops) == 5 and best in demo_faces.BEST_SCALES
    references = trained.face_references
    for crop in crops:
        with PILImage.open(io.BytesIO(crop)) as face:
            assert likeness.score(face.convert("RGB"), references).likeness >= 80


def test_the_validation_round_tunes_the_strength_and_reports(trained):
    report = trained.likeness_report
    assert report["status"] == "done"
    assert report["samples"] == len(VALIDATION_PROMPTS) * len(VALIDATION_SCALES)
    assert [row["scale"] for row in report["scales"]] == list(VALIDATION_SCALES)
    for row in report["scales"]:
        assert len(row["scores"]) == len(VALIDATION_PROMPTS)
        assert row["low"] <= row["median"] <= row["high"]
    # The strength kept is the one whose median was best, and the demo "training" says which
    # strength it works best at: the round found it.
    with trained.weights.open("rb") as handle:
        demo_best = demo_faces.read_weights(handle.read())[1]
    medians = {row["scale"]: row["median"] for row in report["scales"]}
    assert medians[demo_best] > max(m for s, m in medians.items() if s != demo_best)
    assert trained.default_lora_scale == report["best_scale"] == demo_best
    best = next(row for row in report["scales"] if row["scale"] == demo_best)
    assert report["against"] == "training"  # five photos: none held out
    samples = ValidationSample.objects.filter(model=trained)
    assert samples.count() == report["samples"]
    assert sorted(s.likeness for s in samples if s.lora_scale == best["scale"]) == sorted(
        best["scores"])


def test_the_model_page_shows_the_report(trained, client, alice):
    client.force_login(alice)
    page = client.get(f"/dashboard/models/{trained.pk}/").content.decode()
    assert "data-likeness-report" in page
    assert f"{trained.default_lora_scale:g}" in page
    assert page.count("data-validation-sample") == trained.likeness_report["samples"]
    assert "<svg" in page and "data-likeness-chart" in page
    sample = ValidationSample.objects.filter(model=trained).first()
    assert client.get(f"/dashboard/validation/{sample.pk}.webp").status_code == 200


def test_other_accounts_cannot_see_the_samples(trained, client, bob):
    client.force_login(bob)
    sample = ValidationSample.objects.filter(model=trained).first()
    assert client.get(f"/dashboard/validation/{sample.pk}.webp").status_code == 404


def test_every_image_is_scored_at_the_models_strength(trained, alice, run_jobs):
    generation = generate(alice, trained, run_jobs, num_images=4, likeness_guarantee=False)
    assert generation.lora_scale == trained.default_lora_scale
    images = list(generation.images.order_by("index"))
    assert len(images) == 4
    for image in images:
        assert image.likeness is not None and 0 <= image.likeness <= 100
        assert image.metadata["likeness"] == image.likeness
        with image.file.open("rb") as handle, PILImage.open(handle) as picture:
            again = likeness.score(picture.convert("RGB"), trained.face_references)
        assert again.likeness == image.likeness  # the stored score is the picture's
    assert max(i.likeness for i in images) >= 70


def test_a_base_model_image_has_no_score(alice, run_jobs):
    grant(alice, 10, reason="test", reference="test:base")
    generation = create_generation(alice, prompt="a lighthouse", base_model="flux-schnell")
    run_jobs()
    image = generation.images.get()
    assert image.likeness is None and "likeness" not in image.metadata


def one_step_off(model) -> float:
    """A strength 0.2 away from the one the demo training works best at: its faces score
    about 80-90 there (providers.demo.faces), under a bar of 95."""
    best = model.default_lora_scale
    return round(best + 0.2 if best < 1.2 else best - 0.2, 1)


def test_the_guarantee_redoes_low_scores_and_never_charges_for_them(trained, alice, run_jobs,
                                                                     settings):
    settings.LIKENESS_RETRIES = 2
    balance = get_balance(alice)
    generation = generate(alice, trained, run_jobs, num_images=2, likeness_guarantee=True,
                          likeness_min_score=95, lora_scale=one_step_off(trained))
    assert generation.status == Generation.Status.FAILED
    assert [f["code"] for f in generation.failures] == ["low_likeness"] * 2
    for failure in generation.failures:
        assert "None of the 3 tries looked enough like Eileen" in failure["message"]
        assert "the bar is 95" in failure["message"] and "not charged" in failure["message"]
    assert generation.credits_charged == 0
    assert get_balance(alice) == balance
    assert ledger_is_consistent(alice)
    assert not generation.images.exists()
    assert not [n for n in stored_names() if n.startswith("images/")]


def test_the_guarantee_keeps_the_first_image_that_passes(trained, alice, run_jobs):
    balance = get_balance(alice)
    generation = generate(alice, trained, run_jobs, num_images=4, likeness_guarantee=True,
                          likeness_min_score=50)
    assert generation.status == Generation.Status.SUCCEEDED
    assert generation.credits_charged == generation.credits_reserved
    assert get_balance(alice) == balance - generation.credits_reserved
    for image in generation.images.all():
        tries = image.metadata["likeness_tries"]
        assert image.likeness >= 50
        assert all(t["likeness"] < 50 for t in tries[:-1]) and tries[-1]["likeness"] >= 50
        assert image.seed == tries[-1]["seed"]


def test_a_missed_face_is_redone(trained, alice, run_jobs, settings):
    """One demo picture in ten misses the face (too small): find a seed that does and watch the
    guarantee redo it with another seed."""
    settings.LIKENESS_RETRIES = 2
    miss = next(seed for seed in range(0, 400, 4) if demo_faces.misses(seed, 5))
    generation = generate(alice, trained, run_jobs, num_images=1, likeness_guarantee=True,
                          seed=miss)
    image = generation.images.get()
    assert image.metadata["likeness_tries"][0] == {"seed": miss, "likeness": 0}
    assert image.seed != miss and image.likeness >= 50
    assert generation.credits_charged == generation.credits_reserved


def test_the_guarantee_is_the_plans_default(trained, alice, run_jobs):
    assert alice.plan == "free"
    assert not generate(alice, trained, run_jobs).likeness_guarantee
    alice.plan = "creator"
    alice.save()
    assert generate(alice, trained, run_jobs).likeness_guarantee


def test_bad_guarantee_input_changes_nothing(trained, alice):
    balance = get_balance(alice)
    for params in ({"likeness_min_score": 0}, {"likeness_min_score": 101},
                   {"likeness_min_score": "50"}, {"likeness_guarantee": "yes"}):
        with pytest.raises(InvalidInput):
            create_generation(alice, prompt="x", model_id=str(trained.pk), **params)
    assert get_balance(alice) == balance
    assert not Generation.objects.filter(user=alice).exists()


def face_crop(image: PILImage.Image, side: int) -> PILImage.Image:
    """The face of a photo with some margin, `side` pixels square."""
    (x, y, w, h), _ = likeness.faces.faces(image)[0]
    pad = int(w * 0.6)
    return image.crop((max(0, x - pad), max(0, y - pad), x + w + pad, y + h + pad)).resize(
        (side, side))


def test_a_group_shot_where_every_face_is_the_subject_is_flagged():
    references = [likeness.faces.faces(faces_data.astronaut())[0][1]]
    eileen = face_crop(faces_data.astronaut(), 600)
    twice = PILImage.new("RGB", (1300, 650), (90, 90, 90))
    twice.paste(eileen, (25, 25))
    twice.paste(eileen, (675, 25))
    score = likeness.score(twice, references)
    assert score.face_count == 2 and score.all_faces_subject and score.likeness == 100
    other = twice.copy()
    other.paste(face_crop(faces_data.grace_hopper(), 600), (675, 25))
    score = likeness.score(other, references)
    assert score.face_count == 2 and not score.all_faces_subject and score.likeness == 100
    stranger = likeness.score(faces_data.grace_hopper(), references)
    assert stranger.face_count == 1 and stranger.likeness < 50  # under the match line


def test_no_face_scores_zero():
    references = [likeness.faces.faces(faces_data.astronaut())[0][1]]
    assert likeness.score(PILImage.new("RGB", (800, 800), "white"), references) == likeness.NO_FACE


def test_gallery_sorts_and_filters_by_likeness(trained, alice, run_jobs, client):
    generate(alice, trained, run_jobs, num_images=4, likeness_guarantee=False)
    generate(alice, trained, run_jobs, num_images=4, likeness_guarantee=False)
    grant(alice, 10, reason="test", reference="test:base")
    create_generation(alice, prompt="a lighthouse", base_model="flux-schnell")
    run_jobs()
    scored = list(Image.objects.filter(user=alice, likeness__isnull=False))
    assert len(scored) == 8
    client.force_login(alice)
    page = client.get("/dashboard/gallery/?sort=likeness").content.decode()
    shown = [int(v) for v in _attr_values(page, "data-likeness")]
    assert shown == sorted((i.likeness for i in scored), reverse=True)
    floor = sorted(i.likeness for i in scored)[4]
    page = client.get(f"/dashboard/gallery/?min_likeness={floor}").content.decode()
    assert len(_attr_values(page, "data-likeness")) == len([i for i in scored
                                                            if i.likeness >= floor])
    # The API: the same order over pages of three, and the same filter.
    key = _api_key(alice)
    seen, cursor = [], None
    while True:
        query = "order=likeness&limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(f"/api/v1/images?{query}", headers={"authorization": f"Bearer {key}"}
                          ).json()
        seen += body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert [i["likeness"] for i in seen] == sorted((i.likeness for i in scored), reverse=True)
    assert len({i["id"] for i in seen}) == 8
    body = client.get(f"/api/v1/images?min_likeness={floor}",
                      headers={"authorization": f"Bearer {key}"}).json()
    assert {i["id"] for i in body["items"]} == {str(i.pk) for i in scored if i.likeness >= floor}
    assert all(i["model_id"] == str(trained.pk) for i in body["items"])
    bad = client.get("/api/v1/images?min_likeness=101", headers={"authorization": f"Bearer {key}"})
    assert bad.status_code == 422


def test_the_archive_and_the_privacy_export_hold_the_scores(trained, alice, run_jobs, client):
    generation = generate(alice, trained, run_jobs, num_images=2, likeness_guarantee=False)
    client.force_login(alice)
    ids = [str(i.pk) for i in generation.images.all()]
    response = client.post("/dashboard/gallery/archive", {"ids": ids})
    data = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        manifest = json.loads(archive.read(_one(archive.namelist(), ".json")))
    rows = manifest if isinstance(manifest, list) else manifest["images"]
    assert {r["likeness"] for r in rows} == {i.likeness for i in generation.images.all()}


def _one(names, suffix):
    (name,) = [n for n in names if n.endswith(suffix)]
    return name


def _attr_values(page: str, name: str) -> list[str]:
    return re.findall(rf'{name}="(\d+)"', page)


def _api_key(user) -> str:
    return create_api_key(user, name="test")[1]


def test_held_out_faces_are_what_the_round_scores_against(alice, run_jobs, settings):
    settings.PHOTO_BLUR_THRESHOLD = 0
    model = train(alice, run_jobs, [(f"{i}.jpg", encode(scene(i))) for i in range(12)])
    assert len(model.holdout_references) == 2
    assert model.likeness_report["against"] == "held_out"
    with model.weights.open("rb") as handle:
        crops, _ = demo_faces.read_weights(handle.read())
    assert len(crops) == demo_faces.MAX_FACES  # from the ten photos it was trained on


def test_deleting_the_model_deletes_the_samples_files(trained,
                                                     django_capture_on_commit_callbacks):
    names = [s.thumbnail.name for s in ValidationSample.objects.filter(model=trained)]
    assert names and all(n in stored_names() for n in names)
    with django_capture_on_commit_callbacks(execute=True):
        actions.delete_model(trained)
    assert not ValidationSample.objects.exists()
    assert not set(names) & set(stored_names())


def test_validation_can_be_switched_off(alice, run_jobs, settings):
    settings.LIKENESS_VALIDATION = False
    model = train(alice, run_jobs)
    assert model.likeness_report == {} and model.default_lora_scale is None
    assert not validation.wanted(model)
