"""Prometheus metrics.

Request latency is measured in each web process. Everything about jobs, the queue and credits is
read from the database when /metrics is scraped, so the figures are the same whichever web
process answers and include the work of every worker: jobs per kind, provider and outcome, their
durations, the queue's depth, live workers, and the credits spent."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.dispatch import receiver
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)

from credits.models import CreditEntry
from generation.models import Generation
from jobs.models import WorkerHeartbeat
from likeness.ratelimit import rate_limited
from observability import likeness
from studio.models import TrainingRun

REGISTRY = CollectorRegistry(auto_describe=False)

REQUEST_LATENCY = Histogram(
    "likeness_http_request_duration_seconds", "Time to answer a request, by route.",
    ["method", "route", "status"], registry=REGISTRY,
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
RATE_LIMITED = Counter("likeness_rate_limited_total", "Requests refused by a rate limit.",
                       ["action"], registry=REGISTRY)

DURATION_BUCKETS = (1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600)


@receiver(rate_limited, dispatch_uid="observability.count_rate_limited")
def count_rate_limited(sender, action, **kwargs):
    RATE_LIMITED.labels(action).inc()


def _job_kinds():
    return (("generation", Generation, ("succeeded", "partial", "failed")),
            ("training", TrainingRun, ("succeeded", "failed", "canceled")))


class DatabaseCollector:
    def collect(self):
        yield from self.jobs()
        yield from self.queue()
        yield from self.credits()
        yield self.likeness()

    def jobs(self):
        jobs = CounterMetricFamily("likeness_jobs", "Finished jobs by kind, provider and "
                                   "outcome.", labels=["kind", "provider", "outcome"])
        active = GaugeMetricFamily("likeness_jobs_active", "Jobs queued or running, by kind.",
                                   labels=["kind", "status"])
        durations = HistogramMetricFamily(
            "likeness_job_duration_seconds", "Time from start to end of finished jobs.",
            labels=["kind", "provider"])
        for kind, model, final in _job_kinds():
            for row in (model.objects.values("provider", "status").annotate(n=Count("pk"))
                        .order_by()):
                if row["status"] in final:
                    jobs.add_metric([kind, row["provider"] or "none", row["status"]], row["n"])
                else:
                    active.add_metric([kind, row["status"]], row["n"])
            self.durations(durations, kind, model, final)
        return jobs, active, durations

    def durations(self, family, kind, model, final):
        finished = model.objects.filter(status__in=final, started_at__isnull=False,
                                        finished_at__isnull=False).annotate(
            took=ExpressionWrapper(F("finished_at") - F("started_at"),
                                   output_field=DurationField()))
        aggregates = {f"le_{b}": Count("pk", filter=Q(took__lte=timedelta(seconds=b)))
                      for b in DURATION_BUCKETS}
        for row in finished.values("provider").annotate(
                n=Count("pk"), total=Sum("took"), **aggregates).order_by():
            buckets = [(str(float(b)), row[f"le_{b}"]) for b in DURATION_BUCKETS]
            buckets.append(("+Inf", row["n"]))
            total = row["total"]
            seconds = total.total_seconds() if hasattr(total, "total_seconds") \
                else (total or 0) / 1_000_000
            family.add_metric([kind, row["provider"] or "none"], buckets, seconds)

    def queue(self):
        queue = GaugeMetricFamily("likeness_queue_depth", "Tasks ready to run, by queue.",
                                  labels=["queue"])
        depths = {"default": 0}  # an empty queue is a figure too
        for row in DBTaskResult.objects.ready().values("queue_name").annotate(
                n=Count("pk")).order_by():
            depths[row["queue_name"]] = row["n"]
        for name, depth in sorted(depths.items()):
            queue.add_metric([name], depth)
        running = GaugeMetricFamily("likeness_tasks_running", "Tasks being run by a worker.")
        running.add_metric([], DBTaskResult.objects.running().count())
        workers = GaugeMetricFamily("likeness_workers_alive",
                                    "Workers whose heartbeat is within the lease.")
        cutoff = timezone.now() - timedelta(seconds=settings.JOB_LEASE_SECONDS)
        workers.add_metric([], WorkerHeartbeat.objects.filter(beat_at__gte=cutoff).count())
        return queue, running, workers

    def credits(self):
        credits = CounterMetricFamily("likeness_credits", "Credits moved, by kind of movement "
                                      "(spent counts what was charged, refunds apart).",
                                      labels=["kind"])
        sums = dict(CreditEntry.objects.values_list("kind").annotate(s=Sum("delta")).order_by())
        credits.add_metric(["spent"], -(sums.get("spend") or 0))
        credits.add_metric(["refunded"], sums.get("refund") or 0)
        credits.add_metric(["granted"], sums.get("grant") or 0)
        net = GaugeMetricFamily("likeness_credits_spent_net",
                                "Credits spent less credits refunded.")
        net.add_metric([], -(sums.get("spend") or 0) - (sums.get("refund") or 0))
        return credits, net


    def likeness(self):
        family = HistogramMetricFamily(
            "likeness_score", "Likeness of personal-model images to their subject (0-100).",
            labels=["provider", "base_model"])
        for row in likeness.distribution():
            buckets = [(str(float(edge)), n) for edge, n in row["buckets"]]
            buckets.append(("+Inf", row["count"]))
            family.add_metric([row["provider"], row["base_model"]], buckets, row["sum"])
        return family


REGISTRY.register(DatabaseCollector())
