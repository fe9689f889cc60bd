"""Benchmark: the gallery with 100,000 images in one account.

Seeds 100,000 images for one account (and 2,000 for each of three others) with bulk_create (no
files: listing must never touch them), then measures the server time (Django's test client, in
this process, so no network) of: the first gallery page; a page deep in the history (after
90,000 images, reached by its cursor, as infinite scroll asks for it); a filtered page
(model + shape + favourites); a text search that matches often and one that matches almost
nothing; each on the web page and on GET /api/v1/images. Prints p50/p95 per case and the
database's plan for each query, checked for an index that walks the order (no sort of the
account's rows). Target: p95 under 50 ms each.

    .venv/bin/python bench/gallery.py                      # SQLite in a temporary DATA_DIR
    createdb -h 127.0.0.1 -U postgres likeness_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/likeness_bench .venv/bin/python bench/gallery.py

Options: --images 100000 --runs 60. The PostgreSQL database is emptied of the bench accounts
afterwards; the SQLite one is a temporary file.
"""

import argparse
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "likeness.settings")
os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="likeness-bench-"))
# The production profile (no debug query log, cached templates), with plain static files.
os.environ["DEBUG"] = "0"
os.environ["TESTING"] = "1"
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
os.environ["ALLOWED_HOSTS"] = "testserver"
os.environ["SECURE_SSL_REDIRECT"] = "0"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.models import User  # noqa: E402
from api.keys import create_api_key  # noqa: E402
from gallery.filters import CURSOR_KIND, ImageFilters  # noqa: E402
from generation.models import Generation, Image  # noqa: E402
from likeness.pagination import encode_cursor  # noqa: E402

SUBJECTS = ["a woman", "a man", "a golden retriever", "a child", "a tabby cat", "an old man",
            "a young woman", "a dog", "a couple", "a grandmother"]
PLACES = ["in soft window light", "on a beach at sunset", "in a neon city at night",
          "in a misty forest", "in a cosy cafe", "on a mountain ridge", "in a studio",
          "at a rainy bus stop", "in a field of lavender", "in a library"]
STYLES = ["85mm, film grain", "cinematic, shallow depth of field", "watercolour",
          "oil painting", "black and white portrait", "editorial fashion photo",
          "Polaroid snapshot", "35mm street photography"]
MODELS = ["flux-schnell"] * 5 + ["flux-dev"] * 3 + ["flux-pro"] * 2
RATIOS = ["1:1"] * 4 + ["4:5"] * 2 + ["3:4", "2:3", "9:16", "16:9"]
STEP = timedelta(minutes=7)
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def prompt(rng, n):
    text = f"{rng.choice(SUBJECTS)} {rng.choice(PLACES)}, {rng.choice(STYLES)}"
    if rng.random() < 0.02:
        text += ", with a red fox"
    return text


def seed(user, count, rng, batch=5000):
    """`count` images, newest first: image n was made NOW - n * STEP."""
    field = Image._meta.get_field("created_at")
    field.auto_now_add = False  # the bench sets the times itself
    try:
        for start in range(0, count, batch):
            n_range = range(start, min(count, start + batch))
            generations, images = [], []
            for n in n_range:
                if n % 4 == 0:
                    text = prompt(rng, n)
                    gen = Generation(user=user, prompt=text, base_model=rng.choice(MODELS),
                                     aspect_ratio=rng.choice(RATIOS), width=1024, height=1024,
                                     num_images=4, seed=n, status="succeeded",
                                     credits_reserved=4)
                    generations.append(gen)
                gen = generations[-1]
                text = gen.prompt
                if n % 10_000 == 1234:  # 10 in 100,000: a search that finds almost nothing
                    text += ", zorvek style"
                images.append(Image(
                    user=user, generation=gen, index=n % 4, content_type="image/png",
                    width=1024, height=1024, prompt=text, base_model=gen.base_model,
                    aspect_ratio=gen.aspect_ratio, seed=n, provider="demo", is_demo=True,
                    favorite=rng.random() < 0.05,
                    file=f"images/bench/{n}.png", thumbnail=f"images/bench/{n}-thumb.webp",
                    metadata={"seed": n}, created_at=NOW - n * STEP,
                ))
            Generation.objects.bulk_create(generations)
            Image.objects.bulk_create(images)
    finally:
        field.auto_now_add = True


def measure(client, url, runs, headers=None):
    headers = headers or {}
    for _ in range(5):
        response = client.get(url, **headers)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url, **headers)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    times.sort()
    p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
    return statistics.median(times), p95


def plans_of(client, url) -> list[tuple[str, str]]:
    """(SQL, plan) of every query on the images table that one request ran."""
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    found = []
    for query in captured.captured_queries:
        sql = query["sql"]
        if 'FROM "generation_image"' not in sql or sql.lstrip().upper().startswith("EXPLAIN"):
            continue
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            else:
                cursor.execute("EXPLAIN QUERY PLAN " + sql)
            rows = cursor.fetchall()
        text = "\n".join(str(r[0]) if len(r) == 1 else str(r[-1]) for r in rows)
        found.append((sql, text))
    return found


def plan_ok(text: str) -> bool:
    """The rows come in order from an index: no sort of the account's rows, no full scan."""
    if connection.vendor == "postgresql":
        sorts = [line for line in text.splitlines() if line.strip().lstrip("-> ").startswith(
            "Sort")]
        # A sort is fine over the matches of the trigram index, never over the account's rows.
        trigram = "Bitmap Index Scan on image_prompt_trgm" in text
        return "Index" in text and "Seq Scan" not in text and (not sorts or trigram)
    lines = [line for line in text.splitlines() if "generation_image" in line]
    return all("INDEX" in line for line in lines) and "TEMP B-TREE" not in text


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--others", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=60)
    args = parser.parse_args()

    print(f"database: {connection.vendor}", flush=True)
    call_command("migrate", verbosity=0)
    User.objects.filter(email__endswith="@bench.invalid").delete()
    rng = random.Random(7)
    started = time.perf_counter()
    owner = User.objects.create_user("owner@bench.invalid", "bench-password-123")
    seed(owner, args.images, rng)
    for n in range(3):
        seed(User.objects.create_user(f"other{n}@bench.invalid", "bench-password-123"),
             args.others, rng)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"seeded {args.images:,} + 3 x {args.others:,} images in "
          f"{time.perf_counter() - started:.1f} s", flush=True)

    try:
        run_cases(owner, args)
    finally:
        if connection.vendor == "postgresql":
            User.objects.filter(email__endswith="@bench.invalid").delete()


def run_cases(owner, args):
    web = Client()
    web.force_login(owner)
    _, key = create_api_key(owner, "bench")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")

    deep_n = min(90_000, args.images - 100)
    deep_row = Image.objects.get(user=owner, created_at=NOW - deep_n * STEP)
    plain = ImageFilters()
    web_cursor = encode_cursor(CURSOR_KIND, deep_row, plain.scope(owner))
    api_cursor = encode_cursor(CURSOR_KIND, deep_row, plain.scope(owner))
    cases = [
        ("first page", "", ""),
        (f"deep page (after {deep_n:,})", f"cursor={web_cursor}", f"cursor={api_cursor}"),
        ("filtered: flux-dev + 1:1 + favourites", "model=flux-dev&aspect_ratio=1:1&favorite=1",
         "base_model=flux-dev&aspect_ratio=1:1&favorite=true"),
        ("text search, common ('fox', ~2%)", "q=fox", "q=fox"),
        ("text search, very common ('woman', ~20%)", "q=woman", "q=woman"),
        ("text search, rare ('zorvek', 10 rows)", "q=zorvek", "q=zorvek"),
    ]
    results, plans = [], []
    for label, web_query, api_query in cases:
        headers = {"HTTP_HX_REQUEST": "true"} if "cursor=" in web_query else {}
        w50, w95 = measure(web, f"/dashboard/gallery/?{web_query}", args.runs, headers)
        a50, a95 = measure(api, f"/api/v1/images?{api_query}", args.runs)
        results.append((label, w50, w95, a50, a95))
        plans.append((label, plans_of(api, f"/api/v1/images?{api_query}")))

    print(f"\n{'case':42} {'web p50':>8} {'web p95':>8} {'api p50':>8} {'api p95':>8}  (ms)")
    worst = 0.0
    for label, w50, w95, a50, a95 in results:
        worst = max(worst, w95, a95)
        print(f"{label:42} {w50:8.1f} {w95:8.1f} {a50:8.1f} {a95:8.1f}")
    print(f"\nworst p95: {worst:.1f} ms -> {'OK' if worst < 50 else 'OVER'} the 50 ms target")
    print("\nQuery plans of the image queries each API page ran:")
    for label, queries in plans:
        for sql, text in queries:
            verdict = "indexed" if plan_ok(text) else "CHECK THIS PLAN"
            where = sql[sql.index(' FROM "generation_image"'):] if ' FROM "generation_image"' \
                in sql[:2000] and not sql.startswith("SELECT COUNT") else sql
            print(f"\n--- {label}: {verdict}\nSELECT ...{where[:500]}\n{text}")


if __name__ == "__main__":
    main()
