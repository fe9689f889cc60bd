"""Structured logs with request, account and job ids; /metrics behind a token or a network;
the staff page of provider health; Sentry and PostHog when configured."""

import json
import logging
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from generation.actions import create_generation
from generation.models import Generation, Image
from observability.logs import ContextFilter, JsonFormatter
from observability.views import provider_health
from tests.factories import make_image


class Capture(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines: list[dict] = []
        self.addFilter(ContextFilter())
        self.setFormatter(JsonFormatter())

    def emit(self, record):
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def log_lines():
    handler = Capture()
    root = logging.getLogger()
    root.addHandler(handler)
    old = root.level
    root.setLevel(logging.INFO)
    yield handler.lines
    root.removeHandler(handler)
    root.setLevel(old)


def test_request_lines_carry_the_request_and_account(alice_client, alice, log_lines):
    response = alice_client.get("/dashboard/nothing-here/", HTTP_X_REQUEST_ID="trace-1234abcd")
    assert response.status_code == 404 and response["X-Request-ID"] == "trace-1234abcd"
    line = next(line for line in log_lines if line["logger"] == "django.request")
    assert line["request_id"] == "trace-1234abcd"
    assert line["account_id"] == str(alice.pk)
    assert line["level"] == "warning" and "time" in line


def test_a_bad_request_id_is_replaced(client, db):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert response["X-Request-ID"] != "bad id\nwith newline"
    assert len(response["X-Request-ID"]) == 32


def test_job_lines_carry_the_job_and_its_account(alice, run_jobs, log_lines):
    generation = create_generation(alice, prompt="a lighthouse", num_images=1)
    run_jobs()
    lines = [line for line in log_lines if line["job_id"]]
    assert lines, log_lines
    assert all(line["account_id"] == str(alice.pk) for line in lines
               if line["logger"] == "observability.jobs")
    finished = [line for line in lines if line["logger"] == "observability.jobs"]
    assert finished[0]["task"] == "generation.tasks.run_generation"
    generation.refresh_from_db()
    assert generation.status == "succeeded"


def test_the_json_formatter_keeps_extras_and_exceptions():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed %s", ("now",),
                               None)
    record.extra_field = {"a": 1}
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    ContextFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "failed now" and "ValueError: boom" in line["exception"]
    assert line["extra_field"] == "{'a': 1}"
    assert {"request_id", "account_id", "job_id"} <= set(line)


def test_metrics_are_off_without_a_token_or_network(client, db, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = []
    assert client.get("/metrics").status_code == 404


def test_metrics_need_the_token(client, db, settings):
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token")
    assert response.status_code == 200


def test_metrics_from_an_allowed_network(client, db, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert client.get("/metrics", REMOTE_ADDR="192.168.1.5").status_code == 401
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200


def test_metrics_show_real_figures(client, alice, run_jobs, settings):
    settings.METRICS_TOKEN = "t0ken-for-metrics"
    create_generation(alice, prompt="one", num_images=2)
    queued = create_generation(alice, prompt="two", num_images=1)
    run_jobs(max_tasks=1)
    client.get("/")
    text = client.get("/metrics", HTTP_AUTHORIZATION="Bearer t0ken-for-metrics"
                      ).content.decode()
    assert 'likeness_jobs_total{kind="generation",outcome="succeeded",provider="demo"} 1.0' \
        in text
    assert 'likeness_queue_depth{queue="default"} 1.0' in text
    assert 'likeness_job_duration_seconds_count{kind="generation",provider="demo"} 1.0' in text
    assert 'likeness_credits_total{kind="spent"} 3.0' in text  # 2 + 1 reserved and charged
    assert 'likeness_http_request_duration_seconds_bucket{le="0.5",method="GET",route="",' \
        'status="2xx"}' in text
    assert queued.status == "queued"


def test_provider_health_over_the_last_hour(alice, staff_client):
    now = timezone.now()
    for n, (provider, status, seconds) in enumerate([
            ("together", "succeeded", 2), ("together", "succeeded", 4),
            ("together", "failed", 30), ("nebius", "succeeded", 10)]):
        Generation.objects.create(
            user=alice, prompt=f"p{n}", base_model="flux-schnell", aspect_ratio="1:1",
            width=64, height=64, num_images=1, seed=n, status=status, provider=provider,
            credits_reserved=1, started_at=now - timedelta(seconds=seconds + 60),
            finished_at=now - timedelta(seconds=60))
    Generation.objects.create(  # older than an hour: not counted
        user=alice, prompt="old", base_model="flux-schnell", aspect_ratio="1:1", width=64,
        height=64, num_images=1, seed=9, status="failed", provider="nebius",
        credits_reserved=1, started_at=now - timedelta(hours=3),
        finished_at=now - timedelta(hours=2))
    rows = {(r["kind"], r["provider"]): r for r in provider_health(now)}
    together = rows[("generation", "together")]
    assert together["total"] == 3 and together["succeeded"] == 2
    assert together["p50"] == pytest.approx(4, abs=0.01)
    assert rows[("generation", "nebius")]["success_rate"] == 1.0
    page = staff_client.get("/staff/providers/")
    assert page.status_code == 200
    assert b'data-provider="generation:together"' in page.content and b"67%" in page.content


def test_likeness_per_provider_and_base_model(alice, client, staff_client, settings):
    settings.METRICS_TOKEN = "t0ken-for-metrics"
    for score, provider in ((20, "together"), (60, "together"), (90, "together"),
                            (75, "nebius")):
        image = make_image(alice, base_model="flux-dev")
        Image.objects.filter(pk=image.pk).update(likeness=score, provider=provider)
    make_image(alice)  # a base model's image: not scored, not counted
    text = client.get("/metrics", HTTP_AUTHORIZATION="Bearer t0ken-for-metrics").content.decode()
    assert 'likeness_score_count{base_model="flux-dev",provider="together"} 3.0' in text
    assert 'likeness_score_sum{base_model="flux-dev",provider="together"} 170.0' in text
    assert 'likeness_score_bucket{base_model="flux-dev",le="50.0",provider="together"} 1.0' \
        in text
    assert 'likeness_score_bucket{base_model="flux-dev",le="85.0",provider="nebius"} 1.0' in text
    page = staff_client.get("/staff/providers/").content.decode()
    assert 'data-likeness-row="together:flux-dev"' in page
    assert 'data-matched-share="0.667"' in page and "67 %" in page


class Collector(ThreadingHTTPServer):
    def __init__(self):
        self.bodies: list[tuple[str, bytes]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(handler):  # noqa: N805
                length = int(handler.headers.get("Content-Length", 0))
                self.bodies.append((handler.path, handler.rfile.read(length)))
                handler.send_response(200)
                handler.send_header("Content-Type", "application/json")
                handler.end_headers()
                handler.wfile.write(b"{}")

            def log_message(handler, *args):  # noqa: N805
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"


def test_posthog_gets_product_events_when_its_key_is_set(alice, settings,
                                                         django_capture_on_commit_callbacks):
    collector = Collector()
    try:
        settings.POSTHOG_API_KEY = "phc_test"
        settings.POSTHOG_HOST = collector.url
        with django_capture_on_commit_callbacks(execute=True):
            create_generation(alice, prompt="a lighthouse", num_images=2)
        from likeness.analytics import client

        client().flush()
        sent = b"".join(body for _, body in collector.bodies)
        assert b"generation_created" in sent and str(alice.public_id).encode() in sent
        assert b"a lighthouse" not in sent and alice.email.encode() not in sent
    finally:
        collector.shutdown()


def test_posthog_is_silent_without_a_key(alice, settings):
    from likeness.analytics import client

    settings.POSTHOG_API_KEY = ""
    assert client() is None


def test_sentry_reports_errors_when_its_dsn_is_set(settings):
    import sentry_sdk

    from observability import context
    from observability.sentry import init_sentry

    collector = Collector()
    try:
        assert init_sentry("") is False
        port = collector.server_address[1]
        assert init_sentry(f"http://public@127.0.0.1:{port}/1") is True
        context.request_id.set("req-for-sentry-1")
        try:
            raise RuntimeError("sentry test error")
        except RuntimeError as exc:
            sentry_sdk.capture_exception(exc)
        sentry_sdk.flush(timeout=5)
        import gzip

        sent = b"".join(gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body
                        for _, body in collector.bodies)
        assert b"sentry test error" in sent and b"req-for-sentry-1" in sent
    finally:
        sentry_sdk.init(dsn=None)
        collector.shutdown()
