"""Soak test: a few hundred jobs while workers are killed with SIGKILL at random; then every
job must have ended exactly once and every credit must add up.

    python bench/soak.py                      # the full soak: 300 generations + 10 trainings
    python bench/soak.py --generations 40 --trainings 2 --workers 2 --kill-every 1.5

It runs on its own SQLite DATA_DIR (a temporary folder) with real `manage.py db_worker`
processes, prints the figures as JSON and exits non-zero when a check fails. The short form
runs in CI (tests/security/test_soak.py)."""

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SETUP = """
import io
import json
from django.core.files.base import ContentFile
from PIL import Image
from accounts.models import User
from credits.actions import grant
from generation.actions import create_generation
from studio.actions import create_model
from studio.models import TrainingPhoto
from studio.actions import start_training
from tests.factories import consent_for
users = [User.objects.create_user(f'soak{n}@example.com', 'a-long-password-1')
         for n in range(max(5, __TRAININGS__))]
for user in users:
    grant(user, 100000, reason='soak', reference=f'soak:{user.pk}')
for n in range(__GENERATIONS__):
    create_generation(users[n % len(users)], prompt=f'soak {n}', num_images=1 + n % 4)
# A real (tiny, faceless) JPEG: the demo trainer opens the photos it is given.
buffer = io.BytesIO()
Image.new('RGB', (64, 64), (90, 120, 150)).save(buffer, 'JPEG')
TINY_JPEG = buffer.getvalue()
for n in range(__TRAININGS__):
    user = users[n]  # one model each: the Free plan holds one
    model = create_model(user, name=f'Soak {n}', subject_class='person')
    for i in range(5):
        photo = TrainingPhoto(user=user, model=model, filename=f'{i}.jpg', width=1024,
                              height=1024, source_format='JPEG', sha256=f'{n}-{i}',
                              phash='0' * 16, sharpness=100)
        photo.file.save(f'{photo.id}.jpg', ContentFile(TINY_JPEG), save=False)
        photo.thumbnail.save(f'{photo.id}-t.webp', ContentFile(b'webp'), save=False)
        photo.save()
    consent_for(model)  # made-up photos, a made-up consent: the soak is about the queue
    start_training(model)
print(json.dumps({'ok': True}))
"""

PROGRESS = """
import json
from generation.models import Generation
from studio.models import TrainingRun
print(json.dumps({
    'generations_open': Generation.objects.exclude(
        status__in=['succeeded', 'partial', 'failed']).count(),
    'trainings_open': TrainingRun.objects.exclude(
        status__in=['succeeded', 'failed', 'canceled']).count(),
}))
"""

CHECK = """
import json
from collections import Counter
from django.db.models import Sum
from django_tasks_db.models import DBTaskResult
from accounts.models import User
from credits.actions import get_balance, ledger_is_consistent
from credits.models import CreditEntry
from generation.models import Generation
from studio.models import TrainingRun
problems = []
outcomes = Counter()
for g in Generation.objects.all():
    outcomes['generation:' + g.status] += 1
    indexes = list(g.images.values_list('index', flat=True))
    if len(indexes) != len(set(indexes)):
        problems.append(f'{g.id}: an image stored twice {sorted(indexes)}')
    if g.status not in ('succeeded', 'partial', 'failed'):
        problems.append(f'{g.id}: not finished ({g.status})')
    per_image = g.credits_reserved // g.num_images
    entries = CreditEntry.objects.filter(reference__startswith=f'gen:{g.id}:')
    reserve = entries.filter(reference=f'gen:{g.id}:reserve').count()
    net = entries.aggregate(s=Sum('delta'))['s'] or 0
    if reserve != 1:
        problems.append(f'{g.id}: reserved {reserve} times')
    if net != -per_image * len(indexes):
        problems.append(f'{g.id}: charged {-net} for {len(indexes)} images')
    if g.status == 'succeeded' and len(indexes) != g.num_images:
        problems.append(f'{g.id}: succeeded with {len(indexes)}/{g.num_images} images')
for run in TrainingRun.objects.all():
    outcomes['training:' + run.status] += 1
    if not run.is_finished:
        problems.append(f'run {run.id}: not finished ({run.status})')
    spent = CreditEntry.objects.filter(reference=f'train:{run.id}').count()
    refunds = CreditEntry.objects.filter(reference=f'train:{run.id}:refund').count()
    if spent != 1 or refunds != (1 if run.credits_refunded else 0):
        problems.append(f'run {run.id}: charged {spent}, refunded {refunds}')
for user in User.objects.all():
    if not ledger_is_consistent(user) or get_balance(user) < 0:
        problems.append(f'{user.email}: ledger does not add up')
left = DBTaskResult.objects.exclude(status__in=['SUCCESSFUL', 'FAILED']).exclude(
    task_path__in=['studio.tasks.reconcile_trainings', 'studio.tasks.sweep_cleanups',
                   'billing.tasks.reconcile_billing', 'api.tasks.prune_idempotency_keys',
                   'accounts.tasks.apply_photo_retention']).count()
if left:
    problems.append(f'{left} job tasks still queued or running')
tasks = DBTaskResult.objects.filter(task_path='generation.tasks.run_generation')
recovered = sum(1 for t in tasks if len(t.worker_ids) > 1)
print(json.dumps({'outcomes': dict(outcomes), 'problems': problems[:50],
                  'problem_count': len(problems), 'tasks': tasks.count(),
                  'tasks_recovered_from_dead_workers': recovered,
                  'credits_spent': -(CreditEntry.objects.filter(kind='spend').aggregate(
                      s=Sum('delta'))['s'] or 0),
                  'credits_refunded': CreditEntry.objects.filter(kind='refund').aggregate(
                      s=Sum('delta'))['s'] or 0}))
"""


class Soak:
    def __init__(self, data_dir: Path, *, delay: float, lease: int):
        self.data_dir = data_dir
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("DATABASE_URL", "DATABASE_URL_FILE", "DJANGO_SETTINGS_MODULE")}
        self.env.update(DATA_DIR=str(data_dir), DEMO_PROVIDER_DELAY=str(delay),
                        JOB_LEASE_SECONDS=str(lease), JOB_HEARTBEAT_SECONDS="0.5",
                        JOB_RETRY_BASE_SECONDS="0.2", JOB_MAX_ATTEMPTS="50",
                        TRAINING_DEMO_SECONDS="3", TRAINING_POLL_SECONDS="1",
                        LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
        self.workers: dict[str, subprocess.Popen] = {}
        self.count = 0

    def manage(self, *args, timeout=600):
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=timeout, check=True)

    def shell(self, code: str) -> dict:
        out = self.manage("shell", "-c", code).stdout
        return json.loads(out.strip().splitlines()[-1])

    def start_worker(self, threads: int) -> None:
        self.count += 1
        name = f"soak-{self.count}"
        log = open(self.data_dir / f"{name}.log", "w")  # noqa: SIM115
        self.workers[name] = subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval", "0.1",
             "--no-startup-delay", "--threads", str(threads), "--worker-id", name],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def kill_one(self, rng: random.Random) -> str:
        name = rng.choice(sorted(n for n, p in self.workers.items() if p.poll() is None))
        self.workers[name].send_signal(signal.SIGKILL)
        self.workers[name].wait(timeout=10)
        return name

    def stop_all(self):
        for process in self.workers.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.workers.values():
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()


def run(*, generations=300, trainings=10, workers=3, threads=4, kill_every=2.0,
        delay=0.05, lease=2, timeout=900, seed=1, data_dir: Path | None = None) -> dict:
    rng = random.Random(seed)
    own_dir = data_dir is None
    data_dir = Path(tempfile.mkdtemp(prefix="likeness-soak-")) if own_dir else data_dir
    soak = Soak(data_dir, delay=delay, lease=lease)
    started = time.monotonic()
    kills = 0
    try:
        soak.manage("migrate", "--no-input")
        soak.shell(SETUP.replace("__GENERATIONS__", str(generations))
                   .replace("__TRAININGS__", str(trainings)))
        for _ in range(workers):
            soak.start_worker(threads)
        next_kill = time.monotonic() + kill_every * rng.uniform(0.5, 1.5)
        while True:
            progress = soak.shell(PROGRESS)
            if not progress["generations_open"] and not progress["trainings_open"]:
                break
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"jobs still open after {timeout}s: {progress}")
            if time.monotonic() >= next_kill:
                soak.kill_one(rng)
                kills += 1
                soak.start_worker(threads)  # a replacement, as a supervisor would start
                next_kill = time.monotonic() + kill_every * rng.uniform(0.5, 1.5)
            time.sleep(0.3)
        soak.stop_all()
        result = soak.shell(CHECK)
        result.update(generations=generations, trainings=trainings, workers=workers,
                      threads=threads, kills=kills,
                      seconds=round(time.monotonic() - started, 1))
        return result
    finally:
        soak.stop_all()
        if own_dir:
            shutil.rmtree(data_dir, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generations", type=int, default=300)
    parser.add_argument("--trainings", type=int, default=10)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--kill-every", type=float, default=2.0, help="seconds, on average")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    result = run(generations=args.generations, trainings=args.trainings,
                 workers=args.workers, threads=args.threads, kill_every=args.kill_every,
                 timeout=args.timeout, seed=args.seed)
    print(json.dumps(result, indent=2))
    sys.exit(1 if result["problem_count"] else 0)


if __name__ == "__main__":
    main()
