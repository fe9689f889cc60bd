"""Benchmark: checking and normalising 20 photos of 12 megapixels, as one upload request.

Makes 20 distinct 4000×3000 JPEGs of a real person (skimage's astronaut, upscaled onto varied
backgrounds and re-encoded), then times Likeness's full check (decode, normalise, blur, the one
face, the perceptual hash, the stored JPEG and thumbnail, the face's embedding) of all of them
as an upload request does (studio.photos.Batch.check_all), in the photo-check processes
(PHOTO_CHECK_PROCESSES, one per core by default) and one by one in this thread, next to the time
Pillow alone needs to decode the same files (the floor), with the time of each stage.
Target (issue 21): at most 2 s for the 20 photos on a 2-core machine, using both cores.

    .venv/bin/python bench/photos.py [--photos 20] [--repeat 3] [--processes N]
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

from django.conf import settings  # noqa: E402
from PIL import Image  # noqa: E402

from studio import photo_pool  # noqa: E402
from studio.photos import STAGES, Batch, CheckedPhoto, Rules, examine  # noqa: E402
from tests.studio.photos import encode, scene  # noqa: E402


def make_photos(count):
    return [encode(scene(i, size=(4000, 3000)), quality=92) for i in range(count)]


def pillow_decode(photos):
    for data in photos:
        with Image.open(io.BytesIO(data)) as image:
            image.load()


def likeness_check(photos):
    existing = []
    for outcome in Batch().check_all(photos, subject_class="woman", existing=existing):
        if isinstance(outcome, CheckedPhoto):
            existing.append((outcome.sha256, outcome.phash))
    return existing


def timed(fn, photos, repeat):
    times, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        fn(photos)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return statistics.median(times), min(times), statistics.median(cpu)


def stages(photos):
    """Seconds per stage over all the photos, checked one by one in this thread."""
    timings = {}
    for data in photos:
        examine(data, "JPEG", "woman", Rules.now(), timings)
    return timings


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--processes", type=int, default=settings.PHOTO_CHECK_PROCESSES,
                        help="photo-check processes (default: PHOTO_CHECK_PROCESSES)")
    args = parser.parse_args()
    photos = make_photos(args.photos)
    size_mb = sum(map(len, photos)) / 1e6
    floor, floor_best, _ = timed(pillow_decode, photos, args.repeat)
    settings.PHOTO_CHECK_PROCESSES = 0
    accepted = len(likeness_check(photos))
    alone, alone_best, _ = timed(likeness_check, photos, args.repeat)
    settings.PHOTO_CHECK_PROCESSES = args.processes
    started = time.perf_counter()
    likeness_check(photos[:1])  # starts the processes: once per web process
    cold = time.perf_counter() - started
    ours, ours_best, parent_cpu = timed(likeness_check, photos, args.repeat)
    timings = stages(photos)
    print(f"photos: {args.photos} × 4000×3000 JPEG ({size_mb:.1f} MB), accepted {accepted}")
    print(f"pillow decode only (floor): median {floor:.2f} s (best {floor_best:.2f} s)")
    print(f"likeness check + normalise: median {ours:.2f} s (best {ours_best:.2f} s), "
          f"{ours / args.photos * 1000:.0f} ms a photo, {ours / floor:.2f}× the floor, "
          f"in {args.processes} photo-check processes on {os.cpu_count()} cores")
    print(f"  one by one in the request's thread: median {alone:.2f} s "
          f"(best {alone_best:.2f} s); the processes make it {alone / ours:.2f}× faster")
    print(f"  the request's own CPU with the processes: {parent_cpu * 1000:.0f} ms "
          f"(header checks, sha256, handing the bytes over)")
    print(f"  starting the processes (the first upload of a web process): {cold:.2f} s")
    total = sum(timings.values())
    print("  stages, one by one (CPU time of each, per photo): " + ", ".join(
        f"{stage} {timings.get(stage, 0) / args.photos * 1000:.0f} ms" for stage in STAGES)
        + f"; total {total / args.photos * 1000:.0f} ms")
    verdict = "met" if ours <= 2 * args.photos / 20 else "MISSED"
    print(f"target: <= 2 s for 20 photos -> {verdict}")
    photo_pool.shutdown()


if __name__ == "__main__":
    main()
