"""The in-app billing notices shown at the top of every signed-in page."""

from django.conf import settings
from django.urls import reverse

from billing import notices
from billing.models import Subscription
from studio.slots import needs_choice


def banners_for(user, balance: int) -> list[dict]:
    banners = []
    if Subscription.objects.filter(user=user, status="past_due").exists():
        banners.append({"kind": "payment_failed", "tone": "red",
                        "text": "Your last payment did not go through. Update your payment "
                                "method to keep your plan.",
                        "url": reverse("billing"), "action": "Fix billing", "dismiss": False})
    if needs_choice(user):
        plan = user.plan_info
        banners.append({"kind": "choose_models", "tone": "amber",
                        "text": f"Your {plan.name} plan holds {plan.model_slots} personal "
                                f"model{'s' if plan.model_slots != 1 else ''}: choose which to "
                                "keep using.",
                        "url": reverse("billing_models"), "action": "Choose models",
                        "dismiss": False})
    if notices.low_credit_banner(user, balance):
        banners.append({"kind": "low_credit", "tone": "amber",
                        "text": f"You have {balance} credit{'s' if balance != 1 else ''} left "
                                f"(below {settings.LOW_CREDIT_THRESHOLD}).",
                        "url": reverse("billing"), "action": "Get more credits",
                        "dismiss": True})
    return banners
