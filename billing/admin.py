"""Admin: billing accounts, subscriptions and payments to look at, Stripe events read-only
with a re-process action for failed ones. Plans and packs live in accounts/plans.py (one
catalogue in code, with prices from settings) and are shown on the billing account page;
credit adjustments with reasons are in the credits admin."""

from django.contrib import admin, messages

from accounts.plans import PACKS, PLANS, price_id
from billing import events
from billing.models import BillingAccount, Notice, Payment, StripeEvent, Subscription


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "type", "event_id", "status", "attempts", "deliveries", "user"]
    list_filter = ["status", "type"]
    search_fields = ["event_id", "user__email"]
    date_hierarchy = "received_at"
    readonly_fields = ["event_id", "type", "created", "livemode", "status", "error", "attempts",
                       "deliveries", "user", "received_at", "processed_at", "payload"]
    actions = ["reprocess"]

    @admin.action(description="Re-process the selected failed events")
    def reprocess(self, request, queryset):
        done = failed = 0
        for row in queryset.filter(status=StripeEvent.Status.FAILED):
            if events.process(row):
                done += 1
            else:
                failed += 1
        skipped = queryset.exclude(status=StripeEvent.Status.FAILED).count() - done
        self.message_user(request, f"{done} processed, {failed} failed again"
                                   f"{f', {skipped} skipped (not failed)' if skipped > 0 else ''}.",
                          messages.WARNING if failed else messages.SUCCESS)

    def get_actions(self, request):
        # Read-only models hide actions for lack of change permission; this one is allowed.
        actions = super().get_actions(request)
        if request.user.is_staff:
            actions["reprocess"] = self.get_action("reprocess")
        return actions


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = ["stripe_id", "user", "plan", "status", "current_period_end",
                    "cancel_at_period_end", "synced_at"]
    list_filter = ["plan", "status", "cancel_at_period_end"]
    search_fields = ["stripe_id", "user__email"]
    list_select_related = ["user"]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["paid_at", "user", "kind", "item", "amount", "credits", "stripe_id"]
    list_filter = ["kind", "item"]
    search_fields = ["stripe_id", "user__email"]
    date_hierarchy = "paid_at"
    list_select_related = ["user"]

    @admin.display(description="Amount")
    def amount(self, obj):
        return f"{obj.amount_cents / 100:,.2f} {obj.currency.upper()}"


@admin.register(BillingAccount)
class BillingAccountAdmin(admin.ModelAdmin):
    list_display = ["user", "plan", "stripe_customer_id", "low_credit_notified", "updated_at"]
    search_fields = ["user__email", "stripe_customer_id"]
    readonly_fields = ["user", "stripe_customer_id", "catalogue", "created_at", "updated_at"]
    fields = readonly_fields + ["low_credit_notified", "low_credit_banner", "kept_model_ids",
                                "models_chosen_at"]
    list_select_related = ["user"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="Plan")
    def plan(self, obj):
        return obj.user.plan_info.name

    @admin.display(description="Plans and packs (accounts/plans.py)")
    def catalogue(self, obj):
        lines = [f"{p.name}: ${p.price_cents / 100:.0f}/{p.interval}, {p.monthly_credits} "
                 f"credits, {p.model_slots} slot(s), price {price_id(p.id) or '-'}"
                 for p in PLANS.values()]
        lines += [f"{p.name}: ${p.price_cents / 100:.0f}, price {price_id(p.id) or '-'}"
                  for p in PACKS.values()]
        return "; ".join(lines)


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "kind", "subject"]
    list_filter = ["kind"]
    search_fields = ["user__email", "key"]
