"""likeness.faces on real photos of real people (tests/faces_data.py says where each comes from).
Most tests need Debian's libdlib19.1 for its example photos; scripts/test installs it."""

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

from likeness import faces
from tests import faces_data

needs_dlib_examples = pytest.mark.skipif(
    not faces_data.have_dlib_examples(),
    reason="Debian's libdlib19.1 (dlib's example photos) is not installed; scripts/test "
           "installs it (apt-get install libdlib19.1)")


def only_face(image: Image.Image):
    found = faces.faces(image)
    assert found, "no face found"
    return found[0]


@pytest.fixture(scope="module")
def astronaut_embedding():
    return only_face(faces_data.astronaut())[1]


@pytest.fixture(scope="module")
def embedded():
    """(photo, embedding) for every original photo of a named person."""
    pairs = []
    for photo in faces_data.originals():
        found = faces.faces(photo.image)
        if found:
            pairs.append((photo, found[0][1]))
    return pairs


@pytest.fixture(scope="module")
def reference_faces(embedded):
    """Each person's medoid, as a model's reference face would be made."""
    people = {}
    for photo, embedding in embedded:
        people.setdefault(photo.person, []).append(embedding)
    return {person: faces.medoid(embeddings) for person, embeddings in people.items()}


def test_an_embedding_is_128_float32_and_repeatable(astronaut_embedding):
    box, again = only_face(faces_data.astronaut())
    assert astronaut_embedding.shape == (128,) and astronaut_embedding.dtype == np.float32
    assert np.all(np.isfinite(astronaut_embedding)) and np.linalg.norm(astronaut_embedding) > 0.1
    assert faces.distance(astronaut_embedding, again) < 1e-5
    assert faces.distance(faces.embed(faces_data.astronaut(), box), again) < 1e-5


@pytest.mark.parametrize("size, at", [((2400, 1800), (700, 400)), ((3000, 2000), (0, 0)),
                                      ((1500, 2600), (988, 2088))])
def test_embed_reads_the_face_as_the_whole_embedding_copy_has_it(size, at):
    """embed resizes only the face and a margin around it (the last two place the face at a
    corner), and gets the embedding of the whole image shrunk to EMBEDDING_SIDE."""
    box, _ = only_face(faces_data.astronaut())
    canvas = Image.new("RGB", size, (90, 120, 150))
    canvas.paste(faces_data.astronaut(), at)
    box = (box[0] + at[0], box[1] + at[1], box[2], box[3])
    pixels, scale = faces._scaled(canvas, faces.EMBEDDING_SIDE, "RGB")
    whole = faces._descriptor(pixels, faces._scale_box(box, scale))
    # 1e-3 is a six-hundredth of MATCH_THRESHOLD: the same face, to rounding at the image's edge
    assert faces.distance(faces.embed(canvas, box), whole) < 1e-3


@pytest.mark.parametrize("change", sorted(faces_data.TRANSFORMS))
def test_the_astronauts_transformed_copies_are_the_same_person(change, astronaut_embedding):
    copy = faces_data.TRANSFORMS[change](faces_data.astronaut())
    gap = faces.distance(astronaut_embedding, only_face(copy)[1])
    assert gap <= faces.SAME_PERSON, f"{change}: {gap:.3f}"
    assert faces.likeness_score(gap) >= 70


def test_other_modes_are_converted(astronaut_embedding):
    rgba = faces_data.astronaut().convert("RGBA")
    grey = faces_data.astronaut().convert("L")
    for image in (rgba, grey):
        assert faces.distance(astronaut_embedding, only_face(image)[1]) <= faces.SAME_PERSON


def test_boxes_are_in_the_images_own_pixels_at_any_size(astronaut_embedding):
    box = faces.detect(faces_data.astronaut())[0]
    canvas = Image.new("RGB", (3000, 2400), (70, 110, 90))
    canvas.paste(faces_data.astronaut().resize((2048, 2048), Image.Resampling.LANCZOS), (600, 200))
    (x, y, w, h), embedding = only_face(canvas)
    # HOG's boxes come in its pyramid's steps, so the size may differ by a step; the centre not.
    centre, side = (600 + 4 * (box[0] + box[2] / 2), 200 + 4 * (box[1] + box[3] / 2)), 4 * box[2]
    assert abs(x + w / 2 - centre[0]) < 0.1 * side and abs(y + h / 2 - centre[1]) < 0.1 * side
    assert 0.75 * side < w < 1.33 * side
    assert faces.distance(astronaut_embedding, embedding) <= faces.SAME_PERSON


def test_a_small_face_is_found_by_upsampling():
    canvas = Image.new("RGB", (1024, 1024), (90, 120, 150))
    canvas.paste(faces_data.astronaut(), (300, 400))  # the face is ~90 px of 1024: 45 at 512
    assert faces.detect(canvas, upsample=0) == []
    (x, y, w, h), = faces.detect(canvas)
    assert 300 < x < 300 + 512 and 400 < y < 400 + 512 and w < 150


@pytest.mark.parametrize("name", [name for name, _ in faces_data.no_faces()])
def test_an_image_without_a_face_gives_no_faces(name):
    image = dict(faces_data.no_faces())[name]
    assert faces.faces(image) == []
    assert faces.detect(image, upsample=1) == []


def test_a_blank_or_tiny_image_gives_no_faces():
    assert faces.faces(Image.new("RGB", (1024, 768), (200, 200, 200))) == []
    assert faces.faces(Image.new("RGB", (8, 8))) == []


@needs_dlib_examples
@pytest.mark.parametrize("name", list(faces_data.GROUPS))
def test_a_group_photo_gives_several_faces_of_different_people(name):
    image = faces_data.dlib_photo(f"faces/{name}")
    found = faces.faces(image)
    assert len(found) >= faces_data.GROUPS[name]
    assert [box[2] * box[3] for box, _ in found] == sorted(
        (box[2] * box[3] for box, _ in found), reverse=True)
    for box, _ in found:
        assert 0 <= box[0] < image.width and 0 <= box[1] < image.height
    big = [embedding for box, embedding in found if box[2] >= faces.MIN_FACE_SIDE]
    for a, b in itertools.combinations(big, 2):
        assert faces.distance(a, b) > faces.MATCH_THRESHOLD


@needs_dlib_examples
def test_every_photo_of_a_person_is_near_that_persons_reference_face(embedded, reference_faces):
    assert len(embedded) >= len(faces_data.originals()) - 1  # one John Salley chip has no face
    for photo, embedding in embedded:
        gap = faces.distance(embedding, reference_faces[photo.person])
        assert gap <= faces.SAME_PERSON, f"{photo.source}: {gap:.3f}"


@needs_dlib_examples
def test_each_photo_is_nearest_to_its_own_persons_reference_face(embedded, reference_faces):
    assert len(reference_faces) >= 12
    for photo, embedding in embedded:
        nearest = min(reference_faces,
                      key=lambda person: faces.distance(embedding, reference_faces[person]))
        assert nearest == photo.person, photo.source


@needs_dlib_examples
def test_different_people_are_different(reference_faces):
    for (a, first), (b, second) in itertools.combinations(reference_faces.items(), 2):
        gap = faces.distance(first, second)
        assert gap > faces.DIFFERENT_PERSON, f"{a} vs {b}: {gap:.3f}"
        assert faces.likeness_score(gap) < 50


@needs_dlib_examples
def test_verification_on_the_labelled_pairs_is_at_least_98_percent(embedded):
    photos = [photo for photo, _ in embedded]
    pairs = faces_data.pairs(photos)
    assert sum(same for *_, same, _ in pairs) > 250 and sum(not s for *_, s, _ in pairs) > 2000
    right = sum((faces.distance(embedded[i][1], embedded[j][1]) <= faces.MATCH_THRESHOLD) == same
                for i, j, same, _ in pairs)
    assert right / len(pairs) >= 0.98


def test_the_medoid_is_a_member_and_ignores_a_stray_face(astronaut_embedding):
    copies = [only_face(faces_data.TRANSFORMS[name](faces_data.astronaut()))[1]
              for name in ("mirrored", "warm grade", "JPEG quality 20")]
    stranger = only_face(faces_data.grace_hopper())[1]
    centre = faces.medoid([stranger, astronaut_embedding, *copies])
    assert any(np.array_equal(centre, e) for e in [astronaut_embedding, *copies])
    assert faces.distance(centre, stranger) > faces.DIFFERENT_PERSON
    assert np.array_equal(faces.medoid([stranger]), stranger)
    with pytest.raises(ValueError):
        faces.medoid([])


def test_the_score_is_bounded_and_never_rises_with_distance():
    distances = np.linspace(-0.5, 2.5, 601)
    scores = [faces.likeness_score(d) for d in distances]
    assert all(isinstance(s, int) and 0 <= s <= 100 for s in scores)
    assert all(later <= earlier for earlier, later in itertools.pairwise(scores))
    assert faces.likeness_score(0.0) == 100 and faces.likeness_score(2.0) == 0
    assert faces.likeness_score(faces.MATCH_THRESHOLD) == 50
    assert (faces.likeness_score(faces.SAME_PERSON) > 50
            > faces.likeness_score(faces.DIFFERENT_PERSON))


def test_the_score_follows_the_faces(astronaut_embedding):
    copy = only_face(faces_data.TRANSFORMS["rotated 8°"](faces_data.astronaut()))[1]
    stranger = only_face(faces_data.grace_hopper())[1]
    assert (faces.likeness_score(faces.distance(astronaut_embedding, copy))
            > faces.likeness_score(faces.distance(astronaut_embedding, stranger)))
    assert faces.likeness_score(faces.distance(astronaut_embedding, stranger)) < 50


def test_threads_share_the_models_and_get_the_same_answers():
    images = [faces_data.astronaut(), faces_data.grace_hopper(),
              *(faces_data.TRANSFORMS[name](faces_data.astronaut())
                for name in ("mirrored", "noisy", "scaled ×2", "cool grade"))]
    alone = [faces.faces(image) for image in images]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(faces.faces, images * 3))
    for expected, got in zip(alone * 3, together, strict=True):
        assert [box for box, _ in got] == [box for box, _ in expected]
        for (_, a), (_, b) in zip(got, expected, strict=True):
            assert faces.distance(a, b) < 1e-5


def test_each_model_is_loaded_once_when_threads_start_together(monkeypatch):
    loads = dict.fromkeys(faces._LOADERS, 0)
    counting = threading.Lock()

    def counted(name, load):
        def loader():
            with counting:
                loads[name] += 1
            return load()
        return loader

    monkeypatch.setattr(faces, "_models", {})
    for name, load in list(faces._LOADERS.items()):
        monkeypatch.setitem(faces._LOADERS, name, counted(name, load))
    start = threading.Barrier(6)

    def first_use(_):
        start.wait()
        return faces.faces(faces_data.astronaut())

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(first_use, range(6)))
    assert loads == dict.fromkeys(faces._LOADERS, 1)
    assert all(len(found) == 1 for found in results)
