"""Benchmark: face embeddings (likeness.faces) on real photos of real people.

Speed: detection + embedding of one 1024×1024 image (the size of a generated image), over
real photos cropped and scaled to fill it, median and p95; detection and the descriptor timed
on their own too. Target: at most 150 ms an image on this CPU.
Accuracy: yes/no verification at MATCH_THRESHOLD on the labelled pair set of
tests/faces_data.py (which names each photo's package, file and person). Target: at least 98 %.

    .venv/bin/python bench/faces.py [--runs 40]
"""

import argparse
import itertools
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dlib  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402

from likeness import faces  # noqa: E402
from tests import faces_data  # noqa: E402


def timed(fn, items, runs):
    times = []
    for k in range(runs):
        item = items[k % len(items)]
        started = time.perf_counter()
        fn(item)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]


def speed(runs):
    started = time.perf_counter()
    faces.faces(faces_data.astronaut())
    print(f"first call (loads the three models): {(time.perf_counter() - started) * 1000:.0f} ms")
    sources = [p for p in faces_data.originals() if min(p.image.size) >= 300]
    images = [ImageOps.fit(p.image, (1024, 1024), Image.Resampling.LANCZOS) for p in sources]
    images = [image for image in images if faces.detect(image)]
    found = [faces.detect(image) for image in images]
    boxes = [boxes[0] for boxes in found]
    print(f"speed: {runs} runs over {len(images)} real photos filled to 1024×1024 "
          f"({len({p.person for p in sources})} people; {sum(len(b) > 1 for b in found)} show "
          f"a second face, cut off at the edge of a collage, and faces() embeds it too)")
    whole = timed(faces.faces, images, runs)
    detect = timed(faces.detect, images, runs)
    embed = timed(lambda k: faces.embed(images[k], boxes[k]), range(len(images)), runs)
    chips = [dlib.get_face_chip(np.asarray(image), faces._model("landmarks")(
        np.asarray(image), dlib.rectangle(x, y, x + w, y + h)), size=150, padding=0.25)
        for image, (x, y, w, h) in zip(images, boxes, strict=True)]
    resnet = timed(faces._model("recognizer").compute_face_descriptor, chips, runs)
    print(f"detect + embed a 1024×1024 image: median {whole[0]:.0f} ms, p95 {whole[1]:.0f} ms")
    print(f"  detection (HOG on the 512 px copy): median {detect[0]:.0f} ms, "
          f"p95 {detect[1]:.0f} ms")
    print(f"  embedding (landmarks, chip, descriptor): median {embed[0]:.0f} ms, "
          f"p95 {embed[1]:.0f} ms")
    print(f"  of which the ResNet descriptor alone on the 150×150 chip (floor): "
          f"median {resnet[0]:.0f} ms")
    verdict = "met" if whole[0] <= 150 else "MISSED"
    print(f"target: <= 150 ms an image (median) -> {verdict}")


def describe(photos):
    people = defaultdict(set)
    for photo in photos:
        if photo.variant == "original":
            people[photo.person].add(photo.source)
    print(f"pair set: {len(photos)} images of {len(people)} people "
          f"({sum(map(len, people.values()))} distinct photos, the rest transformed copies: "
          f"{', '.join(faces_data.TRANSFORMS)})")
    for person, sources in sorted(people.items()):
        packages = sorted({source.split(" ")[0] for source in sources})
        print(f"  {person}: {len(sources)} photo(s) from {', '.join(packages)}")


def accuracy():
    photos = faces_data.labelled_photos()
    describe(photos)
    embeddings = []
    for photo in photos:
        found = faces.faces(photo.image)
        embeddings.append(found[0][1] if found else None)
    missed = [f"{p.source} ({p.variant})" for p, e in zip(photos, embeddings, strict=True)
              if e is None]
    print(f"no face found in {len(missed)}: {'; '.join(missed) or '-'} (left out)")
    by_kind = defaultdict(list)
    for i, j, same, kind in faces_data.pairs(photos):
        if embeddings[i] is not None and embeddings[j] is not None:
            by_kind[(same, kind)].append(faces.distance(embeddings[i], embeddings[j]))
    right = total = 0
    for (same, kind), found in sorted(by_kind.items(), reverse=True):
        values = np.array(found)
        wrong = int(np.sum(values > faces.MATCH_THRESHOLD) if same else
                    np.sum(values <= faces.MATCH_THRESHOLD))
        right, total = right + len(values) - wrong, total + len(values)
        print(f"{'same person' if same else 'different people'}, {kind}: {len(values)} pairs, "
              f"distance median {np.median(values):.3f}, p5 {np.percentile(values, 5):.3f}, "
              f"p95 {np.percentile(values, 95):.3f}, min {values.min():.3f}, "
              f"max {values.max():.3f}; wrong at {faces.MATCH_THRESHOLD}: {wrong}")
    same = np.concatenate([v for (s, _), v in by_kind.items() if s])
    other = np.concatenate([v for (s, _), v in by_kind.items() if not s])
    print(f"max same-person distance {same.max():.3f}, min different-person {other.min():.3f}")
    print(f"borderline ({faces.SAME_PERSON}–{faces.DIFFERENT_PERSON}): "
          f"{np.mean((same > faces.SAME_PERSON) & (same <= faces.DIFFERENT_PERSON)):.1%} of "
          f"same-person pairs, {np.mean(other <= faces.DIFFERENT_PERSON):.1%} of different")
    print(f"verification accuracy at {faces.MATCH_THRESHOLD}: {right / total:.2%} of "
          f"{total} pairs ({len(same)} same, {len(other)} different)")
    print(f"target: >= 98 % -> {'met' if right / total >= 0.98 else 'MISSED'}")


def groups():
    """Strangers side by side in one photo: every two faces there are two people."""
    small, big = [], []
    for _, image, _ in faces_data.groups():
        for (a, first), (b, second) in itertools.combinations(faces.faces(image), 2):
            side = min(a[2], b[2])
            (big if side >= faces.MIN_FACE_SIDE else small).append(faces.distance(first, second))
    for name, values in ((f"faces >= {faces.MIN_FACE_SIDE} px", big),
                         (f"a face < {faces.MIN_FACE_SIDE} px", small)):
        if values:
            print(f"group photos, two strangers, {name}: {len(values)} pairs, min distance "
                  f"{min(values):.3f}, {sum(v <= faces.MATCH_THRESHOLD for v in values)} "
                  f"under {faces.MATCH_THRESHOLD}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    if not faces_data.have_dlib_examples():
        print("note: Debian's libdlib19.1 is not installed: only 2 people (apt-get install "
              "libdlib19.1)")
    speed(max(20, args.runs))
    accuracy()
    groups()


if __name__ == "__main__":
    main()
