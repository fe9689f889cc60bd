"""Generate images and follow their progress. The views are thin: create_generation validates,
reserves the credits and queues the job, or raises and records nothing."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render

from credits.actions import InsufficientCredits
from generation.actions import InvalidInput, create_generation
from generation.catalogue import ASPECT_RATIOS, BASE_MODELS
from generation.forms import GenerateForm
from generation.models import Generation


def _recent(user) -> dict:
    recent = list(Generation.objects.filter(user=user).prefetch_related("images")[:8])
    return {"recent": recent, "recent_busy": any(not g.is_finished for g in recent)}


@login_required
def generate(request):
    if request.htmx and request.GET.get("part") == "recent":
        return render(request, "generation/generate.html#recent", _recent(request.user))
    form = GenerateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            generation = create_generation(request.user, **form.cleaned_data)
        except InvalidInput as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        except InsufficientCredits as exc:
            form.add_error(None, f"This needs {exc.needed} credits and your balance is "
                                 f"{exc.balance}. Choose fewer images or a faster model.")
        else:
            messages.success(request, "Your images are on their way.")
            return redirect("generation_detail", pk=generation.pk)
    return render(request, "generation/generate.html", {
        "form": form, "base_models": BASE_MODELS.values(), "aspect_ratios": ASPECT_RATIOS,
        **form.page_context(), **_recent(request.user),
    })


@login_required
def generation_detail(request, pk):
    generation = get_object_or_404(Generation, pk=pk, user=request.user)
    return render(request, "generation/detail.html", {"generation": generation})


@login_required
def generation_status(request, pk):
    """The live part of the generation page. It polls itself until the generation is finished;
    the finished answer carries no trigger, so polling stops."""
    generation = get_object_or_404(Generation, pk=pk, user=request.user)
    return render(request, "generation/detail.html#status", {"generation": generation})
