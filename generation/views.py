"""Generate images and follow their progress. The views are thin: create_generation validates,
reserves the credits and queues the job, or raises and records nothing."""

import hashlib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from generation import instant
from generation.actions import ModelNotFound, create_batch, create_generation, vary_seed
from generation.catalogue import (
    ASPECT_RATIOS,
    BASE_MODELS,
    MAX_BATCH_PROMPTS,
    MAX_PROMPT_LENGTH,
    PERSONAL_MODEL_CREDITS,
    sizes_for,
)
from generation.forms import PERSONAL_PREFIX, GenerateForm, initial_from, ready_models
from generation.instant import LICENCE_NOTE as INSTANT_LICENCE_NOTE
from generation.loras import LORA_SALT
from generation.models import Generation, Image, PackRun, ValidationSample
from generation.packs import active_packs, pack_price, run_pack, run_summary, usable_for
from generation.prompt_helper import expand as expand_prompt
from generation.styles import GENERAL_SUGGESTIONS, STYLES, subject_suggestions
from likeness.errors import DomainError, InsufficientCredits, InvalidInput, show
from likeness.files import serve_file
from studio.models import PersonalModel


def _recent(user) -> dict:
    recent = list(Generation.objects.filter(user=user).prefetch_related("images")[:8])
    shown = "|".join(f"{g.pk}.{g.status}.{len(g.images.all())}" for g in recent)
    return {"recent": recent, "recent_busy": any(not g.is_finished for g in recent),
            "recent_version": _version(shown)}


def _suggestions(form) -> dict:
    """Prompt ideas for the page's script: per style, per personal model, and general ones."""
    return {
        "general": list(GENERAL_SUGGESTIONS),
        "styles": {s.id: list(s.suggestions) for s in STYLES.values()},
        "models": {f"personal:{m.pk}": subject_suggestions(m.subject_class, m.trigger_word)
                   for m in form.personal_models},
    }


@login_required
def generate(request):
    if request.htmx and request.GET.get("part") == "recent":
        recent = _recent(request.user)
        if request.GET.get("v") == recent["recent_version"]:  # nothing new: htmx keeps it
            return HttpResponse(status=204)
        return render(request, "generation/generate.html#recent", recent)
    form = GenerateForm(request.POST or None, user=request.user,
                        initial=None if request.POST else initial_from(request.GET, request.user))
    if request.method == "POST" and form.is_valid():
        params = form.generation_params()
        try:
            if form.cleaned_data["batch"]:
                made = create_batch(request.user, form.prompts(), **params)
            else:
                made = [create_generation(request.user, prompt=form.cleaned_data["prompt"],
                                          **params)]
        except InvalidInput as exc:
            field = {"model_id": "base_model", "second_model_id": "second_model"}.get(
                exc.field, exc.field)
            form.add_error(field if field in form.fields else None, exc.message)
        except InsufficientCredits as exc:
            form.add_error(None, f"This needs {exc.needed} credits and your balance is "
                                 f"{exc.balance}. Choose fewer images or a faster model.")
        except DomainError as exc:  # the personal model: unknown, not ready, or locked
            form.add_error("base_model", exc.message)
        else:
            if len(made) > 1:
                messages.success(request, f"{len(made)} generations are on their way.")
                return redirect("generate")
            messages.success(request, "Your images are on their way.")
            return redirect("generation_detail", pk=made[0].pk)
    return render(request, "generation/generate.html", {
        "form": form, "base_models": BASE_MODELS.values(), "aspect_ratios": ASPECT_RATIOS,
        "personal_models": form.personal_models, "personal_credits": PERSONAL_MODEL_CREDITS,
        "styles": STYLES.values(), "suggestions": _suggestions(form),
        "sizes": {m.id: sizes_for(m.id) for m in BASE_MODELS.values()},
        "max_batch": MAX_BATCH_PROMPTS,
        "likeness_min_score": settings.LIKENESS_MIN_SCORE,
        "likeness_retries": settings.LIKENESS_RETRIES,
        **form.page_context(), **_recent(request.user),
    })


@login_required
@require_GET
def generate_expand(request):
    """The prompt helper for the generate page: {"prompt"} or {"error"} (400)."""
    choice = request.GET.get("base_model") or ""
    model = None
    if choice.startswith(PERSONAL_PREFIX):
        model = next((m for m in ready_models(request.user)
                      if str(m.pk) == choice[len(PERSONAL_PREFIX):]), None)
    try:
        prompt = expand_prompt(request.GET.get("words", "")[:MAX_PROMPT_LENGTH],
                               subject_class=model.subject_class if model else None,
                               trigger_word=model.trigger_word if model else None,
                               style=request.GET.get("style") or None)
    except ValueError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse({"prompt": prompt})


@login_required
def generation_detail(request, pk):
    generation = get_object_or_404(Generation.objects.select_related("personal_model"), pk=pk,
                                   user=request.user)
    return render(request, "generation/detail.html", {
        "generation": generation, "style": STYLES.get(generation.style),
        "version": status_version(generation),
        "instant_licence_note": INSTANT_LICENCE_NOTE if generation.is_instant else ""})


@login_required
def generation_status(request, pk):
    """The live part of the generation page. It polls itself (twice a second) until the
    generation is finished; the finished answer carries no trigger, so polling stops. A poll
    that carries the version the page shows (`?v=`) and finds nothing new is answered 204, which
    htmx leaves in place: two small queries, no rendering."""
    generation = get_object_or_404(Generation, pk=pk, user=request.user)
    version = status_version(generation)
    if request.GET.get("v") == version:
        return HttpResponse(status=204)
    return render(request, "generation/detail.html#status", {"generation": generation,
                                                             "version": version})


def status_version(generation: Generation) -> str:
    """What the live part of a generation's page shows, in a few characters: it changes
    whenever the page would."""
    shown = (f"{generation.status}|{generation.slots}|{generation.images.count()}|"
             f"{generation.failures}|{generation.credits_refunded}")
    return _version(shown)


def _version(shown: str) -> str:
    """A short stamp of what a live part shows, for its poll's `?v=` (a 204 when unchanged)."""
    return hashlib.blake2s(shown.encode(), digest_size=8).hexdigest()


def vary(request, pk, *, back: str):
    """The same settings with a new seed (personal model and style included): one image,
    charged like any other. A refusal goes back to the page `back` names."""
    image = get_object_or_404(Image.objects.select_related("generation"), pk=pk,
                              user=request.user)
    try:
        generation = (instant.vary(request.user, image) if image.operation == "instant"
                      else vary_seed(request.user, image))
    except ModelNotFound:
        messages.error(request, "The personal model of this image no longer exists.")
    except DomainError as exc:
        show(request, exc)
    else:
        messages.success(request, "A variation is on its way.")
        return redirect("generation_detail", pk=generation.pk)
    if back == "image_detail":
        return redirect("image_detail", pk=image.pk)
    return redirect("generation_detail", pk=image.generation_id)


@login_required
@require_POST
def image_vary(request, pk):
    return vary(request, pk, back="generation_detail")


@login_required
@require_GET
def validation_sample(request, pk):
    """A thumbnail of the validation round, for its model's likeness report (owner only)."""
    sample = get_object_or_404(ValidationSample, pk=pk, model__user=request.user)
    return serve_file(sample.thumbnail, content_type="image/webp")


@require_GET
def lora_weights(request, pk, token):
    """A personal model's weights for a provider to fetch, by a signed link that expires
    (local storage only; on S3/R2 providers get a presigned bucket URL instead)."""
    try:
        signed = signing.loads(token, salt=LORA_SALT,
                               max_age=settings.GENERATION_LORA_URL_SECONDS)
    except signing.BadSignature:
        raise Http404("This link is not valid or has expired.")
    if signed != str(pk):
        raise Http404("This link is not valid or has expired.")
    model = PersonalModel.objects.filter(pk=pk).exclude(weights="").first()
    if model is None:
        raise Http404("No such weights.")
    return serve_file(model.weights, content_type="application/octet-stream")


# --- Packs ------------------------------------------------------------------------------------
@login_required
def pack_list(request):
    models = [m for m in ready_models(request.user) if m.usable]
    packs = []
    for pack in active_packs():
        usable = [m for m in models if usable_for(pack, m)]
        packs.append({"pack": pack, "models": usable, "count": len(pack.prompts),
                      "price": pack_price(pack), "titles": [p["title"] for p in pack.prompts]})
    return render(request, "generation/packs.html", {
        "packs": packs, "models": models,
        "runs": PackRun.objects.filter(user=request.user).select_related("personal_model")[:10],
    })


@login_required
@require_POST
def pack_run(request, slug):
    try:
        run = run_pack(request.user, request.POST.get("model_id") or "", slug,
                       likeness_guarantee=request.POST.get("likeness_guarantee") == "1"
                       if "likeness_guarantee" in request.POST else None)
    except InsufficientCredits as exc:
        messages.error(request, f"This pack needs {exc.needed} credits and your balance is "
                                f"{exc.balance}.")
        return redirect("packs")
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("packs")
    messages.success(request, f"“{run.pack_name}” is on its way: {run.credits_reserved} "
                              "credits reserved.")
    return redirect("pack_run_detail", pk=run.pk)


@login_required
def pack_run_detail(request, pk):
    run = get_object_or_404(PackRun.objects.select_related("personal_model", "pack"), pk=pk,
                            user=request.user)
    context = {"run": run, **run_summary(run)}
    if request.htmx:
        return render(request, "generation/pack_run.html#progress", context)
    return render(request, "generation/pack_run.html", context)
