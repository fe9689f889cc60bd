"""The training dashboard: every run, and one run's stages, logs, events and errors."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from likeness.errors import DomainError, show
from providers.registry import trainer
from studio import actions, runs
from studio.models import Cleanup, PersonalModel, TrainingRun
from studio.pipeline import CANCEL_REFUSED


@login_required
def training_list(request):
    runs = TrainingRun.objects.filter(user=request.user).select_related("model")
    page = Paginator(runs, 20).get_page(request.GET.get("page"))
    cleaned = Cleanup.objects.filter(user=request.user, done_at__isnull=False)[:20]
    return render(request, "training/list.html", {"page": page, "cleaned": cleaned})


def _run_context(run):
    return {"run": run, "events": run.events.all(), "explanation": runs.explain(run),
            "can_retry": runs.can_retry(run), "stages": TrainingRun.STAGES}


@login_required
def training_detail(request, pk):
    run = get_object_or_404(TrainingRun.objects.select_related("model"), pk=pk, user=request.user)
    return render(request, "training/detail.html", _run_context(run))


@login_required
def training_status(request, pk):
    run = get_object_or_404(TrainingRun.objects.select_related("model"), pk=pk, user=request.user)
    return render(request, "training/detail.html#status", _run_context(run))


def _attempt(request, action, *args):
    """The action's result, or None when it refused (the refusal is shown as a message)."""
    try:
        return action(*args)
    except DomainError as exc:
        show(request, exc)
        return None


@login_required
@require_POST
def training_cancel(request, pk):
    run = get_object_or_404(TrainingRun, pk=pk, user=request.user)
    canceled = _attempt(request, actions.cancel_now, run)
    if canceled is not None and canceled.cancel_refused:
        messages.warning(request, CANCEL_REFUSED.format(provider=trainer(run.provider).label))
    elif canceled is not None:
        messages.success(request, "Training canceled." if canceled.is_finished
                         else "Canceling the training…")
    return redirect("training_detail", pk=run.pk)


@login_required
@require_POST
def training_retry(request, pk):
    run = get_object_or_404(TrainingRun, pk=pk, user=request.user)
    new = _attempt(request, actions.retry, run)
    if new is None:
        return redirect("training_detail", pk=run.pk)
    messages.success(request, "Training started again.")
    return redirect("training_detail", pk=new.pk)


@login_required
@require_POST
def model_train(request, pk):
    model = get_object_or_404(PersonalModel, pk=pk, user=request.user)
    run = _attempt(request, actions.start_training, model)
    if run is None:
        return redirect("model_detail", pk=model.pk)
    messages.success(request, "Training started. You can follow it here.")
    return redirect("training_detail", pk=run.pk)
