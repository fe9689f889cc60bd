"""How much the images of personal models look like their subjects, per provider and base model
(generation.likeness): the staff page's table and the Prometheus histogram, both read from the
database, so routing can later prefer what looks most like the customer."""

from django.db.models import Avg, Count, Q, Sum

from generation.models import Image

# Histogram bucket edges (scores are 0-100; 50 is the face-match line).
BUCKETS = (0, 25, 50, 70, 85, 100)


def distribution() -> list[dict]:
    """Per (provider, base model): how many scored images, their mean, the share at or over
    the match line, and the cumulative count per bucket edge."""
    scored = Image.objects.filter(likeness__isnull=False)
    counts = {f"le_{b}": Count("pk", filter=Q(likeness__lte=b)) for b in BUCKETS}
    rows = []
    for row in (scored.values("provider", "base_model")
                .annotate(n=Count("pk"), mean=Avg("likeness"), total=Sum("likeness"),
                          matched=Count("pk", filter=Q(likeness__gte=50)), **counts)
                .order_by("provider", "base_model")):
        rows.append({
            "provider": row["provider"], "base_model": row["base_model"], "count": row["n"],
            "mean": round(row["mean"], 1), "sum": row["total"] or 0,
            "matched_share": round(row["matched"] / row["n"], 3),
            "buckets": [(b, row[f"le_{b}"]) for b in BUCKETS],
        })
    return rows

