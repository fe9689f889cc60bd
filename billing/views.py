"""Billing pages: plans and subscription, checkout and portal redirects, the model choice
after a downgrade, usage with its CSV export, and the staff business page."""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.plans import PACKS, PLANS, price_id
from billing import actions, business, notices, sync, usage
from billing.models import BillingAccount, Payment
from credits.models import CreditEntry
from likeness.errors import DomainError, LimitReached, ProviderError, show
from providers.stripe import client as stripe_api
from studio import slots

logger = logging.getLogger(__name__)


def _invoices(account) -> tuple[list, str]:
    if not (account and account.stripe_customer_id and stripe_api.configured()):
        return [], ""
    try:
        rows = stripe_api.list_invoices(account.stripe_customer_id, limit=12)
    except ProviderError as exc:
        return [], exc.message
    return [{
        "number": i.get("number") or i["id"], "status": i.get("status"),
        "amount": (i.get("amount_paid") or i.get("amount_due") or 0) / 100,
        "currency": (i.get("currency") or "usd").upper(),
        "created": sync._dt(i.get("created")), "url": i.get("hosted_invoice_url"),
    } for i in rows], ""


@login_required
def billing(request):
    user = request.user
    account = BillingAccount.objects.filter(user=user).first()
    sub = actions.current_subscription(user)
    period_start = sub.current_period_start if sub else None
    period_credits = 0
    if period_start:
        period_credits = sum(Payment.objects.filter(
            user=user, subscription_id=sub.stripe_id, period_start=period_start,
        ).values_list("credits", flat=True))
    invoices, invoices_error = _invoices(account)
    configured = stripe_api.configured()
    return render(request, "billing/billing.html", {
        "plans": PLANS.values(), "packs": PACKS.values(), "plan": user.plan_info,
        "subscription": sub, "period_credits": period_credits,
        "invoices": invoices, "invoices_error": invoices_error,
        "configured": configured,
        "priced": {item: bool(price_id(item)) for item in [*PLANS, *PACKS]},
        "has_customer": bool(account and account.stripe_customer_id),
        "model_slots": slots.slots(user), "needs_choice": slots.needs_choice(user),
        "payments": Payment.objects.filter(user=user)[:5],
    })


@login_required
@require_POST
def checkout(request):
    plan, pack = request.POST.get("plan") or None, request.POST.get("pack") or None
    try:
        url = actions.start_checkout(request.user, plan=plan, pack=pack)
    except (DomainError, ProviderError) as exc:
        show(request, exc)
        return redirect("billing")
    return redirect(url)


@login_required
@require_POST
def portal(request):
    try:
        url = actions.portal_url(request.user)
    except (DomainError, ProviderError) as exc:
        show(request, exc)
        return redirect("billing")
    return redirect(url)


@login_required
def success(request):
    session_id = request.GET.get("session_id", "")
    if session_id and stripe_api.configured():
        try:  # don't wait for the webhook: apply the checkout now (idempotent)
            sync.reconcile_checkout(request.user, session_id)
        except Exception:
            logger.exception("reconciling checkout %s on return failed", session_id)
    messages.success(request, "Thank you! Your payment went through. Your plan and credits "
                              "are updated below (it can take a few seconds).")
    return redirect("billing")


@login_required
def canceled(request):
    messages.info(request, "Checkout canceled: nothing was charged and your plan is unchanged.")
    return redirect("billing")


@login_required
def choose_models(request):
    user = request.user
    models = list(user.personal_models.order_by("created_at"))
    usable = slots.usable_model_ids(user)
    if request.method == "POST":
        try:
            slots.keep_models(user, request.POST.getlist("keep"))
        except LimitReached as exc:
            show(request, exc)
        else:
            messages.success(request, "Saved. The models you kept are ready to use; the others "
                                      "stay viewable and can be swapped in here at any time.")
            return redirect("billing")
    return render(request, "billing/models.html", {
        "models": models, "usable": usable, "plan": user.plan_info,
        "limit": user.plan_info.model_slots,
    })


@login_required
@require_POST
def dismiss_low_credit(request):
    notices.dismiss_low_credit_banner(request.user)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()},
                                           require_https=request.is_secure()):
        target = "billing"
    return redirect(target)


@login_required
def usage_page(request):
    user = request.user
    points = usage.daily_spend(user, 30)
    return render(request, "billing/usage.html", {
        "chart": usage.bar_chart(points), "totals": usage.totals(user),
        "per_model": usage.images_per_model(user),
        "per_base_model": usage.images_per_base_model(user),
        "training": usage.training_spend(user),
        "entries": CreditEntry.objects.filter(user=user).count(),
    })


@login_required
def usage_csv(request):
    response = StreamingHttpResponse(usage.ledger_csv_rows(request.user),
                                     content_type="text/csv; charset=utf-8")
    name = f"likeness-credits-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def business_page(request):
    if not request.user.is_staff:
        raise Http404("No such page.")
    weeks = business.figures(12)
    return render(request, "billing/business.html", {"weeks": weeks, "now": weeks[0]})
