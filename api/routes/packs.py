"""Packs: GET /packs, POST /models/{id}/packs/{pack} and GET /pack-runs/{id}; and the prompt
helper, POST /prompts/expand. The rules live in generation.packs and generation.prompt_helper,
shared with the web pages."""

from django.http import HttpRequest
from ninja import Router, Status
from ninja.decorators import decorate_view

from api.errors import ERRORS_READ, ErrorOut
from api.idempotency import idempotent
from api.routes.generations import generation_out
from api.routes.lookup import owned
from api.schemas import (
    ExpandIn,
    ExpandOut,
    PicturePackIn,
    PicturePackOut,
    PicturePackRunOut,
)
from generation.actions import personal_model_for
from generation.models import PackRun
from generation.packs import active_packs, pack_price, run_pack, run_summary
from generation.prompt_helper import expand
from likeness.errors import InvalidInput

router = Router(tags=["Packs"])


def pack_out(pack) -> dict:
    return {"id": pack.slug, "name": pack.name, "description": pack.description,
            "subjects": pack.subjects, "images": len(pack.prompts),
            "credits": pack_price(pack),
            "prompts": [{"title": p["title"], "style": p.get("style") or None,
                         "aspect_ratio": p["aspect_ratio"]} for p in pack.prompts]}


def run_out(request: HttpRequest, run: PackRun) -> dict:
    summary = run_summary(run)
    return {"id": str(run.id), "pack": run.pack.slug if run.pack else None,
            "pack_name": run.pack_name,
            "model_id": str(run.personal_model_id) if run.personal_model_id else None,
            "credits_reserved": run.credits_reserved, "finished": summary["finished"],
            "credits_charged": summary["charged"] if summary["finished"] else 0,
            "generations": [generation_out(request, g) for g in summary["generations"]],
            "created_at": run.created_at}


@router.get("/packs", response=list[PicturePackOut], auth=None, summary="Packs",
            description="The packs on offer: a set of pictures for one occasion, each prompt "
                        "with its style and shape. `credits` is the price of one run (one "
                        "personal-model image per prompt). Needs no authentication.")
def packs(request: HttpRequest):
    return [pack_out(p) for p in active_packs()]


@router.post("/models/{model_id}/packs/{pack_id}",
             response={202: PicturePackRunOut, 401: ErrorOut, 402: ErrorOut, 404: ErrorOut,
                       409: ErrorOut, 422: ErrorOut, 429: ErrorOut},
             summary="Run a pack on a personal model",
             description="Queues one generation per prompt of the pack, with the subject "
                         "class's variant, and reserves their credits together: all of them or "
                         "none (402 insufficient_credits names the total). 404 for an unknown "
                         "pack or a model that is not yours, 409 for a model not trained yet, "
                         "422 for a pack not made for the model's subject class. Honours "
                         "Idempotency-Key.")
@decorate_view(idempotent)
def run(request: HttpRequest, model_id: str, pack_id: str, payload: PicturePackIn | None = None):
    made = run_pack(request.auth, model_id, pack_id,
                    likeness_guarantee=payload.likeness_guarantee if payload else None)
    return Status(202, run_out(request, made))


@router.get("/pack-runs/{run_id}", response={200: PicturePackRunOut, **ERRORS_READ},
            summary="One pack run", description="Its generations (as GET /generations/{id}) "
                                                "in the pack's order; poll until finished.")
def get_run(request: HttpRequest, run_id: str):
    return run_out(request, owned(PackRun.objects, request.auth, run_id, "pack run"))


@router.post("/prompts/expand", response={200: ExpandOut, 401: ErrorOut, 404: ErrorOut,
                                          422: ErrorOut},
             summary="Write a prompt from a few words", tags=["Generations"],
             description="The prompt helper: a few words (\"beach sunset, happy\") become a "
                         "full prompt for the personal model's subject (model_id) and the "
                         "style, by offline rules, or by an LLM where the operator set "
                         "PROMPT_HELPER_MODEL (falling back to the rules). Costs nothing. "
                         "422 without words.")
def expand_prompt(request: HttpRequest, payload: ExpandIn):
    model = personal_model_for(request.auth, payload.model_id) if payload.model_id else None
    try:
        prompt = expand(payload.words, subject_class=model.subject_class if model else None,
                        trigger_word=model.trigger_word if model else None, style=payload.style)
    except ValueError as exc:
        raise InvalidInput("words", str(exc))
    return {"prompt": prompt}
