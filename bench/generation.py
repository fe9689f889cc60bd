"""Benchmark: 50 requests of 4 images (200 images) through the real worker set-up, against a fake
Together AI that takes 2 s per request.

Starts FakeTogether(generation_seconds=2), migrates a temporary SQLite DATA_DIR, starts the
worker as scripts/serve does (`manage.py db_worker --no-reload`, here with `--threads N`),
submits the 50 requests with create_generation (as the page and the API do) and times until
every generation is finished. Then reports:
- the wall time (target: under 10 s; one provider call after another would take 200 x 2 s, or
  100 s with one 4-image call per request),
- the worker's peak memory (VmHWM from /proc),
- the time our own code adds per image beyond the provider's 2 s (median and p90; target
  under 50 ms), split into the provider call's overhead (SDK, HTTP, download) and decoding,
  thumbnailing and storing, next to the bare cost of decoding, thumbnailing and encoding the
  same image with Pillow.

    .venv/bin/python bench/generation.py [--requests 50] [--images 4] [--threads 25]
        [--seconds 2] [--processes 1]
    BENCH_WORKER_COMMAND="python manage.py db_worker --no-reload --threads {threads}" overrides
    the worker command ({threads} is replaced).
"""

import sys
from pathlib import Path

# Run as a script, bench/ comes first on the path, where a sibling (bench/queue.py) would
# shadow the standard library's module of that name.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import io  # noqa: E402
import os  # noqa: E402
import shlex  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import fakes.base  # noqa: E402
from fakes import FakeTogether  # noqa: E402

# The fake's HTTP server writes headers and body in two segments with Nagle's algorithm on, so
# every answer waits ~40 ms for the client's delayed ACK: an artefact of the test server (real
# providers do not add it) that would hide our own figures. TCP_NODELAY removes it.
fakes.base._Handler.disable_nagle_algorithm = True

DEFAULT_WORKER = "{python} manage.py db_worker --no-reload --interval 0.5 --threads {threads}"


def vm_hwm_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def pillow_floor(data: bytes, repeat: int = 20) -> float:
    """Decode, thumbnail (512 px) and encode WebP with Pillow alone: the floor, in ms."""
    from PIL import Image

    from generation.images import THUMBNAIL_SIZE, WEBP_METHOD, WEBP_QUALITY

    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        with Image.open(io.BytesIO(data)) as picture:
            picture.draft("RGB", (THUMBNAIL_SIZE, THUMBNAIL_SIZE))
            thumb = picture.convert("RGB")
        thumb.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.LANCZOS)
        thumb.save(io.BytesIO(), format="WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def run_load(args, env: dict, user) -> dict:
    """The worker processes, the requests all at once, then five one at a time (unloaded)."""
    from generation.actions import create_generation
    from generation.models import Generation

    command = os.environ.get("BENCH_WORKER_COMMAND", DEFAULT_WORKER)
    command = command.format(python=shlex.quote(sys.executable), threads=args.threads)
    workers = [subprocess.Popen(shlex.split(command), cwd=ROOT, env=env)  # noqa: S603 - ours
               for _ in range(args.processes)]
    try:
        time.sleep(2.0)  # let the workers start (imports, first poll)
        started = time.perf_counter()
        ids = [create_generation(user, prompt=f"bench picture {i}", num_images=args.images,
                                 base_model="flux-schnell").pk for i in range(args.requests)]
        submitted = time.perf_counter() - started
        pending = Generation.objects.filter(pk__in=ids).exclude(
            status__in=Generation.FINAL)
        deadline = time.monotonic() + 600
        while pending.exists():
            if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
                raise SystemExit("the workers stopped or took longer than 10 minutes")
            time.sleep(0.05)
        wall = time.perf_counter() - started
        peaks = [vm_hwm_kib(w.pid) for w in workers]
        # Unloaded: one request at a time, so the latency our code adds is not queueing for
        # the CPU behind 199 other images (this machine may have few cores).
        quiet = []
        for i in range(5):
            generation = create_generation(user, prompt=f"quiet {i}", num_images=args.images)
            while not Generation.objects.filter(pk=generation.pk,
                                                status__in=Generation.FINAL).exists():
                time.sleep(0.02)
            quiet.append(generation.pk)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
    return {"ids": ids, "quiet": quiet, "submitted": submitted, "wall": wall, "peaks": peaks}


def report(args, fake, run: dict) -> None:
    from django.core.files.storage import default_storage

    from generation.models import Generation, Image

    generations = Generation.objects.filter(pk__in=run["ids"])
    statuses = {s: generations.filter(status=s).count() for s in Generation.Status.values}
    images = list(Image.objects.filter(generation__in=run["ids"]))
    wait_ms = args.seconds * 1000
    ours = [i.metadata["slot_ms"] - wait_ms for i in images]
    call = [i.metadata["provider_ms"] - wait_ms for i in images]
    prepare = [i.metadata["prepare_ms"] for i in images]
    cpu = [i.metadata["cpu_ms"] for i in images]
    quiet_images = list(Image.objects.filter(generation__in=run["quiet"]))
    quiet_ours = [i.metadata["slot_ms"] - wait_ms for i in quiet_images]
    with default_storage.open(images[0].file.name) as handle:
        sample = handle.read()
    floor = pillow_floor(sample)

    print(f"requests: {args.requests} x {args.images} images = {len(images)} images stored; "
          f"statuses {statuses}")
    print(f"worker: {args.processes} process(es) x {args.threads} threads; fake provider "
          f"{args.seconds:.1f} s per request; {len(fake.generations)} provider calls")
    print(f"submit 50 requests: {run['submitted']:.2f} s; all done after {run['wall']:.2f} s "
          f"(serially: {len(images) * args.seconds:.0f} s one image per call, "
          f"{args.requests * args.seconds:.0f} s one call per request)")
    print(f"worker peak memory (VmHWM): {', '.join(f'{p / 1024:.0f} MiB' for p in run['peaks'])}")
    print(f"our time per image beyond the provider's wait, one request at a time: median "
          f"{statistics.median(quiet_ours):.1f} ms, p90 {percentile(quiet_ours, 0.9):.1f} ms "
          f"({len(quiet_images)} images)")
    print(f"  of which the provider call (SDK, HTTP, download): median "
          f"{statistics.median(i.metadata['provider_ms'] - wait_ms for i in quiet_images):.1f}"
          f" ms; decode + thumbnail + files: median "
          f"{statistics.median(i.metadata['prepare_ms'] for i in quiet_images):.1f} ms; CPU: "
          f"median {statistics.median(i.metadata['cpu_ms'] for i in quiet_images):.1f} ms")
    print(f"our CPU time per image under the full load (SDK, download, decode, thumbnail, "
          f"files): median {statistics.median(cpu):.1f} ms, p90 {percentile(cpu, 0.9):.1f} ms")
    print(f"latency beyond the provider's wait under the full load (queueing for "
          f"{os.cpu_count()} CPU(s) included): median {statistics.median(ours):.1f} ms, "
          f"p90 {percentile(ours, 0.9):.1f} ms")
    print(f"  of which the provider call (SDK, HTTP, download): median "
          f"{statistics.median(call):.1f} ms; decode + thumbnail + files: median "
          f"{statistics.median(prepare):.1f} ms")
    print(f"bare Pillow decode + thumbnail + WebP encode of the same "
          f"{len(sample) / 1024:.0f} KiB image: {floor:.1f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()

    fake = FakeTogether(generation_seconds=args.seconds).start()
    data_dir = tempfile.mkdtemp(prefix="likeness-bench-gen-")
    env = {
        **os.environ,
        "DATA_DIR": data_dir, "DJANGO_SETTINGS_MODULE": "likeness.settings", "DEBUG": "1",
        "TOGETHER_API_KEY": fake.token, "TOGETHER_BASE_URL": fake.url,
        "GENERATION_PROVIDERS": "together", "LOG_LEVEL": "WARNING",
        "GENERATION_CONCURRENCY": str(args.images),
    }
    env.pop("DATABASE_URL", None)
    os.environ.update({k: v for k, v in env.items() if k != "DATABASE_URL"})
    os.environ.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT,
                   env=env, check=True)

    import django

    django.setup()
    from accounts.models import User
    from credits.actions import grant

    user = User.objects.create_user("bench@example.com", "bench-password-123")
    grant(user, args.requests * args.images * 4, reason="bench", reference="bench")
    try:
        run = run_load(args, env, user)
    finally:
        fake.stop()
    report(args, fake, run)


if __name__ == "__main__":
    main()
