"""The long schemathesis run: at least 1,000 generated requests against a live server.

Migrates a fresh SQLite database in a temporary DATA_DIR, seeds a Pro account (API key, plenty
of credits, a draft model with photos, a trained model, a generation with an image, a training),
starts `manage.py runserver` and a `db_worker` on 127.0.0.1 (as tests/browser_fixtures.py does)
with the demo providers, no rate limits and the fake Stripe, then fuzzes every operation of the
live /api/v1/openapi.json in rounds until --cases requests were sent (or --max-minutes passed),
with the checks of tests/api/test_schemathesis.py: no 5xx, documented statuses, content types
and bodies, invalid requests refused, errors in the error shape. The account is seeded again
before each round (the DELETE operations run last in a round and may remove what it points at).
Prints the number of cases, the statuses seen per operation and every distinct finding, with a
curl command to reproduce it; exits 1 when there is a finding. Stops by itself and only ever
talks to 127.0.0.1.

    .venv/bin/python bench/schemathesis_run.py                  # 1,000 cases or more
    .venv/bin/python bench/schemathesis_run.py --cases 3000 --examples 80
"""

import argparse
import collections
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import schemathesis  # noqa: E402

from tests.api import test_schemathesis as fuzz  # noqa: E402

SEED = """
import json
from accounts.models import User
from api.keys import create_api_key
from tests.api.test_schemathesis import seed_account
user = User.objects.filter(email="fuzz@example.com").first()
if user is None:
    user = User.objects.create_user("fuzz@example.com", "fuzz-password-9", name="Fuzz",
                                    plan="pro")
    _, raw = create_api_key(user, "schemathesis")
else:
    raw = ""
print(json.dumps({"key": raw, "ids": seed_account(user)}))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (127.0.0.1)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up in {timeout}s")


def _environment(data_dir: Path, stripe) -> dict:
    # No provider keys (the demo providers answer), no DATABASE_URL (a fresh SQLite file).
    dropped = ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "REPLICATE_API_TOKEN", "FAL_KEY",
               "TOGETHER_API_KEY", "NEBIUS_API_KEY", "HF_TOKEN", "OPENAI_API_KEY", "REDIS_URL",
               "CACHE_URL", "TASK_BACKEND")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(
        DATA_DIR=str(data_dir), DEBUG="1", PYTHONUNBUFFERED="1", JOB_HEARTBEAT_SECONDS="1",
        DEMO_PROVIDER_DELAY="0", TRAINING_DEMO_SECONDS="1", TRAINING_PROVIDER="demo",
        RATE_LIMIT_GENERATIONS="1000000/minute", RATE_LIMIT_TRAININGS="1000000/minute",
        RATE_LIMITS_ENABLED="0", RATE_LIMIT_COSTLY="1000000/minute",
        STRIPE_SECRET_KEY=stripe.token, STRIPE_API_BASE=stripe.url,
        STRIPE_WEBHOOK_SECRET=stripe.webhook_secret,
    )
    for item, price in fuzz.STRIPE_PRICES.items():
        env[f"STRIPE_PRICE_{item.upper()}"] = price
    return env


def _seed(env: dict) -> dict:
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", SEED], cwd=ROOT,
                            env=env, capture_output=True, text=True, check=True, timeout=120)
    return json.loads(result.stdout.strip().splitlines()[-1])


def _summary(error: BaseException) -> str:
    text = str(error).strip()
    subs = getattr(error, "exceptions", None)
    if subs:
        text += "\n" + "\n".join(f"  - {type(e).__name__}: {str(e).strip()}" for e in subs)
    return text


def _operations(base_url: str) -> list:
    schema = schemathesis.openapi.from_url(base_url + "/api/v1/openapi.json")
    operations = [r.ok() for r in schema.get_all_operations()]
    # Deletions last, so the other operations of a round see the seeded objects: a share
    # before its image, a photo before its model, the bulk deletion at the very end.
    operations.sort(key=lambda op: (op.path.endswith("/bulk-delete"),
                                    op.method.upper() == "DELETE", -len(op.path)))
    return operations


def _fuzz(operations: list, env: dict, seeded: dict, base_url: str, args) -> int:
    """Rounds of every operation (seeded afresh each round) until --cases or --max-minutes;
    prints the statuses seen and the findings; the exit status."""
    headers = {"Authorization": f"Bearer {seeded['key']}"}
    statuses: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    findings: dict[tuple[str, str], str] = {}
    total = 0
    rounds = 0
    deadline = time.monotonic() + args.max_minutes * 60

    def record(case, response):
        nonlocal total
        total += 1
        statuses[case.operation.label][response.status_code] += 1

    while total < args.cases and time.monotonic() < deadline:
        rounds += 1
        ids = seeded["ids"] if rounds == 1 else _seed(env)["ids"]
        before = total
        for operation in operations:
            if time.monotonic() > deadline:
                break
            try:
                fuzz.run_operation(operation, ids, headers, args.examples,
                                   derandomize=False, on_response=record,
                                   base_url=base_url, timeout=60)
            except (Exception, BaseExceptionGroup) as error:  # a finding: note it
                text = _summary(error)
                key = (operation.label, text.splitlines()[0] if text else repr(error))
                findings.setdefault(key, text)
        print(f"round {rounds}: {total - before} cases ({total} in all), "
              f"{len(findings)} distinct finding(s)", flush=True)

    print(f"\n{total} cases in {rounds} round(s) against {base_url}")
    for label in sorted(statuses):
        seen = ", ".join(f"{code}x{n}" for code, n in sorted(statuses[label].items()))
        print(f"  {label}: {seen}")
    if findings:
        print(f"\n{len(findings)} finding(s):")
        for (label, _), text in findings.items():
            print(f"\n== {label}\n{text}")
    else:
        print("\nNo findings.")
    return 1 if findings or total < args.cases else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1000, help="Stop after this many requests.")
    parser.add_argument("--examples", type=int, default=50,
                        help="Cases per operation per round.")
    parser.add_argument("--max-minutes", type=float, default=30,
                        help="Stop after this long even if --cases is not reached.")
    parser.add_argument("--keep", action="store_true", help="Keep the DATA_DIR (and its log).")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="likeness-fuzz-"))
    stripe = fuzz.start_stripe_fake()
    env = _environment(data_dir, stripe)
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = open(data_dir / "server.log", "w")  # noqa: SIM115 (closed in finally)
    processes = []
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env,
                       check=True, stdout=log, stderr=subprocess.STDOUT)
        seeded = _seed(env)
        processes = [
            subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}",
                              "--noreload"], cwd=ROOT, env=env, stdout=log,
                             stderr=subprocess.STDOUT),
            subprocess.Popen([sys.executable, "manage.py", "db_worker", "--no-reload",
                              "--interval", "0.2", "--no-startup-delay"],
                             cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT),
        ]
        _wait_for(base_url + "/healthz")
        operations = _operations(base_url)
        print(f"schemathesis {schemathesis.__version__}: {len(operations)} operations of "
              f"{base_url}/api/v1/openapi.json, target {args.cases} cases", flush=True)
        return _fuzz(operations, env, seeded, base_url, args)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        stripe.stop()
        log.close()
        if args.keep:
            print(f"DATA_DIR kept: {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
