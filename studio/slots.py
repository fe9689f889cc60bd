"""What a plan allows, applied to personal models: the model slots.

A plan holds `model_slots` models. After a downgrade a customer may have more: nothing is
deleted, every model stays viewable, but only `model_slots` of them can be trained or used for
new images. Until the customer chooses which to keep (the billing page's choose_models), the kept
ones are the trained (ready) models first, oldest first -- so the models they relied on longest
keep working -- and the rest are locked. Deleting a model or upgrading frees the lock."""

from django.utils import timezone

from likeness.errors import LimitReached, Suspended
from studio.models import PersonalModel, SlotChoice


def slots(user) -> dict:
    return {"used": PersonalModel.objects.filter(user=user).count(),
            "limit": user.plan_info.model_slots}


def _models(user):
    return PersonalModel.objects.filter(user=user)


def _default_order(models):
    ready = "ready"
    return sorted(models, key=lambda m: (m.status != ready, m.created_at, str(m.pk)))


def usable_model_ids(user) -> set:
    """The ids of the models this customer may use now."""
    models = list(_models(user).only("id", "status", "created_at"))
    limit = user.plan_info.model_slots
    if len(models) <= limit:
        return {m.pk for m in models}
    choice = SlotChoice.objects.filter(user=user).first()
    chosen = {str(i) for i in (choice.kept_model_ids if choice else [])}
    kept = [m for m in models if str(m.pk) in chosen][:limit]
    # A chosen model that was deleted leaves room: fill it in the default order.
    for model in _default_order(models):
        if len(kept) >= limit:
            break
        if model not in kept:
            kept.append(model)
    return {m.pk for m in kept}


def usable_models(user):
    """The customer's models that may be trained and used for new images."""
    return _models(user).filter(pk__in=usable_model_ids(user))


def locked_models(user):
    """Models beyond the plan's slots: viewable, not usable until chosen."""
    return _models(user).exclude(pk__in=usable_model_ids(user))


def is_usable(model) -> bool:
    return model.pk in usable_model_ids(model.user)


def ensure_usable(model) -> None:
    """Raise Suspended (403 suspended) for a model staff suspended, LimitReached (409
    limit_reached in the API) for a model beyond the plan's slots."""
    if model.is_suspended:
        raise Suspended(f"The model {model.name!r} is suspended by the operator and cannot be "
                        "trained or used for new images.", model_id=str(model.pk))
    if not is_usable(model):
        plan = model.user.plan_info
        raise LimitReached(
            f"Your {plan.name} plan holds {plan.model_slots} personal model(s). Choose which "
            "models to keep on the billing page, or upgrade, to use this one.",
            model_id=str(model.pk), limit=plan.model_slots)


def needs_choice(user) -> bool:
    """More models than slots, and no choice made since the plan changed."""
    if _models(user).count() <= user.plan_info.model_slots:
        return False
    choice = SlotChoice.objects.filter(user=user).first()
    return not (choice and choice.chosen_at)


def keep_models(user, model_ids) -> list:
    """The customer's choice of the models to keep using after a downgrade."""
    limit = user.plan_info.model_slots
    owned = {str(pk) for pk in _models(user).values_list("pk", flat=True)}
    chosen = list(dict.fromkeys(str(i) for i in model_ids if str(i) in owned))
    if not chosen:
        raise LimitReached("Choose at least one model to keep.", limit=limit)
    if len(chosen) > limit:
        raise LimitReached(f"Your {user.plan_info.name} plan holds {limit} model(s); choose at "
                           f"most {limit}.", limit=limit, chosen=len(chosen))
    SlotChoice.objects.update_or_create(
        user=user, defaults={"kept_model_ids": chosen, "chosen_at": timezone.now()})
    return chosen


def plan_changed(user, old_plan, new_plan) -> None:
    """Fewer slots than models: forget an earlier choice, so the customer is asked again."""
    if new_plan.model_slots < old_plan.model_slots:
        SlotChoice.objects.filter(user=user).update(kept_model_ids=[], chosen_at=None)
