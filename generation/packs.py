"""Running a pack (generation.models.Pack) on a ready personal model: one generation per prompt
of the pack (the subject class's variant, the prompt's style and shape), all reserved in one
transaction and priced as that many images of a personal model, or nothing at all."""

from django.db import transaction

from generation.actions import create_one, create_prepared, personal_model_for, prepare, price
from generation.catalogue import PERSONAL_BASE_MODEL
from generation.models import Pack, PackRun
from likeness.errors import InvalidInput, NotFound


class PackNotFound(NotFound):
    """No active pack has that slug."""


def active_packs():
    return Pack.objects.filter(active=True)


def get_pack(slug: str) -> Pack:
    pack = active_packs().filter(slug=str(slug)[:60]).first()
    if pack is None:
        raise PackNotFound("No pack with this id.")
    return pack


def pack_price(pack: Pack, subject_class: str | None = None) -> int:
    """Credits for one run: one image of a personal model per prompt."""
    count = len(pack.prompts_for(subject_class)) if subject_class else len(pack.prompts)
    return price(PERSONAL_BASE_MODEL, count, personal=True)


def usable_for(pack: Pack, model) -> bool:
    return model.subject_class in pack.subjects and bool(pack.prompts_for(model.subject_class))


def run_pack(user, model_id, slug: str, *, likeness_guarantee: bool | None = None) -> PackRun:
    """Queue the pack on the caller's ready model. Raises PackNotFound, ModelNotFound, Conflict
    (not trained yet), InvalidInput (a pack not for this subject), InsufficientCredits; nothing
    is recorded then."""
    pack = get_pack(slug)
    model = personal_model_for(user, model_id)
    if not usable_for(pack, model):
        raise InvalidInput("pack", f"“{pack.name}” is not made for a {model.subject_class} "
                                   f"model; it is for {', '.join(pack.subjects)}.")
    items = pack.prompts_for(model.subject_class)
    subject = f"{model.trigger_word} {model.subject_class}"
    prepared = [prepare(user, {
        "prompt": item["prompt"].replace("{subject}", subject), "model_id": str(model.pk),
        "style": item["style"] or None, "aspect_ratio": item["aspect_ratio"], "num_images": 1,
        "likeness_guarantee": likeness_guarantee}) for item in items]
    with transaction.atomic():
        run = PackRun.objects.create(user=user, pack=pack, pack_name=pack.name,
                                     personal_model=model,
                                     credits_reserved=pack_price(pack, model.subject_class))
        titles = iter([item["title"] for item in items])
        create_prepared(user, prepared, lambda cleaned, m: create_one(
            user, cleaned, m, batch_id=run.id, pack_run=run, pack_item=next(titles)))
    return run


def run_summary(run: PackRun) -> dict:
    """Its generations in the pack's order, and how far it is."""
    generations = list(run.generations.order_by("created_at").prefetch_related("images"))
    done = sum(g.is_finished for g in generations)
    return {"generations": generations, "finished": done == len(generations),
            "done": done, "total": len(generations),
            "charged": sum(g.credits_charged for g in generations)}  # 0 until finished
