"""Benchmark: 50 requests of 4 images (200 images) through the real worker set-up, against a fake
Together AI that takes 2 s per request.

Starts FakeTogether(generation_seconds=2), migrates a temporary SQLite DATA_DIR, starts the
worker as scripts/serve does (`manage.py db_worker --no-reload`, here with `--threads N`),
submits the 50 requests with create_generation (as the page and the API do) and times until
every generation is finished. Then reports:
- the wall time (target: under 10 s; one provider call after another would take 200 x 2 s, or
  100 s with one 4-image call per request),
- the worker's peak memory (VmHWM from /proc),
- the time our own code adds per image beyond the provider's own service time (the fake's
  Server-Timing, kept with each request it served: its wait and its image making), median and
  p90, split into the provider call's overhead (SDK, HTTP, download), decoding (thumbnail and
  WebP included) and storing the files,
- one-image generations run one at a time in this process (the worker's own run_task, signals
  included): the database statements of the job (target: at most 8; the queue's own claim and
  closing of its row apart), our time per image from the task's start until the image's row is
  committed (when the page can show it) beyond the provider's service time, with its breakdown
  (SDK/HTTP, decode, files, and "rows": the time of those statements), beside the bare cost of
  decoding, thumbnailing and encoding the same image with Pillow (target: at most 2x that).

    .venv/bin/python bench/generation.py [--requests 50] [--images 4] [--threads 25]
        [--seconds 2] [--processes 1]
    --profile also prints where the one-image jobs' time goes (cProfile, in this process);
    --profile-sort tottime (or any pstats order) and --profile-lines N set its order and length.
    BENCH_WORKER_COMMAND="python manage.py db_worker --no-reload --threads {threads}" overrides
    the worker command ({threads} is replaced).
"""

import sys
from pathlib import Path

# Run as a script, bench/ comes first on the path, where a sibling (bench/queue.py) would
# shadow the standard library's module of that name.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import cProfile  # noqa: E402
import io  # noqa: E402
import os  # noqa: E402
import pstats  # noqa: E402
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
QUEUE_TABLE = "django_tasks_database_dbtaskresult"
STATEMENTS_TARGET = 8
FLOOR_RATIO_TARGET = 2.0
PROFILER = None  # --profile: the one-image jobs' cProfile


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


def service_times(fake) -> dict[tuple[str, int], float]:
    """(prompt sent, seed) -> the fake's own time on that image, in ms: its POST (its wait and
    its image making) and the download of the result (Server-Timing, Request.service_ms)."""
    downloads = {r.path: r.service_ms or 0.0 for r in fake.calls("GET")}
    by_body = {}
    for call in fake.calls("POST", "/v1/images/generations"):
        body = call.json()
        by_body[(body["prompt"], body.get("seed"))] = call.service_ms or 0.0
    times = {}
    for entry in fake.generations:
        body = entry["request"]
        for offset, item in enumerate(entry["response"]["data"]):
            path = "/" + item.get("url", "").split("/", 3)[-1] if item.get("url") else ""
            times[(body["prompt"], body.get("seed", 0) + offset)] = (
                by_body.get((body["prompt"], body.get("seed")), 0.0) + downloads.get(path, 0.0))
    return times


def service_of(times: dict, image) -> float:
    return times.get((image.metadata.get("prompt_sent") or image.prompt, image.seed), 0.0)


def job_statements(captured) -> list[dict]:
    """The job's own statements (tests/generation/test_queries.py counts the same): not the
    queue's claim and closing of its task row, nor transaction control."""
    return [q for q in captured if QUEUE_TABLE not in q["sql"]
            and not q["sql"].startswith(("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT"))]


def run_one_image_jobs(user, count: int) -> list[dict]:
    """`count` one-image generations, each run by the worker's run_task in this process (the
    workers are stopped): per job its statements, their time and the task's wall time."""
    from django.db import connection, transaction
    from django.db.models.signals import post_save
    from django.test.utils import CaptureQueriesContext
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from generation.actions import create_generation
    from generation.models import Image
    from generation.tasks import run_generation
    from jobs.worker import WorkerThread

    appeared: list[float] = []

    def stored(sender, instance, created, **kwargs):
        if created:  # the image appears when its row commits
            transaction.on_commit(lambda: appeared.append(time.perf_counter()))

    post_save.connect(stored, sender=Image, dispatch_uid="bench.appeared")

    worker = WorkerThread(queue_names=["*"], interval=0, batch=True, backend_name="default",
                          startup_delay=False, max_tasks=None, worker_id="bench-in-process",
                          excluded_queue_names=[])
    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent.append((sql, (time.perf_counter() - started) * 1000))

    runs = []
    for i in range(count):
        generation = create_generation(user, prompt=f"one image {i}", num_images=1,
                                       base_model="flux-schnell")
        row = next(r for r in DBTaskResult.objects.filter(
            task_path=run_generation.module_path, status=TaskResultStatus.READY)
            if r.args_kwargs["args"] == [str(generation.pk)])
        row.claim(worker.worker_id)
        spent: list[tuple[str, float]] = []
        appeared.clear()
        with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timed):
            started = time.perf_counter()
            if PROFILER is not None:
                PROFILER.enable()
            worker.run_task(row)
            if PROFILER is not None:
                PROFILER.disable()
            wall_ms = (time.perf_counter() - started) * 1000
        statements = job_statements(captured.captured_queries)
        runs.append({"generation": generation.pk, "wall_ms": wall_ms,
                     "appeared_ms": (appeared[0] - started) * 1000,
                     "statements": len(statements),
                     "rows_ms": sum(ms for sql, ms in spent if QUEUE_TABLE not in sql),
                     "sql": [q["sql"][:120] for q in statements]})
    post_save.disconnect(sender=Image, dispatch_uid="bench.appeared")
    return runs


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
    one = run_one_image_jobs(user, args.one_image)
    return {"ids": ids, "quiet": quiet, "submitted": submitted, "wall": wall, "peaks": peaks,
            "one": one}


def report(args, fake, run: dict) -> None:
    from django.core.files.storage import default_storage

    from generation.models import Generation, Image

    times = service_times(fake)
    generations = Generation.objects.filter(pk__in=run["ids"])
    statuses = {s: generations.filter(status=s).count() for s in Generation.Status.values}
    images = list(Image.objects.filter(generation__in=run["ids"]))
    ours = [i.metadata["slot_ms"] - service_of(times, i) for i in images]
    call = [i.metadata["provider_ms"] - service_of(times, i) for i in images]
    decode = [i.metadata["decode_ms"] for i in images]
    files = [i.metadata["prepare_ms"] for i in images]
    cpu = [i.metadata["cpu_ms"] for i in images]
    quiet_images = list(Image.objects.filter(generation__in=run["quiet"]))
    quiet_ours = [i.metadata["slot_ms"] - service_of(times, i) for i in quiet_images]
    with default_storage.open(images[0].file.name) as handle:
        sample = handle.read()
    floor = pillow_floor(sample)
    median = statistics.median

    print(f"requests: {args.requests} x {args.images} images = {len(images)} images stored; "
          f"statuses {statuses}")
    print(f"worker: {args.processes} process(es) x {args.threads} threads; fake provider "
          f"{args.seconds:.1f} s per request; {len(fake.generations)} provider calls")
    print(f"submit 50 requests: {run['submitted']:.2f} s; all done after {run['wall']:.2f} s "
          f"(serially: {len(images) * args.seconds:.0f} s one image per call, "
          f"{args.requests * args.seconds:.0f} s one call per request)")
    print(f"worker peak memory (VmHWM): {', '.join(f'{p / 1024:.0f} MiB' for p in run['peaks'])}")
    print(f"our time per image beyond the provider's service time, one request at a time: "
          f"median {median(quiet_ours):.1f} ms, p90 {percentile(quiet_ours, 0.9):.1f} ms "
          f"({len(quiet_images)} images)")
    print(f"  of which the provider call (SDK, HTTP, download): median "
          f"{median(i.metadata['provider_ms'] - service_of(times, i) for i in quiet_images):.1f}"
          f" ms; decode + thumbnail: median "
          f"{median(i.metadata['decode_ms'] for i in quiet_images):.1f} ms; files: median "
          f"{median(i.metadata['prepare_ms'] for i in quiet_images):.1f} ms; CPU: "
          f"median {median(i.metadata['cpu_ms'] for i in quiet_images):.1f} ms")
    print(f"our CPU time per image under the full load (SDK, download, decode, thumbnail, "
          f"files): median {median(cpu):.1f} ms, p90 {percentile(cpu, 0.9):.1f} ms")
    print(f"latency beyond the provider's service time under the full load (queueing for "
          f"{os.cpu_count()} CPU(s) included): median {median(ours):.1f} ms, "
          f"p90 {percentile(ours, 0.9):.1f} ms")
    print(f"  of which the provider call (SDK, HTTP, download): median "
          f"{median(call):.1f} ms; decode + thumbnail: median {median(decode):.1f} ms; files: "
          f"median {median(files):.1f} ms")
    print(f"bare Pillow decode + thumbnail + WebP encode of the same "
          f"{len(sample) / 1024:.0f} KiB image: {floor:.1f} ms")
    report_one(run["one"], times, floor)


def report_one(one: list, times, floor: float) -> None:
    """The one-image generations run in this process: statements and our time to the row."""
    from generation.models import Image

    median = statistics.median
    if not one:
        return
    one_images = {i.generation_id: i for i in Image.objects.filter(
        generation__in=[r["generation"] for r in one])}
    statements = max(r["statements"] for r in one)
    our = [r["appeared_ms"] - service_of(times, one_images[r["generation"]]) for r in one]
    whole = [r["wall_ms"] - service_of(times, one_images[r["generation"]]) for r in one]
    sdk = [one_images[r["generation"]].metadata["provider_ms"]
           - service_of(times, one_images[r["generation"]]) for r in one]
    print(f"queries per image, one-image generation: {statements} "
          f"(target <= {STATEMENTS_TARGET}; the queue's own claim and close apart)")
    print(f"our time per image, one-image generation, task start to the image's row committed "
          f"beyond the provider's service time: median {median(our):.1f} ms = "
          f"{median(our) / floor:.2f}x the Pillow floor {floor:.1f} ms (target <= "
          f"{FLOOR_RATIO_TARGET:g}x; {len(one)} jobs; to the task's return: "
          f"{median(whole):.1f} ms)")
    print(f"  breakdown, medians: SDK/HTTP {median(sdk):.1f} ms, decode "
          f"{median(one_images[r['generation']].metadata['decode_ms'] for r in one):.1f} ms, "
          f"files {median(one_images[r['generation']].metadata['prepare_ms'] for r in one):.1f}"
          f" ms, rows {median(r['rows_ms'] for r in one):.1f} ms ({statements} statements)")
    if os.environ.get("BENCH_SQL"):
        print("\n".join(one[-1]["sql"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--one-image", type=int, default=15,
                        help="one-image generations run in this process after the load")
    parser.add_argument("--profile", action="store_true",
                        help="print where the one-image jobs' time goes (cProfile, cumulative; "
                             "their figures are then the profiled ones, slower)")
    parser.add_argument("--profile-sort", default="cumulative",
                        help="the profile's order: any pstats sort key (tottime, ncalls, ...)")
    parser.add_argument("--profile-lines", type=int, default=40,
                        help="how many lines of the profile to print")
    args = parser.parse_args()
    if args.profile:
        global PROFILER
        PROFILER = cProfile.Profile()

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
    images = args.requests * args.images + 5 * args.images + args.one_image
    grant(user, images * 4, reason="bench", reference="bench")
    try:
        run = run_load(args, env, user)
    finally:
        fake.stop()
    report(args, fake, run)
    if PROFILER is not None:
        print(f"\nprofile of the one-image jobs ({args.profile_sort}; the provider's wait "
              "included):")
        pstats.Stats(PROFILER).sort_stats(args.profile_sort).print_stats(args.profile_lines)


if __name__ == "__main__":
    main()
