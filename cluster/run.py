"""`python -m cluster`: the production-like run on one machine (scripts/cluster calls it).

Starts PostgreSQL-backed gunicorn web processes, db_worker processes, Redis, an S3 server and
the Together fake on 127.0.0.1; drives generations from concurrent API clients and a few
trainings; SIGKILLs one worker while it runs a job; then checks that every job finished exactly
once, every credit adds up and every file is in the bucket, and prints the figures.
Exit status 0 only when every check passed."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

from cluster.checks import check, percentile
from cluster.cpu import CpuSampler
from cluster.load import ClientStats, generation_client, load, training_client
from cluster.services import Cluster

SIZES = {
    # generations, clients, trainings
    "full": (300, 30, 3),
    "short": (60, 10, 1),
}

SETUP_USERS = """
import json
from accounts.models import User
from api.keys import create_api_key
from credits.actions import grant
keys = []
for n in range({count}):
    user = User.objects.create_user(f"client{{n}}@cluster.example", "cluster-password-1")
    User.objects.filter(pk=user.pk).update(plan="pro")
    grant(user, 500, reason="Cluster run", reference=f"cluster:{{n}}")
    keys.append(create_api_key(user, "cluster")[1])
print(json.dumps(keys))
"""

RUNNING_ON = """
import json
from django_tasks_db.models import DBTaskResult
rows = DBTaskResult.objects.running().filter(task_path="generation.tasks.run_generation")
print(json.dumps([str(r.id) for r in rows if r.worker_ids and r.worker_ids[-1].startswith("{w}-")]))
"""


def log(message: str):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def training_photos(count: int) -> list[bytes]:
    from tests.studio.photos import person_jpeg

    return [person_jpeg(n) for n in range(count)]


def consent_selfie() -> bytes:
    from tests.studio.photos import selfie_jpeg

    return selfie_jpeg()


def kill_when_busy(cluster: Cluster, stats: ClientStats, total: int, killed: dict,
                   lock: threading.Lock, stop: threading.Event):
    """SIGKILL worker 1 once a third of the generations are done, at a moment it runs one."""
    victim = cluster.workers[0]
    while not stop.wait(0.2):
        with lock:
            done = len(stats.finished)
        if done < total // 3:
            continue
        with cluster.db() as conn:
            rows = conn.execute(
                "SELECT id::text FROM django_tasks_database_dbtaskresult WHERE status = "
                "'RUNNING' AND task_path = 'generation.tasks.run_generation' AND "
                "worker_ids->>-1 LIKE %s", ("w1-%",)).fetchall()
        if not rows:
            continue
        os.kill(victim.popen.pid, signal.SIGKILL)
        victim.popen.wait(timeout=10)
        killed.update(worker="w1", tasks=[r[0] for r in rows], at_done=done,
                      epoch=time.time())
        log(f"SIGKILL worker1 (pid {victim.popen.pid}) with {len(rows)} generation job(s) "
            f"under way, {done}/{total} generations done")
        return


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m cluster", description=__doc__)
    parser.add_argument("--short", action="store_true", help="the shortened run CI does")
    parser.add_argument("--generations", type=int)
    parser.add_argument("--clients", type=int)
    parser.add_argument("--trainings", type=int)
    parser.add_argument("--bench", action="store_true",
                        help="also measure gallery API throughput against a minimal view")
    parser.add_argument("--bench-seconds", type=float, default=8)
    parser.add_argument("--database", default=os.environ.get("CLUSTER_DATABASE",
                                                             "likeness_cluster"))
    parser.add_argument("--pg-url", default=os.environ.get(
        "CLUSTER_PG_URL", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--run-dir", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the database and logs")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    generations, clients, trainings = SIZES["short" if args.short else "full"]
    generations = args.generations or generations
    clients = args.clients or clients
    trainings = args.trainings if args.trainings is not None else trainings
    per_client = -(-generations // clients)
    generations = per_client * clients
    run_dir = args.run_dir or Path(tempfile.mkdtemp(prefix="likeness-cluster-"))
    log(f"run directory {run_dir}: {generations} generations from {clients} clients, "
        f"{trainings} trainings")

    wall = time.monotonic()
    cluster = Cluster(run_dir, pg_url=args.pg_url, database=args.database, keep=args.keep,
                      faults=(10, 5) if not args.short else (3, 2))
    figures: dict = {"generations": generations, "clients": clients, "trainings": trainings}
    failures: list[str] = []
    try:
        with cluster:
            figures["startup_s"] = round(time.monotonic() - wall, 1)
            log(f"up in {figures['startup_s']}s: web {cluster.web_urls}, "
                f"{len(cluster.workers)} workers x {cluster.worker_threads} threads")
            failures += run_and_check(cluster, args, figures, clients=clients,
                                      trainings=trainings, per_client=per_client)
    except Exception as exc:  # noqa: BLE001 - reported with the logs
        failures.append(f"{type(exc).__name__}: {exc}")
        print(cluster.logs(), file=sys.stderr)
    figures["wall_s"] = round(time.monotonic() - wall, 1)
    return report(args, figures, failures, run_dir)


def run_and_check(cluster: Cluster, args, figures: dict, *, clients: int, trainings: int,
                  per_client: int) -> list[str]:
    """The load, a worker killed in the middle, then the checks on what the database and the
    bucket hold; the figures go into `figures`, the failed checks are returned."""
    generations = per_client * clients
    keys = cluster.shell(SETUP_USERS.format(count=clients + trainings))
    stats, killed, train_results, load_seconds, cpu = run_clients(
        cluster, keys, clients=clients, trainings=trainings, per_client=per_client,
        seconds=240 if args.short else 600)
    failures = list(stats.errors)
    failures += [f"training client: {v}" for k, v in train_results.items()
                 if k.startswith("error")]
    if not killed:
        failures.append("no worker was killed (none was running a job at the time)")
    # Let the last recovered jobs, the trainings' validation images and their cleanups
    # settle, then look.
    settle(cluster, 120)
    facts = cluster.shell("from cluster.checks import print_gathered; print_gathered()")
    failed, found = check(facts, cluster.bucket_keys(), killed=killed, run_seconds=load_seconds,
                          expected_generations=generations, expected_trainings=trainings)
    failures += failed
    figures.update(found)
    throughput(figures, stats, facts)
    figures["cpu"] = cpu_figures(cpu, figures)
    figures["load_s"] = round(load_seconds, 1)
    figures["killed"] = {"worker": killed.get("worker"),
                         "jobs_under_way": len(killed.get("tasks", [])),
                         "at_generations_done": killed.get("at_done")}
    if args.bench:
        figures["web"] = web_bench(cluster, keys[:clients], args.bench_seconds)
    dead = [p.name for p in cluster.procs if not p.alive() and p is not cluster.workers[0]]
    if dead:
        failures.append(f"processes died: {dead}")
    return failures


def settle(cluster: Cluster, timeout: float):
    """Wait until no task is waiting or running (a training's validation images run for
    seconds after the training itself is final), then two seconds more."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with cluster.db() as conn:
            busy = conn.execute(
                "SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE status IN "
                "('READY', 'RUNNING')").fetchone()[0]
        if not busy:
            break
        time.sleep(0.5)
    time.sleep(2)


def run_clients(cluster: Cluster, keys: list[str], *, clients: int, trainings: int,
                per_client: int, seconds: float) -> tuple[ClientStats, dict, dict, float, dict]:
    """The API clients and the training clients at once, with a worker killed when busy:
    (client stats, what was killed, the trainings' results, seconds the load took, the CPU
    split)."""
    photos = training_photos(5) if trainings else []
    selfie = consent_selfie() if trainings else b""
    lock, stop = threading.Lock(), threading.Event()
    stats, killed, train_results = ClientStats(), {}, {}
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=generation_client, args=(
        cluster.web_urls, keys[n], n, per_client, stats, deadline, lock))
        for n in range(clients)]
    threads += [threading.Thread(target=training_client, args=(
        cluster.web_urls[n % len(cluster.web_urls)], keys[clients + n], n, photos,
        train_results, deadline, lock, selfie)) for n in range(trainings)]
    killer = threading.Thread(target=kill_when_busy, args=(
        cluster, stats, per_client * clients, killed, lock, stop))
    load_started = time.monotonic()
    with cpu_sampler(cluster) as sampler:
        for thread in threads:
            thread.start()
        killer.start()
        for thread in threads:
            thread.join()
        stop.set()
        killer.join()
    load_seconds = time.monotonic() - load_started
    log(f"load done in {load_seconds:.1f}s")
    return stats, killed, train_results, load_seconds, sampler.split()


def process_kind(name: str) -> str:
    """A cluster process's kind from its name: web1 and web2 are "web", worker1… "worker";
    the others (redis, s3, together) are their own."""
    numbered = re.fullmatch(r"(web|worker)\d+", name)
    return numbered.group(1) if numbered else name


def cpu_sampler(cluster: Cluster) -> CpuSampler:
    """The CPU split of a run: each group's processes (and their children); the clients are
    this driver process and what it starts, the database every postgres process."""
    def pids(*kinds):
        return lambda: {p.popen.pid for p in cluster.procs if process_kind(p.name) in kinds}
    return CpuSampler({"web": pids("web"), "workers": pids("worker"),
                       "fakes": pids("together", "s3"), "redis": pids("redis"),
                       "clients": lambda: {os.getpid()}}, by_name={"database": "postgres"})


def cpu_figures(cpu: dict, figures: dict) -> dict:
    """CPU seconds and milliseconds per completed image of each group, and the ceiling the
    cores allow: cores ÷ CPU per image, of everything and of the product's own processes."""
    images = figures.get("images_completed") or 0
    groups = cpu["groups_s"]
    result = {**cpu, "ms_per_image": {k: round(v / images * 1000, 1) if images else None
                                     for k, v in groups.items()}}
    if images:
        every = sum(groups.values()) / images
        ours = sum(groups[k] for k in ("web", "workers", "database", "redis")) / images
        result["ceiling_images_per_s"] = round(cpu["cores"] / every, 2)
        result["ceiling_ours_images_per_s"] = round(cpu["cores"] / ours, 2)
    return result


def throughput(figures: dict, stats: ClientStats, facts: dict) -> None:
    posted = sorted(stats.posted)
    api_window = posted[-1][1] - posted[0][0] if posted else float("nan")
    accept = [b - a for a, b in posted]
    figures["api_generations_per_s"] = round(len(posted) / api_window, 1)
    figures["api_post_p50_ms"] = round(percentile(accept, 50) * 1000, 1)
    figures["api_post_p95_ms"] = round(percentile(accept, 95) * 1000, 1)
    ends = [g["finished"] for g in facts["generations"] if g["finished"]]
    starts = [g["created"] for g in facts["generations"]]
    images = sum(len(g["images"]) for g in facts["generations"])
    figures["images_completed"] = images
    if ends:
        window = max(ends) - min(starts)
        figures["completed_generations_per_s"] = round(len(ends) / window, 2)
        figures["completed_images_per_s"] = round(images / window, 2)


def report(args, figures: dict, failures: list[str], run_dir: Path) -> int:
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    checks = figures.get("checks", 0)
    if failures:
        log(f"FAILED: {len(failures)} check(s)")
        for failure in failures[:40]:
            print(f"  - {failure}")
        print(f"logs in {run_dir}")
        print(f"cluster: {max(checks - len(failures), 0)} passed, {len(failures)} failed")
        return 1
    log(f"PASSED: {figures['generations']} generations and {figures['trainings']} trainings "
        f"finished exactly once, credits add up, {figures.get('files_checked')} files in the "
        f"bucket (wall {figures['wall_s']}s)")
    if not args.keep:
        shutil.rmtree(run_dir, ignore_errors=True)
    print(f"cluster: {checks} passed, 0 failed")
    return 0


def web_bench(cluster: Cluster, keys: list[str], seconds: float) -> dict:
    """Gallery API (GET /api/v1/images, a page of 24 with signed URLs) against a minimal
    Django view (/healthz), both through the same gunicorn processes and middleware."""
    connections = 32
    key = keys[0]
    auth = {"Authorization": f"Bearer {key}"}
    load(cluster.web_urls, "/healthz", {}, 2, connections)  # warm every process
    minimal = load(cluster.web_urls, "/healthz", {}, seconds, connections)
    gallery = load(cluster.web_urls, "/api/v1/images?limit=24", auth, seconds, connections)
    result = {"connections": connections, "seconds": seconds, "minimal_view": minimal,
              "gallery_api": gallery,
              "ratio": round(gallery["rps"] / minimal["rps"], 3) if minimal["rps"] else None}
    log(f"web: gallery API {gallery['rps']} req/s vs minimal view {minimal['rps']} req/s "
        f"(ratio {result['ratio']}, {gallery['tool']})")
    return result


if __name__ == "__main__":
    sys.exit(main())
