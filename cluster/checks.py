"""What the cluster's database says after a run, gathered inside Django (`manage.py shell`), and
the checks made on it: every job finished exactly once, every credit adds up, every file is in
the bucket, recurring tasks were queued once per period."""

from __future__ import annotations

import json
from collections import Counter, defaultdict


def gather() -> dict:
    """Run inside `manage.py shell` against the cluster's database; prints one JSON line."""
    from django.conf import settings
    from django_tasks_db.models import DBTaskResult

    from credits.models import CreditEntry
    from generation.models import Generation, Image
    from jobs.models import RecurringTask
    from studio.models import PersonalModel, TrainingPhoto, TrainingRun

    def ts(value):
        return value.timestamp() if value else None

    ledger = defaultdict(int)
    for reference, delta in CreditEntry.objects.values_list("reference", "delta"):
        if reference.startswith("gen:"):
            ledger[reference.split(":")[1]] += delta
    images = defaultdict(list)
    for gen_id, index, file, thumb in Image.objects.values_list(
            "generation_id", "index", "file", "thumbnail"):
        images[str(gen_id)].append({"index": index, "file": file, "thumbnail": thumb})
    generations = [{
        "id": str(g.id), "user": g.user_id, "status": g.status, "num_images": g.num_images,
        "attempts": g.attempts, "reserved": g.credits_reserved, "refunded": g.credits_refunded,
        "per_image": g.credits_per_image, "failures": [f["index"] for f in g.failures],
        "images": images[str(g.id)], "ledger": ledger[str(g.id)],
        "created": ts(g.created_at), "started": ts(g.started_at), "finished": ts(g.finished_at),
    } for g in Generation.objects.all()]
    tasks = [{
        "id": str(t.id), "path": t.task_path, "status": t.status, "workers": t.worker_ids,
        "enqueued": ts(t.enqueued_at), "started": ts(t.started_at), "run_after": ts(t.run_after),
        "finished": ts(t.finished_at), "args": t.args_kwargs.get("args", []),
    } for t in DBTaskResult.objects.all()]
    users = _users({g["user"] for g in generations} | set(
        TrainingRun.objects.values_list("user_id", flat=True)))
    trainings = [{
        "id": str(r.id), "status": r.status, "user": r.user_id, "credits": r.credits,
        "zip": r.zip_file.name, "model_status": r.model.status, "weights": r.model.weights.name,
        "ledger": sum(CreditEntry.objects.filter(reference__contains=str(r.id))
                      .values_list("delta", flat=True)),
    } for r in TrainingRun.objects.select_related("model")]
    photos = [name for pair in TrainingPhoto.objects.values_list("file", "thumbnail")
              for name in pair]
    return {
        "generations": generations, "tasks": tasks, "users": users, "trainings": trainings,
        "photos": photos, "models": PersonalModel.objects.count(),
        "recurring": {name: path for name, (path, _) in settings.RECURRING_TASKS.items()},
        "periods": {name: every for name, (_, every) in settings.RECURRING_TASKS.items()},
        "recurring_rows": list(RecurringTask.objects.values_list("name", flat=True)),
    }


def _users(user_ids: set) -> dict:
    """Per account: its balance, whether its ledger is consistent, what it was granted and the
    ledger's sum. Inside `manage.py shell`, like gather()."""
    from django.db.models import Sum

    from accounts.models import User
    from credits.actions import get_balance, ledger_is_consistent
    from credits.models import CreditEntry

    users = {}
    for user_id in user_ids:
        user = User.objects.get(pk=user_id)
        users[str(user_id)] = {
            "balance": get_balance(user), "consistent": ledger_is_consistent(user),
            "granted": CreditEntry.objects.filter(user=user, kind="grant").aggregate(
                total=Sum("delta"))["total"] or 0,
            "sum": CreditEntry.objects.filter(user=user).aggregate(total=Sum("delta"))["total"],
        }
    return users


def print_gathered():
    print(json.dumps(gather()))


class Checks:
    """The failed checks and the figures of one run, filled in section by section."""

    def __init__(self) -> None:
        self.failures: list[str] = []
        self.figures: dict = {"checks": 0}

    def expect(self, condition, message) -> None:
        self.figures["checks"] += 1
        if not condition:
            self.failures.append(message)


def check(facts: dict, bucket: set[str], *, killed: dict, run_seconds: float,
          expected_generations: int, expected_trainings: int) -> tuple[list[str], dict]:
    """(failed checks, figures) for the facts gathered after the run."""
    c = Checks()
    _generations(c, facts["generations"], expected_generations)
    _queue(c, facts, killed)
    _credits(c, facts)
    _trainings(c, facts, expected_trainings)
    _files(c, facts, bucket)
    _recurring(c, facts, run_seconds)
    _pickup(c, facts["tasks"])
    return c.failures, c.figures


def _generations(c: Checks, gens: list, expected: int) -> None:
    """Every generation asked for exists once and is final; each image slot is either stored
    once or failed (refunded) once; what was kept is what the stored images cost."""
    c.expect(len(gens) == expected, f"{len(gens)} generations recorded, {expected} asked for")
    not_final = [g["id"] for g in gens if g["status"] not in ("succeeded", "partial", "failed")]
    c.expect(not not_final, f"{len(not_final)} generations not final: {not_final[:5]}")
    images_total = 0
    for g in gens:
        indexes = [i["index"] for i in g["images"]]
        images_total += len(indexes)
        c.expect(len(indexes) == len(set(indexes)), f"generation {g['id']}: an image twice")
        c.expect(not set(indexes) & set(g["failures"]),
                 f"generation {g['id']}: an image both stored and refunded")
        c.expect(len(g["failures"]) == len(set(g["failures"])),
                 f"generation {g['id']}: a slot refunded twice")
        c.expect(sorted(indexes + g["failures"]) == list(range(g["num_images"])),
                 f"generation {g['id']}: slots {sorted(indexes + g['failures'])} of "
                 f"{g['num_images']}")
        kept = g["reserved"] - g["refunded"]  # the ledger must say the same
        c.expect(kept == len(indexes) * g["per_image"],
                 f"generation {g['id']}: kept {kept} credits for {len(indexes)} images")
        c.expect(g["ledger"] == -kept, f"generation {g['id']}: ledger {g['ledger']} != -{kept}")
    c.figures["images"] = images_total
    c.figures["refunded_images"] = sum(len(g["failures"]) for g in gens)


def _generation_tasks(tasks: list) -> list:
    return [t for t in tasks if t["path"] == "generation.tasks.run_generation"]


def _queue(c: Checks, facts: dict, killed: dict) -> None:
    """Nothing left over, nothing failed, no job run by two live workers; the killed worker's
    tasks finished by another."""
    tasks, gens = facts["tasks"], facts["generations"]
    gen_tasks = _generation_tasks(tasks)
    left = Counter(t["status"] for t in tasks if t["status"] in ("READY", "RUNNING"))
    c.expect(not left, f"tasks left in the queue: {dict(left)}")
    failed = [t for t in tasks if t["status"] == "FAILED"]
    c.expect(not failed, f"{len(failed)} tasks FAILED: {[t['path'] for t in failed][:5]}")
    per_generation = Counter(t["args"][0] for t in gen_tasks)
    c.expect(set(per_generation) == {g["id"] for g in gens}, "a generation without its job")
    c.figures["generation_jobs"] = len(gen_tasks)
    c.figures["retried_jobs"] = sum(n - 1 for n in per_generation.values())
    recovered = [t for t in tasks if len(t["workers"]) > 1]
    c.figures["recovered_jobs"] = len(recovered)
    killed_tasks = set(killed.get("tasks", []))

    # A job handed on while its first worker was still alive (its heartbeat came late): the
    # task is idempotent, so nothing is done twice, but the provider is called again.
    def from_the_killed_worker(t):
        return t["id"] in killed_tasks or (
            t["workers"][-2].startswith(f"{killed.get('worker')}-")
            and (t["run_after"] or 0) >= killed.get("epoch", 0))

    c.figures["handed_on_from_live_workers"] = sum(
        1 for t in recovered if not from_the_killed_worker(t))
    for t in tasks:
        if t["id"] in killed_tasks:
            # Listed as under way when the kill was decided, but it may have finished in the
            # instant before the signal landed: then its first worker completed it, once.
            done_before_kill = (t["status"] == "SUCCESSFUL" and t["finished"]
                                and t["finished"] <= killed.get("epoch", 0))
            c.expect(done_before_kill or (
                t["status"] == "SUCCESSFUL" and len(t["workers"]) >= 2
                and t["workers"][0].startswith(killed["worker"])),
                f"the killed worker's task {t['id']} was not finished by another: {t}")
    c.expect(not killed or killed_tasks, "the killed worker was running no task")


def _credits(c: Checks, facts: dict) -> None:
    """Per account the balance is the ledger's sum; nothing spent beyond the grants."""
    gens = facts["generations"]
    for user_id, user in facts["users"].items():
        c.expect(user["consistent"] and user["balance"] == user["sum"],
                 f"user {user_id}: balance {user['balance']} != ledger {user['sum']}")
    spent = sum(g["reserved"] - g["refunded"] for g in gens)
    spent += sum(-t["ledger"] for t in facts["trainings"])
    granted = sum(u["granted"] for u in facts["users"].values())
    balances = sum(u["balance"] for u in facts["users"].values())
    c.expect(granted - spent == balances,
             f"credits: granted {granted} - spent {spent} != balances {balances}")
    c.figures["credits_spent"] = spent


def _trainings(c: Checks, facts: dict, expected: int) -> None:
    """Trainings: final, charged once."""
    c.expect(len(facts["trainings"]) == expected,
             f"{len(facts['trainings'])} trainings, {expected} asked for")
    for run in facts["trainings"]:
        c.expect(run["status"] == "succeeded" and run["model_status"] == "ready",
                 f"training {run['id']}: {run['status']} / model {run['model_status']}")
        c.expect(run["ledger"] == -run["credits"],
                 f"training {run['id']}: ledger {run['ledger']} != -{run['credits']}")


def _files(c: Checks, facts: dict, bucket: set[str]) -> None:
    """Every file a row names (images, thumbnails, photos, weights) is in the bucket."""
    named = [i[kind] for g in facts["generations"] for i in g["images"]
             for kind in ("file", "thumbnail")]
    named += facts["photos"] + [r["weights"] for r in facts["trainings"] if r["weights"]]
    missing = [name for name in named if name not in bucket]
    c.expect(not missing, f"{len(missing)} files missing from the bucket: {missing[:5]}")
    c.figures["files_checked"] = len(named)
    c.figures["orphan_objects"] = len({k for k in bucket if k.startswith("generations/")}
                                      - set(named))


def _recurring(c: Checks, facts: dict, run_seconds: float) -> None:
    """Recurring tasks: one per period however many workers raced for it."""
    tasks = facts["tasks"]
    for name, path in facts["recurring"].items():
        runs = sorted(t["enqueued"] for t in tasks if t["path"] == path)
        every = facts["periods"][name]
        c.expect(name in facts["recurring_rows"], f"recurring task {name} never scheduled")
        if every > run_seconds + 60:
            # Queued only by the scheduler in this run (other code may queue sweeps too).
            if name != "training.cleanup":
                c.expect(len(runs) == 1, f"recurring {name}: queued {len(runs)} times, not once")
        elif name == "training.reconcile":
            gaps = [b - a for a, b in zip(runs, runs[1:], strict=False)]
            c.expect(all(gap >= every * 0.9 for gap in gaps),
                     f"recurring {name} queued twice in one period: gaps {gaps}")
    c.figures["recurring_queued"] = {name: sum(1 for t in tasks if t["path"] == path)
                                     for name, path in facts["recurring"].items()}


def _pickup(c: Checks, tasks: list) -> None:
    """Pickup latency: from enqueue (or run_after) to a worker starting, first attempts only.
    (django-tasks-db stores "no run_after" as the year 9999.)"""
    pickups = sorted(t["started"] - max(t["enqueued"], t["run_after"] or 0)
                     if (t["run_after"] or 0) < t["started"] else t["started"] - t["enqueued"]
                     for t in _generation_tasks(tasks) if len(t["workers"]) == 1 and t["started"])
    c.figures["pickup_p50_s"] = round(percentile(pickups, 50), 3)
    c.figures["pickup_p95_s"] = round(percentile(pickups, 95), 3)


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    rank = (len(values) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (rank - low)
