"""Training personal models: POST /models/{id}/train and /cancel, GET /trainings[/{id}]."""

from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.decorators import decorate_view

from api.errors import ERRORS_AUTH, ERRORS_CHANGE, ERRORS_READ, ErrorOut
from api.idempotency import idempotent
from api.pagination import PageParams
from api.routes.lookup import owned
from api.schemas import TrainIn, TrainingListOut, TrainingOut
from likeness.errors import Conflict
from likeness.pagination import paginate
from studio.actions import cancel_now, start_training
from studio.models import PersonalModel, TrainingRun
from studio.runs import active_run, explain

router = Router(tags=["Training"])


def training_out(run: TrainingRun) -> dict:
    return {
        "id": str(run.id),
        "model_id": str(run.model_id),
        "provider": run.provider,
        "status": run.status,
        "stage": run.stage,
        "progress": round(run.overall_progress, 4),
        "events": [{"stage": e.stage, "status": e.status, "message": e.message, "at": e.at}
                   for e in run.events.all()],
        "cost_estimate_cents": float(run.cost_estimate_cents),
        "cost_actual_cents": None if run.cost_actual_cents is None
        else float(run.cost_actual_cents),
        "credits": run.credits,
        "credits_refunded": run.credits_refunded,
        "steps": run.steps,
        "learning_rate": run.learning_rate,
        "lora_rank": run.lora_rank,
        "cancel_requested": run.cancel_requested,
        "cancel_refused": run.cancel_refused,
        "callback_url": run.callback_url or None,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "error": explain(run) if run.status == TrainingRun.Status.FAILED else None,
        "error_code": run.error_code or None,
    }


def _runs(user):
    return TrainingRun.objects.filter(user=user).prefetch_related("events")


@router.post("/models/{model_id}/train",
             response={202: TrainingOut, 402: ErrorOut, 422: ErrorOut, 429: ErrorOut,
                       503: ErrorOut, **ERRORS_CHANGE},
             summary="Train a personal model",
             description="Charges the training's credits and starts the pipeline (packaging → "
                         "uploading → training → publishing → done). 402 insufficient_credits; "
                         "409 conflict when the model is training or trained, 409 "
                         "consent_required when a person's model has no consent for its photos "
                         "(POST /models/{id}/consent), 403 suspended for a model staff "
                         "suspended, 503 private_mode when the installation is in private "
                         "mode and its trainer is an outside one; nothing is charged or "
                         "queued then; 422 for too few "
                         "photos or parameters out of range. Honours Idempotency-Key: a retry "
                         "with the same key and body returns the first answer and charges "
                         "nothing again; the same key with another body is 409. 429 "
                         "rate_limited (with Retry-After) past RATE_LIMIT_TRAININGS.")
@decorate_view(idempotent)
def train(request: HttpRequest, model_id: str, payload: TrainIn):
    model = owned(PersonalModel.objects, request.auth, model_id, "model")
    params = {k: v for k, v in payload.dict().items() if v is not None and k != "provider"}
    run = start_training(model, provider=payload.provider, **params)
    return Status(202, training_out(_runs(request.auth).get(pk=run.pk)))


@router.post("/models/{model_id}/cancel", response={200: TrainingOut, **ERRORS_CHANGE},
             summary="Cancel a model's training",
             description="Cancels the running training (at the provider too). Credits come back "
                         "when the provider had not started yet.")
def cancel(request: HttpRequest, model_id: str):
    model = owned(PersonalModel.objects, request.auth, model_id, "model")
    run = active_run(model)
    if run is None:
        raise Conflict("The model has no training under way.", status=model.status)
    run = cancel_now(run)
    return training_out(_runs(request.auth).get(pk=run.pk))


@router.get("/trainings", response={200: TrainingListOut, 400: ErrorOut, 422: ErrorOut,
                                    **ERRORS_AUTH},
            summary="List trainings", description="The caller's training runs, newest first.")
def list_trainings(request: HttpRequest, page: Query[PageParams]):
    rows, next_cursor = paginate(_runs(request.auth), kind="trainings", cursor=page.cursor,
                                 limit=page.limit)
    return {"items": [training_out(r) for r in rows], "next_cursor": next_cursor}


@router.get("/trainings/{training_id}", response={200: TrainingOut, **ERRORS_READ},
            summary="One training")
def get_training(request: HttpRequest, training_id: str):
    return training_out(owned(_runs(request.auth), request.auth, training_id, "training"))
