"""Benchmark: what the likeness score adds to every generated image of a personal model.

Images: 1024×1024 PNGs from the offline demo provider with a real person's face composed into
them (scikit-image's astronaut, Eileen Collins, as the demo trainer crops her from five
training photos; providers.demo.faces), at the three validation strengths, so faces are found,
drifted and sometimes missed as they are in production. For each image, the generation task's
own per-image work (generation.tasks._make_slot, less the provider call) is timed both ways:
decode + thumbnail alone, and decode at the embedding size + thumbnail + likeness score.

Prints, median and p95 over the runs:
- embedding time: likeness.faces.faces on the decoded 1024² image (target ≤ 150 ms);
- added time per image: (decode + score) - (decode alone), the cost the score puts on an
  image's path (target ≤ 1.2× the embedding time: the score is the embedding plus little);
- verification accuracy on the labelled real pairs of tests/faces_data.py (bench/faces.py's
  pair set; target ≥ 98 %).

    .venv/bin/python bench/likeness.py [--runs 30]
"""

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "likeness.settings")
os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="likeness-bench-"))

import django  # noqa: E402

django.setup()

from PIL import Image  # noqa: E402

from generation import likeness  # noqa: E402
from generation.images import decode  # noqa: E402
from likeness import faces  # noqa: E402
from providers.demo import faces as demo_faces  # noqa: E402
from providers.demo.images import encode_png, render  # noqa: E402
from tests.studio.photos import person_jpeg  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import faces as faces_bench  # noqa: E402  (bench/faces.py: the labelled pairs)


def subject():
    """The demo weights' face crops and the reference embeddings of five training photos."""
    photos = [person_jpeg(i) for i in range(5)]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for number, data in enumerate(photos):
            archive.writestr(f"{number:02d}.jpg", data)
    crops = tuple(demo_faces.crops_from_zip(buffer.getvalue()))
    references = []
    for data in photos:
        with Image.open(io.BytesIO(data)) as photo:
            references.append(faces.faces(photo.convert("RGB"))[0][1])
    return crops, references


def images(crops, count):
    made = []
    for seed in range(count):
        scale = (0.8, 1.0, 1.2)[seed % 3]
        picture = demo_faces.compose(render("a portrait in a garden", seed, 1024, 1024), crops,
                                     seed, scale, 1.0)
        made.append(encode_png(picture, "a portrait in a garden", seed))
    return made


def quantiles(values):
    values = sorted(values)
    return statistics.median(values), values[min(len(values) - 1, int(len(values) * 0.95))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    crops, references = subject()
    pngs = images(crops, args.runs)
    faces.faces(Image.new("RGB", (64, 64)))  # loads the models once, outside the timings
    plain, scored, embedding, scores = [], [], [], []
    for data in pngs:
        started = time.perf_counter()
        decode(data)
        plain.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        decoded = decode(data, keep_side=faces.EMBEDDING_SIDE)
        score = likeness.score(decoded.picture, references)
        scored.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        faces.faces(decoded.picture)
        embedding.append((time.perf_counter() - started) * 1000)
        scores.append(score.likeness)
    added = [s - p for s, p in zip(scored, plain, strict=True)]
    emb, emb95 = quantiles(embedding)
    add, add95 = quantiles(added)
    base, _ = quantiles(plain)
    print(f"images: {len(pngs)} demo 1024×1024 PNGs with a real face at strengths 0.8/1.0/1.2; "
          f"scores median {statistics.median(scores):.0f}, "
          f"{sum(s == 0 for s in scores)} without a usable face")
    print(f"embedding (likeness.faces.faces on a 1024² image): median {emb:.0f} ms, "
          f"p95 {emb95:.0f} ms; target <= 150 ms -> {'met' if emb <= 150 else 'MISSED'}")
    print(f"decode + thumbnail alone: median {base:.0f} ms")
    print(f"added per image by the score: median {add:.0f} ms, p95 {add95:.0f} ms, "
          f"{add / emb:.2f}x the embedding; target <= 1.2x -> "
          f"{'met' if add <= 1.2 * emb else 'MISSED'}")
    faces_bench.accuracy()


if __name__ == "__main__":
    main()
