"""The generation job. Small and idempotent: it can be run again at any point (a retry, or a
worker that died) and finishes the images that are missing without charging twice.

The image slots of one generation are made concurrently: a small thread pool calls the
providers (through providers.routing: retries, backoff, failover), downloads each result at
once and makes its thumbnail, while this task's own thread writes every row, so an image
appears on the page the moment it is stored. Only this thread touches the database (the pool
threads share nothing with the caller's transaction)."""

import logging
import queue
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from django.conf import settings
from django_tasks import task

from generation import likeness
from generation.catalogue import MAX_SEED, catalogue_keys
from generation.images import build_image, decode
from generation.loras import lora_for, second_lora_for
from generation.models import Generation
from generation.results import (
    claim,
    fail_image,
    fail_remaining,
    finish,
    providers_or_fail,
    save_image,
    set_slot,
    store_and_finish,
)
from jobs.retry import retry_or_fail
from jobs.routes import LOCAL, register_kind
from likeness import faces
from likeness.errors import ProviderError
from providers import catalogue, routing
from providers.interfaces import ImageRequest

logger = logging.getLogger(__name__)

# What the customer reads for the errors they cannot act on from the provider's wording.
MESSAGES = {
    "content_flagged": "The provider's safety checker flagged this image, so it is not shown.",
    "provider_auth": "The image service is misconfigured (a provider refused our key); "
                     "the operator has been told.",
    "no_provider": "No configured image provider offers this model right now.",
    "personal_model_deleted": "The personal model was deleted before the image was made.",
    "suspended": "The operator suspended this model or account before the image was made.",
}


@task()
def refresh_catalogue():
    """Ask every configured provider which of our models it serves (hourly)."""
    catalogue.refresh(catalogue_keys())


@task()
def run_generation(generation_id: str):
    generation = claim(generation_id, "second_model", mark_missing=True)
    if generation is None:
        return
    if (generation.lora_scale is not None and generation.personal_model is None) or (
            generation.second_lora_scale is not None and generation.second_model is None):
        fail_remaining(generation, "personal_model_deleted", MESSAGES["personal_model_deleted"])
        return
    if not generation.user.is_active or any(m.is_suspended for m in generation.subject_models):
        fail_remaining(generation, "suspended", MESSAGES["suspended"])  # refunded
        return
    request = base_request(generation)
    providers = providers_or_fail(generation, lambda: routing.providers_for(request),
                                  MESSAGES["no_provider"])
    if providers is None:
        return
    try:
        retry = _make_missing_images(generation, request, providers)
    except Exception as exc:  # a bug or an outage we did not classify: bounded retries
        logger.exception("generation %s crashed", generation.id)
        retry = [exc]
    if not retry:
        if not generation.is_finished:  # the last image's transaction may have finished it
            finish(generation)
        return
    last = retry[-1]
    delays = [e.retry_after for e in retry if getattr(e, "retry_after", None)]
    retry_or_fail(run_generation, str(generation.id), attempt=generation.attempts,
                  retry_after=max(delays) if delays else None,
                  give_up=lambda: fail_remaining(generation, getattr(last, "code", "") or
                                                 "internal_error", _gave_up(generation, last)))


def generation_kind(generation_id: str, *args, **kwargs) -> str | None:
    """`local` when the generation's route asks the local GPU engine first (TASK_ROUTES)."""
    generation = (Generation.objects.select_related("personal_model", "second_model")
                  .filter(pk=generation_id).first())
    if generation is None:
        return None
    model, second = generation.personal_model, generation.second_model
    personal = model is not None
    demo = any(m is not None and m.weights_is_demo for m in (model, second))
    local = routing.asks_local_first(generation.base_model, personal=personal, demo_lora=demo,
                                     stored_lora=personal and bool(model.weights),
                                     two_loras=second is not None)
    return LOCAL if local else None


register_kind(run_generation, generation_kind)


def _gave_up(generation: Generation, last: Exception) -> str:
    if isinstance(last, ProviderError):
        return (f"The image providers did not deliver after {generation.attempts} attempts "
                f"({last}).")
    return f"Generation failed: {last}"


def base_request(generation: Generation) -> ImageRequest:
    return ImageRequest(
        prompt=generation.prompt_for_provider, width=generation.width,
        height=generation.height, seed=generation.seed, base_model=generation.base_model,
        num_images=1, steps=generation.steps, guidance=generation.guidance,
        negative_prompt=generation.negative_prompt, aspect_ratio=generation.aspect_ratio,
        lora=lora_for(generation), second_lora=second_lora_for(generation))


def slot_seed(generation: Generation, index: int, attempt: int = 0) -> int:
    """Slot `index`'s seed; a likeness retry (attempt 1, 2 ...) takes seeds no other slot of the
    generation uses (a generation has at most four slots)."""
    return (generation.seed + index + 4 * attempt) % (MAX_SEED + 1)


def _make_slot(generation, request, providers, index, events):
    """In a pool thread (the task's own for a single slot): provider call (with retries and
    failover), download, likeness score, thumbnail and files. With the likeness guarantee, an
    image under the bar is made again with a new seed. Reports to the task's thread through
    `events`; never touches the database."""
    started, cpu = time.monotonic(), time.thread_time()
    try:
        references = generation.reference_faces()
        minimum = generation.likeness_min_score or settings.LIKENESS_MIN_SCORE
        guarantee = generation.likeness_guarantee and bool(references)
        tries, score_ms, attempt = [], 0.0, 0
        while True:
            slot_request = replace(request, seed=slot_seed(generation, index, attempt),
                                   num_images=1)
            result = routing.generate(slot_request, providers)
            (made,) = result.images
            if made.metadata.get("blocked"):
                events.put(("blocked", index, result))
                return
            decoding = time.monotonic()
            decoded = decode(made.data, keep_side=faces.EMBEDDING_SIDE if references else None)
            decode_ms = (time.monotonic() - decoding) * 1000
            score = None
            if references:
                scoring = time.monotonic()
                score = likeness.score(decoded.picture, references)
                score_ms += (time.monotonic() - scoring) * 1000
                tries.append({"seed": made.seed, "likeness": score.likeness})
            if not guarantee or score.likeness >= minimum:
                break
            if attempt >= settings.LIKENESS_RETRIES:
                events.put(("low_likeness", index, {"tries": tries, "minimum": minimum}))
                return
            attempt += 1
        events.put(("saving", index, result))
        extra = {
            "provider_ms": round(result.seconds * 1000, 1),
            "lora": request.lora.describe() if request.lora else None,
            "second_lora": request.second_lora.describe() if request.second_lora else None,
            "retries": result.tries,
        }
        if references:
            extra["likeness_ms"] = round(score_ms, 1)
            extra["likeness_tries"] = tries
        prepared = time.monotonic()
        image = build_image(generation, index, made, result.provider, extra, decoded=decoded,
                            score=score)
        image.metadata["prepare_ms"] = round((time.monotonic() - prepared) * 1000, 1)  # files
        image.metadata["decode_ms"] = round(decode_ms, 1)  # decode, thumbnail, WebP
        # CPU time of this thread for the image (SDK, download, decode, thumbnail, files):
        # what our code costs, whatever else the machine is doing.
        image.metadata["cpu_ms"] = round((time.thread_time() - cpu) * 1000, 1)
        image.metadata["slot_started"] = started
        events.put(("ready", index, image))
    except ProviderError as exc:
        events.put(("error", index, exc))
    except Exception as exc:  # noqa: BLE001 - reported to the task's thread, which decides
        logger.exception("generation %s image %d crashed", generation.id, index)
        events.put(("crash", index, exc))


def low_likeness_message(generation: Generation, tries: list, minimum: int) -> str:
    name = generation.personal_model.name if generation.personal_model else "the subject"
    best = max(t["likeness"] for t in tries)
    return (f"None of the {len(tries)} tries looked enough like {name} (the best scored "
            f"{best} of 100; the bar is {minimum}), so this image is not charged.")


def _make_missing_images(generation: Generation, request: ImageRequest, providers) -> list:
    """Make every missing slot (generation.missing: the claim marked them "generating"); the
    transient errors of the slots to try again later. When the last report is an image and
    nothing is to be tried again, that image's transaction finishes the generation."""
    missing = generation.missing
    events: queue.Queue = queue.Queue()
    if len(missing) == 1:
        # One slot is made in this thread: handing it to a pool thread and its reports back
        # cost about a tenth of our time per image (bench/generation.py, medians of 5 runs of
        # each: 25.9 against 23.0 ms).
        _make_slot(generation, request, providers, missing[0], events)
        return _reports(generation, events, set(missing))
    workers = max(1, min(len(missing), settings.GENERATION_CONCURRENCY))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gen") as pool:
        for index in missing:
            pool.submit(_make_slot, generation, request, providers, index, events)
        return _reports(generation, events, set(missing))


def _reports(generation: Generation, events: queue.Queue, pending: set) -> list:
    """Handles the slots' reports until none is pending; the transient errors to retry."""
    retry: list[Exception] = []
    while pending:
        kind, index, payload = events.get()
        if kind != "saving":
            pending.discard(index)
        last = not pending and not retry
        error = _handle(generation, kind, index, payload, last=last)
        if error is not None:
            retry.append(error)
            set_slot(generation, index, "queued")
    return retry


def _handle(generation: Generation, kind: str, index: int, payload, *, last: bool = False):
    """One report from a pool thread; a transient error to retry later, or None. `last`: no
    other slot is pending and none is to be tried again."""
    catalogue.learn_from_tries(getattr(payload, "tries", None))  # results and routing errors
    if kind == "saving":
        provider = payload.provider.name
        changed = {"provider": provider} if generation.provider != provider else {}
        set_slot(generation, index, "saving", **changed)  # one UPDATE for both
    elif kind == "ready":
        started = payload.metadata.pop("slot_started")
        payload.metadata["slot_ms"] = round((time.monotonic() - started) * 1000, 1)
        if not (last and store_and_finish(generation, payload)):
            save_image(generation, payload)
    elif kind == "blocked":
        _refuse(generation, index, "content_flagged", MESSAGES["content_flagged"])
    elif kind == "low_likeness":
        _refuse(generation, index, "low_likeness",
                low_likeness_message(generation, payload["tries"], payload["minimum"]))
    elif kind == "error" and payload.transient:
        logger.warning("generation %s image %d: %s", generation.id, index, payload)
        return payload
    elif kind == "error":
        _refuse(generation, index, payload.code, MESSAGES.get(payload.code) or str(payload))
    else:  # crash
        return ProviderError(f"Generation failed: {payload}", transient=True,
                             code="internal_error")
    return None


def _refuse(generation, index, code, message):
    gen = fail_image(generation, index, code, message)
    generation.failures, generation.slots = gen.failures, gen.slots
