"""Benchmark: gallery throughput under gunicorn, against bare endpoints of the same size
(issue 21, target 1).

Seeds 100,000 images for one account (bench/gallery.py's seed, bulk inserts) in a temporary
DATA_DIR (SQLite) or in the database of --database-url (PostgreSQL), starts gunicorn as the
Dockerfile does (gthread, 2 workers of 4 threads, the production profile), with
bench/gallery_urls.py as the URL conf, and loads it with keep-alive connections from Python
threads (cluster/load.py), each endpoint in turn for --seconds, --rounds times:

- the gallery API, GET /api/v1/images?limit=24 with an API key, against a bare django-ninja
  endpoint answering the same bytes (precomputed);
- the web gallery's htmx infinite-scroll fragment (the second page, signed in), against a bare
  Django view rendering a bare template of the same bytes.

Same processes, same middleware, same load generator. Prints, per database:

    gallery API (sqlite): 812.3 req/s, p50 30.1 ms, p95 55.2 ms; bare ninja endpoint: 1402.0
    req/s, p50 ..., p95 ...; ratio 0.58 (target >= 0.5)
    gallery fragment (sqlite): ...; bare template: ...; ratio ... (target >= 0.5)

(each on one line). --profile first prints, in this process (Django's test client, no
network), where the time of one request goes: per stage (auth, queries, URLs, cursor,
validation, rendering, middleware) with the query count, and the top functions.

    .venv/bin/python bench/gallery_server.py                   # SQLite, about 2 minutes
    createdb -h 127.0.0.1 -U postgres likeness_bench
    .venv/bin/python bench/gallery_server.py \\
        --database-url postgres://postgres@127.0.0.1:5432/likeness_bench

Options: --images 100000 --seconds 5 --rounds 3 --connections 16 --profile (each endpoint is
measured --rounds times, in turn; the medians are printed). The PostgreSQL database is
emptied of the bench accounts afterwards; the SQLite one is a temporary file.
"""

import argparse
import cProfile
import http.client
import importlib.util
import os
import pstats
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from html import unescape
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--images", type=int, default=100_000)
parser.add_argument("--seconds", type=float, default=5)
parser.add_argument("--connections", type=int, default=16)
parser.add_argument("--rounds", type=int, default=3,
                    help="measures of each endpoint, interleaved; the medians are printed")
parser.add_argument("--database-url", default="", help="PostgreSQL (empty: SQLite)")
parser.add_argument("--profile", action="store_true", help="profile one request per page first")
parser.add_argument("--profile-runs", type=int, default=300)
ARGS = parser.parse_args()

RUN_DIR = Path(tempfile.mkdtemp(prefix="likeness-gallery-server-"))
os.environ["DATA_DIR"] = str(RUN_DIR / "data")
os.environ["SECRET_KEY"] = secrets.token_urlsafe(48)
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.gallery_settings"
if ARGS.database_url:
    os.environ["DATABASE_URL"] = ARGS.database_url
else:
    os.environ.pop("DATABASE_URL", None)

# bench/gallery.py sets up Django (the production profile) and seeds; reused as it is.
_spec = importlib.util.spec_from_file_location("bench_gallery", ROOT / "bench" / "gallery.py")
seeding = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(seeding)

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.models import User  # noqa: E402
from api.keys import create_api_key  # noqa: E402
from cluster.load import load  # noqa: E402

API_PATH = "/api/v1/images?limit=24"
BARE_API_PATH = "/bench/ninja/images"
BARE_FRAGMENT_PATH = "/bench/fragment"
TARGET = 0.5


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port: int, path: str, headers: dict) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def start_gunicorn(port: int, env: dict) -> subprocess.Popen:
    """The Dockerfile's command (WEB_CONCURRENCY=2 workers), on the loopback."""
    log = open(RUN_DIR / "gunicorn.log", "w")
    return subprocess.Popen([
        str(BIN / "gunicorn"), "likeness.wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--workers", "2", "--worker-class", "gthread", "--threads", "4", "--timeout", "60",
        "--graceful-timeout", "30", "--access-logfile", "-",
    ], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def server_env(port: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_FILE")}
    env.update({
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "SECURE_SSL_REDIRECT": "0",
        # Plain static files (no collectstatic): neither measured answer links a static file.
        "TESTING": "1",
        "LOG_LEVEL": "WARNING",
        "BENCH_API_BODY": str(RUN_DIR / "api.json"),
        "BENCH_FRAGMENT_BODY": str(RUN_DIR / "fragment.html"),
    })
    return env


def fragment_path(session_cookie: dict, port: int) -> str:
    """The infinite scroll's next page, as the first page of the gallery links it."""
    status, body = get(port, "/dashboard/gallery/", session_cookie)
    assert status == 200, (status, body[:300])
    match = re.search(r'hx-get="(/dashboard/gallery/\?[^"]*cursor=[^"]+)"', body.decode())
    assert match, "no infinite-scroll link on the first page"
    return unescape(match.group(1))


def line(label: str, ours: dict, floor_label: str, floor: dict) -> str:
    ratio = ours["rps"] / floor["rps"] if floor["rps"] else 0.0
    return (f"{label}: {ours['rps']:.1f} req/s, p50 {ours['p50_ms']:.1f} ms, p95 "
            f"{ours['p95_ms']:.1f} ms; {floor_label}: {floor['rps']:.1f} req/s, p50 "
            f"{floor['p50_ms']:.1f} ms, p95 {floor['p95_ms']:.1f} ms; ratio {ratio:.2f} "
            f"(target >= {TARGET})")


def measure(port: int, cases: list[tuple[str, dict]]) -> list[dict]:
    """The median figures of each (path, headers), measured in turn, round after round, so a
    change in the machine's other load falls on all of them alike."""
    urls = [f"http://127.0.0.1:{port}"]
    for path, headers in cases:  # warm every worker thread
        load(urls, path, headers, 1, ARGS.connections, tool="threads")
    runs = [[] for _ in cases]
    for _ in range(ARGS.rounds):
        for n, (path, headers) in enumerate(cases):
            result = load(urls, path, headers, ARGS.seconds, ARGS.connections, tool="threads")
            assert result["errors"] == 0, f"{path}: {result['errors']} failed requests"
            runs[n].append(result)
    return [{name: statistics.median(r[name] for r in results)
             for name in ("rps", "p50_ms", "p95_ms")} for results in runs]


# ----- profile (in this process)

STAGES = [
    # (stage, matches a profiled function (file suffix, function name))
    ("API key lookup (api.keys.find_key)", [("api/keys.py", "find_key")]),
    ("session + user (auth middleware)", [("django/contrib/auth/__init__.py", "get_user")]),
    ("filter form (gallery.forms)", [("gallery/forms.py", "__init__"),
                                     ("gallery/forms.py", "filters"),
                                     ("gallery/forms.py", "query")]),
    ("page query (gallery.filters.page)", [("gallery/filters.py", "page")]),
    ("  of which cursor signing", [("likeness/pagination.py", "encode_cursor")]),
    ("other queries (context processors, ...)", [("web/context_processors.py", "site")]),
    ("URL reversing (django.urls.reverse)", [("django/urls/base.py", "reverse")]),
    ("query parameters (ninja input)", [("ninja/operation.py", "_get_values")]),
    ("image dicts (api image_out)", [("api/routes/images.py", "image_out"),
                                     ("api/routes/images.py", "image_page")]),
    ("schema validation (pydantic)", [("pydantic/main.py", "model_validate")]),
    ("JSON rendering", [("ninja/renderers.py", "render"), ("json/__init__.py", "dumps")]),
    ("template rendering", [("django/template/backends/django.py", "render")]),
]


def cumulative(stats: pstats.Stats, matchers) -> float:
    total = 0.0
    for (filename, _, name), (_, _, _, ct, _) in stats.stats.items():
        if any(filename.endswith(suffix) and name == fn for suffix, fn in matchers):
            total += ct
    return total


def profile(label: str, client: Client, path: str, headers: dict, view: tuple[str, str]):
    for _ in range(20):
        assert client.get(path, **headers).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        client.get(path, **headers)
    queries = list(captured.captured_queries)  # read now: each request empties the log
    times = []
    for _ in range(ARGS.profile_runs):
        started = time.perf_counter()
        client.get(path, **headers)
        times.append(time.perf_counter() - started)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(ARGS.profile_runs):
        client.get(path, **headers)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt
    print(f"\nprofile of {label}: {statistics.median(times) * 1000:.2f} ms a request (median, "
          f"unprofiled, test client), {len(queries)} queries:")
    for query in queries:
        print(f"    {query['sql'][:110]}")
    in_view = cumulative(stats, [view])
    print(f"  {'the view':44} {in_view / total:6.1%}")
    for stage, matchers in STAGES:
        share = cumulative(stats, matchers) / total
        if share >= 0.005:
            print(f"  {stage:44} {share:6.1%}")
    print(f"  {'outside the view (middleware, URL resolving)':44} {1 - in_view / total:6.1%}")
    print("  top functions by own time:")
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:12]
    for (filename, lineno, name), (_, calls, tt, _, _) in rows:
        short = "/".join(Path(filename).parts[-2:]) if filename != "~" else ""
        print(f"    {tt / total:6.1%}  {calls:>8}  {short}:{lineno}({name})")


def wait_for(server: subprocess.Popen, port: int):
    deadline = time.monotonic() + 60
    while True:
        try:
            if get(port, "/healthz", {})[0] == 200:
                return
        except OSError:
            pass
        assert time.monotonic() < deadline and server.poll() is None, \
            (RUN_DIR / "gunicorn.log").read_text()[-3000:]
        time.sleep(0.2)


def profile_both(key: str, session_key: str, fragment: str):
    api_client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    web_client = Client()
    web_client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    profile("the gallery API page", api_client, API_PATH, {},
            ("api/routes/images.py", "list_images"))
    profile("the gallery fragment", web_client, fragment, {"HTTP_HX_REQUEST": "true"},
            ("gallery/views.py", "gallery"))
    print(flush=True)


def main():
    database = connection.vendor
    print(f"database: {database}; {ARGS.images:,} images; {ARGS.connections} connections, "
          f"{ARGS.seconds:g} s a measure", flush=True)
    call_command("migrate", verbosity=0)
    User.objects.filter(email__endswith="@bench.invalid").delete()
    started = time.perf_counter()
    owner = User.objects.create_user("owner@bench.invalid", "bench-password-123")
    seeding.seed(owner, ARGS.images, random.Random(7))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"seeded {ARGS.images:,} images in {time.perf_counter() - started:.1f} s", flush=True)
    _, key = create_api_key(owner, "bench")
    web = Client()
    web.force_login(owner)
    cookie = {"Cookie": f"{settings.SESSION_COOKIE_NAME}="
                        f"{web.cookies[settings.SESSION_COOKIE_NAME].value}"}
    auth = {"Authorization": f"Bearer {key}"}
    server = None
    try:
        port = free_port()
        server = start_gunicorn(port, server_env(port))
        wait_for(server, port)
        fragment = fragment_path(cookie, port)
        fragment_headers = {**cookie, "HX-Request": "true"}
        status, api_body = get(port, API_PATH, auth)
        assert status == 200, (status, api_body[:300])
        status, fragment_body = get(port, fragment, fragment_headers)
        assert status == 200, (status, fragment_body[:300])
        (RUN_DIR / "api.json").write_bytes(api_body)
        (RUN_DIR / "fragment.html").write_bytes(fragment_body)
        assert get(port, BARE_API_PATH, {}) == (200, api_body)
        assert get(port, BARE_FRAGMENT_PATH, {}) == (200, fragment_body)
        print(f"answers: API page {len(api_body):,} bytes, fragment {len(fragment_body):,} "
              f"bytes (the bare endpoints answer the same bytes)", flush=True)

        if ARGS.profile:
            profile_both(key, web.cookies[settings.SESSION_COOKIE_NAME].value, fragment)

        bare_api, ours_api, bare_fragment, ours_fragment = measure(port, [
            (BARE_API_PATH, {}), (API_PATH, auth), (BARE_FRAGMENT_PATH, {}),
            (fragment, fragment_headers)])
        print(line(f"gallery API ({database})", ours_api, "bare ninja endpoint", bare_api))
        print(line(f"gallery fragment ({database})", ours_fragment, "bare template",
                   bare_fragment), flush=True)
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        if database == "postgresql":
            User.objects.filter(email__endswith="@bench.invalid").delete()
        shutil.rmtree(RUN_DIR, ignore_errors=True)


if __name__ == "__main__":
    main()
