"""The operator's figures, per week (Monday to Sunday, UTC), newest first.

MRR at a week's end counts the subscriptions running then at their current plan's price (a plan
change within the history is not replayed). Provider cost is what the training runs cost (the
actual cost, else the estimate) plus images whose metadata records a `cost_cents`."""

from datetime import datetime, time, timedelta
from statistics import median

from django.contrib.auth import get_user_model
from django.db.models import Min, Q, Sum
from django.utils import timezone

from accounts.plans import get_plan
from billing.models import Payment, Subscription
from generation.models import Image
from studio.models import PersonalModel, TrainingRun


def _week_starts(weeks: int) -> list[datetime]:
    today = timezone.now().date()
    monday = today - timedelta(days=today.weekday())
    first = timezone.make_aware(datetime.combine(monday, time.min),
                                timezone.get_default_timezone())
    return [first - timedelta(weeks=i) for i in range(weeks)]


def _running_at(moment):
    return Subscription.objects.filter(started_at__lte=moment).filter(
        Q(ended_at__isnull=True) | Q(ended_at__gt=moment)).exclude(
        status__in=("incomplete", "incomplete_expired"))


def mrr_cents(moment) -> int:
    return sum(get_plan(plan).price_cents
               for plan in _running_at(moment).values_list("plan", flat=True))


def week_figures(start) -> dict:
    end = start + timedelta(weeks=1)
    users = get_user_model().objects.filter(date_joined__gte=start, date_joined__lt=end)
    signups = users.count()
    created = PersonalModel.objects.filter(created_at__gte=start, created_at__lt=end)
    trained = created.filter(trained_at__isnull=False).count()
    firsts = (Image.objects.filter(user__in=users).values("user")
              .annotate(first=Min("created_at")).values_list("user", "first"))
    joined = dict(users.values_list("pk", "date_joined"))
    hours = [(first - joined[uid]).total_seconds() / 3600 for uid, first in firsts]
    converted = users.filter(subscriptions__isnull=False).distinct().count()
    active_at_start = _running_at(start).count()
    churned = Subscription.objects.filter(ended_at__gte=start, ended_at__lt=end).count()
    revenue = (Payment.objects.filter(paid_at__gte=start, paid_at__lt=end)
               .aggregate(total=Sum("amount_cents"))["total"] or 0)
    runs = TrainingRun.objects.filter(created_at__gte=start, created_at__lt=end)
    training_cost = sum(float(r.cost_actual_cents if r.cost_actual_cents is not None
                              else r.cost_estimate_cents)
                        for r in runs.only("cost_actual_cents", "cost_estimate_cents"))
    image_cost = sum(float((meta or {}).get("cost_cents") or 0) for meta in
                     Image.objects.filter(created_at__gte=start, created_at__lt=end)
                     .values_list("metadata", flat=True))
    cost = round(training_cost + image_cost)
    return {
        "start": start, "end": end - timedelta(days=1),
        "signups": signups,
        "models_created": created.count(), "models_trained": trained,
        "completion": round(100 * trained / created.count()) if created.count() else None,
        "first_image_hours": round(median(hours), 1) if hours else None,
        "converted": converted,
        "conversion": round(100 * converted / signups) if signups else None,
        "mrr_cents": mrr_cents(min(end, timezone.now())),
        "churned": churned,
        "churn": round(100 * churned / active_at_start, 1) if active_at_start else None,
        "revenue_cents": revenue, "cost_cents": cost,
        "margin_cents": revenue - cost,
    }


def figures(weeks: int = 12) -> list[dict]:
    return [week_figures(start) for start in _week_starts(weeks)]
