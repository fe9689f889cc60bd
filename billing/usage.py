"""A customer's usage (credits spent per day, images per model and per base model, training
spend) and the chart, drawn as SVG on the server: no script, no CDN."""

import csv
from datetime import timedelta

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from credits.models import CreditEntry
from generation.catalogue import BASE_MODELS
from generation.models import Image
from studio.models import TrainingRun


def daily_spend(user, days: int = 30) -> list[tuple]:
    """[(date, credits spent net of refunds)] for the last `days` days, today last."""
    today = timezone.localdate()
    first = today - timedelta(days=days - 1)
    rows = (CreditEntry.objects.filter(user=user, created_at__date__gte=first)
            .filter(Q(kind=CreditEntry.Kind.SPEND) | Q(kind=CreditEntry.Kind.REFUND))
            .annotate(day=TruncDate("created_at")).values("day")
            .annotate(total=Sum("delta")))
    by_day = {row["day"]: -row["total"] for row in rows}
    return [(first + timedelta(days=i), max(0, by_day.get(first + timedelta(days=i), 0)))
            for i in range(days)]


def _nice_max(value: int) -> int:
    """The chart's top: a round number divisible by four, so every quarter line is whole."""
    for top in (4, 8, 12, 20, 40, 60, 80, 100, 200, 400, 600, 800, 1000, 2000, 4000, 8000):
        if value <= top:
            return top
    return ((value // 4000) + 1) * 4000


def bar_chart(points: list[tuple], *, width: int = 720, height: int = 220) -> dict:
    """Geometry for an SVG bar chart of (date, value) points, in viewBox units."""
    left, right, top, bottom = 40, 8, 10, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = _nice_max(max((v for _, v in points), default=0) or 1)
    slot = plot_w / max(len(points), 1)
    bars = []
    for i, (day, value) in enumerate(points):
        h = round(plot_h * value / top_value, 1)
        bars.append({
            "x": round(left + i * slot + slot * 0.15, 1), "w": round(slot * 0.7, 1),
            "y": round(top + plot_h - h, 1), "h": h, "value": value, "day": day,
            "label_x": round(left + i * slot + slot / 2, 1),
            "show_label": i % 5 == 0 or i == len(points) - 1,
        })
    ticks = [{"value": top_value * q // 4, "y": round(top + plot_h * (1 - q / 4), 1)}
             for q in range(5)]
    return {"width": width, "height": height, "bars": bars, "ticks": ticks,
            "left": left, "right": width - right, "baseline": top + plot_h,
            "label_y": height - 8, "total": sum(v for _, v in points)}


def images_per_model(user) -> list[dict]:
    rows = (Image.objects.filter(user=user, personal_model__isnull=False)
            .values("personal_model__name").annotate(count=Count("id")).order_by("-count"))
    return [{"name": row["personal_model__name"], "count": row["count"]} for row in rows]


def images_per_base_model(user) -> list[dict]:
    rows = (Image.objects.filter(user=user).values("base_model")
            .annotate(count=Count("id")).order_by("-count"))
    return [{"id": row["base_model"], "count": row["count"],
             "name": getattr(BASE_MODELS.get(row["base_model"]), "name", row["base_model"])}
            for row in rows]


def training_spend(user) -> dict:
    runs = TrainingRun.objects.filter(user=user)
    charged = runs.filter(credits_refunded=False).aggregate(total=Sum("credits"))["total"] or 0
    per_model = (runs.filter(credits_refunded=False).values("model__name")
                 .annotate(credits=Sum("credits"), runs=Count("id")).order_by("-credits"))
    return {"runs": runs.count(), "credits": charged,
            "refunded": runs.filter(credits_refunded=True).count(),
            "per_model": [{"name": r["model__name"], "credits": r["credits"], "runs": r["runs"]}
                          for r in per_model]}


def totals(user) -> dict:
    entries = CreditEntry.objects.filter(user=user)
    spent = -(entries.filter(kind=CreditEntry.Kind.SPEND).aggregate(t=Sum("delta"))["t"] or 0)
    refunded = entries.filter(kind=CreditEntry.Kind.REFUND).aggregate(t=Sum("delta"))["t"] or 0
    granted = entries.filter(delta__gt=0).exclude(kind=CreditEntry.Kind.REFUND) \
        .aggregate(t=Sum("delta"))["t"] or 0
    return {"spent": spent - refunded, "refunded": refunded, "granted": granted}


class _Echo:
    def write(self, value):
        return value


CSV_HEADER = ["date", "kind", "change", "balance_after", "reason", "reference"]


def ledger_csv_rows(user):
    """The ledger, oldest first, as CSV lines (for a streaming response)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    entries = CreditEntry.objects.filter(user=user).order_by("created_at", "id")
    for entry in entries.iterator(chunk_size=500):
        reason = entry.reason
        if reason[:1] in ("=", "+", "-", "@"):  # never a formula in a spreadsheet
            reason = "'" + reason
        yield writer.writerow([entry.created_at.isoformat(), entry.kind, entry.delta,
                               entry.balance_after, reason, entry.reference])
