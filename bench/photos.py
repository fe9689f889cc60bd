"""Benchmark: checking and normalising 20 photos of 12 megapixels.

Makes 20 distinct 4000×3000 JPEGs of a real person (skimage's astronaut, upscaled onto varied
backgrounds and re-encoded), then times Likeness's full check + normalisation of all of them
next to the time Pillow alone needs to decode the same files (the floor).
Target: at most 10 s for the 20 photos on a 2-core machine.

    .venv/bin/python bench/photos.py [--photos 20] [--repeat 3]
"""

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "likeness.settings")
os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="likeness-bench-"))

import django  # noqa: E402

django.setup()

from PIL import Image  # noqa: E402

from studio.photos import check_photo  # noqa: E402
from tests.studio.photos import encode, scene  # noqa: E402


def make_photos(count):
    return [encode(scene(i, size=(4000, 3000)), quality=92) for i in range(count)]


def pillow_decode(photos):
    for data in photos:
        with Image.open(io.BytesIO(data)) as image:
            image.load()


def likeness_check(photos):
    existing = []
    for data in photos:
        checked = check_photo(data, subject_class="woman", existing=existing)
        existing.append((checked.sha256, checked.phash))
    return existing


def timed(fn, photos, repeat):
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn(photos)
        times.append(time.perf_counter() - started)
    return statistics.median(times), min(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    photos = make_photos(args.photos)
    size_mb = sum(map(len, photos)) / 1e6
    accepted = len(likeness_check(photos))
    floor, floor_best = timed(pillow_decode, photos, args.repeat)
    ours, ours_best = timed(likeness_check, photos, args.repeat)
    print(f"photos: {args.photos} × 4000×3000 JPEG ({size_mb:.1f} MB), accepted {accepted}")
    print(f"pillow decode only (floor): median {floor:.2f} s (best {floor_best:.2f} s)")
    print(f"likeness check + normalise: median {ours:.2f} s (best {ours_best:.2f} s), "
          f"{ours / args.photos * 1000:.0f} ms a photo, {ours / floor:.2f}× the floor")
    verdict = "met" if ours <= 10 * args.photos / 20 else "MISSED"
    print(f"target: <= 10 s for 20 photos -> {verdict}")


if __name__ == "__main__":
    main()
