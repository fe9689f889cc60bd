"""Start and stop every process of the production-like set-up, each on a free port of
127.0.0.1, with its output in a log file under the run's directory.

The steps are the ones docs/deployment.md and the Dockerfile describe: one PostgreSQL database,
`migrate` and `collectstatic` once before any new code starts, then gunicorn web processes and
`db_worker` processes that share nothing but the database, Redis and the bucket."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(sys.executable).parent
BUCKET = "likeness-cluster"
TOGETHER_TOKEN = "together-cluster-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check, timeout: float, what: str, poll: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001,S110 - not up yet
            pass
        time.sleep(poll)
    raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}")


def http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - 127.0.0.1 only
        return response.status == 200


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log: Path

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class Cluster:
    """One run: `with Cluster(run_dir, ...) as cluster:` starts everything, leaves stops it
    and drops the database (unless keep)."""

    run_dir: Path
    web_processes: int = 2
    web_workers: int = 2
    web_threads: int = 4
    worker_processes: int = 3
    worker_threads: int = 8
    generation_seconds: float = 1.0
    faults: tuple[int, int] = (0, 0)  # (500 answers, flagged images) from the Together fake
    pg_url: str = "postgres://postgres@127.0.0.1:5432"
    database: str = "likeness_cluster"
    keep: bool = False
    extra_env: dict = field(default_factory=dict)
    procs: list[Proc] = field(default_factory=list)
    web_urls: list[str] = field(default_factory=list)
    workers: list[Proc] = field(default_factory=list)

    # ----- lifecycle

    def __enter__(self) -> Cluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = self.run_dir / "data"
        self.data_dir.mkdir(exist_ok=True)
        self.create_database()
        self.redis_port = free_port()
        self.spawn("redis", ["redis-server", "--port", str(self.redis_port), "--bind",
                             "127.0.0.1", "--save", "", "--appendonly", "no"])
        self.s3_port = free_port()
        self.spawn("s3", [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(self.s3_port)])
        self.together_port = free_port()
        fail, nsfw = self.faults
        self.spawn("together", [PYTHON, "-m", "cluster.fakes", "--port", str(self.together_port),
                                "--token", TOGETHER_TOKEN, "--generation-seconds",
                                str(self.generation_seconds), "--fail", str(fail),
                                "--nsfw", str(nsfw)])
        self.web_ports = [free_port() for _ in range(self.web_processes)]
        self.web_urls = [f"http://127.0.0.1:{port}" for port in self.web_ports]
        self.env = self.production_env()
        wait_until(lambda: self.redis().ping(), 20, "Redis")
        wait_until(lambda: http_ok(f"http://127.0.0.1:{self.s3_port}/moto-api/"), 30, "moto")
        self.s3().create_bucket(Bucket=BUCKET)
        # Deploy order: migrations and static files before any process of the new code starts.
        self.manage("migrate", "--noinput")
        self.manage("collectstatic", "--noinput")
        for number, port in enumerate(self.web_ports, start=1):
            self.start_web(number, port)
        for number in range(1, self.worker_processes + 1):
            self.workers.append(self.start_worker(number))
        for url in self.web_urls:
            wait_until(lambda url=url: http_ok(f"{url}/readyz"), 60, f"the web process {url}")
        wait_until(lambda: socket.create_connection(("127.0.0.1", self.together_port),
                                                    timeout=1).close() or True,
                   20, "the Together fake")

    def stop(self):
        for proc in reversed(self.procs):
            if proc.alive():
                proc.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in self.procs:
            try:
                proc.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.popen.kill()
                proc.popen.wait(timeout=5)
        if not self.keep:
            self.drop_database()

    # ----- the pieces

    def production_env(self) -> dict:
        env = {k: v for k, v in os.environ.items()
               if not k.endswith("_FILE") and k not in ("DJANGO_SETTINGS_MODULE", "TESTING")}
        env.update({
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PUBLIC_BASE_URL": self.web_urls[0],
            "SECURE_SSL_REDIRECT": "0",  # plain HTTP on the loopback; TLS ends at the proxy
            "DATA_DIR": str(self.data_dir),
            "DATABASE_URL": f"{self.pg_url}/{self.database}",
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "AWS_STORAGE_BUCKET_NAME": BUCKET,
            "AWS_ACCESS_KEY_ID": "cluster",
            "AWS_SECRET_ACCESS_KEY": "cluster-secret",
            "AWS_S3_REGION_NAME": "us-east-1",
            "AWS_S3_ENDPOINT_URL": f"http://127.0.0.1:{self.s3_port}",
            "TOGETHER_API_KEY": TOGETHER_TOKEN,
            "TOGETHER_BASE_URL": f"http://127.0.0.1:{self.together_port}",
            "GENERATION_PROVIDERS": "together",
            "GENERATION_RETRY_BASE_SECONDS": "0.5",
            "TRAINING_PROVIDER": "demo",
            "TRAINING_DEMO_SECONDS": "4",
            "TRAINING_POLL_SECONDS": "1",
            "WORKER_THREADS": str(self.worker_threads),
            # A killed worker's job goes to another one after 15 s without its heartbeat
            # (5 s let busy but live workers lose jobs on this 2-core machine).
            "JOB_LEASE_SECONDS": "15",
            "JOB_HEARTBEAT_SECONDS": "1",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        })
        env.update(self.extra_env)
        return env

    def spawn(self, name: str, args: list[str], env: dict | None = None) -> Proc:
        log = self.run_dir / f"{name}.log"
        with open(log, "w") as handle:
            popen = subprocess.Popen(args, cwd=ROOT, env=env or os.environ.copy(),
                                     stdout=handle, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    def manage(self, *args: str, timeout: float = 300) -> str:
        result = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=self.env,
                                capture_output=True, text=True, timeout=timeout)
        if result.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def shell(self, code: str):
        """Run code in `manage.py shell`; its last printed line is JSON, returned."""
        return json.loads(self.manage("shell", "-c", code).strip().splitlines()[-1])

    def start_web(self, number: int, port: int) -> Proc:
        return self.spawn(f"web{number}", [
            str(BIN / "gunicorn"), "likeness.wsgi:application", "--bind", f"127.0.0.1:{port}",
            "--workers", str(self.web_workers), "--worker-class", "gthread",
            "--threads", str(self.web_threads), "--timeout", "60", "--graceful-timeout", "10",
        ], env=self.env)

    def start_worker(self, number: int) -> Proc:
        return self.spawn(f"worker{number}", [
            PYTHON, "manage.py", "db_worker", "--no-reload", "--interval", "0.2",
            "--worker-id", f"w{number}", "--threads", str(self.worker_threads),
        ], env=self.env)

    # ----- clients of the services

    def db(self) -> psycopg.Connection:
        return psycopg.connect(f"{self.pg_url}/{self.database}", autocommit=True)

    def redis(self):
        import redis

        return redis.Redis(host="127.0.0.1", port=self.redis_port)

    def s3(self):
        import boto3

        return boto3.client("s3", endpoint_url=f"http://127.0.0.1:{self.s3_port}",
                            aws_access_key_id="cluster", aws_secret_access_key="cluster-secret",
                            region_name="us-east-1")

    def bucket_keys(self) -> set[str]:
        keys, paginator = set(), self.s3().get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=BUCKET):
            keys.update(item["Key"] for item in page.get("Contents", []))
        return keys

    def create_database(self):
        with psycopg.connect(f"{self.pg_url}/postgres", autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(self.database)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))

    def drop_database(self):
        try:
            with psycopg.connect(f"{self.pg_url}/postgres", autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(self.database)))
        except psycopg.Error as exc:
            print(f"could not drop the database {self.database}: {exc}", file=sys.stderr)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} (exit {p.popen.poll()})\n{p.tail()}" for p in self.procs)


def clean_run_dir(path: Path):
    if path.exists():
        shutil.rmtree(path)
