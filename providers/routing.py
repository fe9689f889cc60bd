"""The routing table and failover. Each base model (and "personal" for personal models) maps
to an ordered list of providers (settings.GENERATION_ROUTES, else GENERATION_PROVIDERS).

One call to `generate()` makes one request's images: transient errors (timeouts, 5xx, 429 with
Retry-After, malformed answers, result URLs that 404) are retried at the same provider with
backoff, then the next provider is asked. A refused API key skips to the next provider (another
may serve; retrying ours cannot help). Other permanent errors (invalid request, flagged content)
end the request at once: another provider would refuse it too. Credits are not touched here:
whatever happens, the caller charges or refunds each image slot once. A provider that answers
that it does not serve the model is skipped too, and the caller teaches the live catalogue
(providers.catalogue) so that the next requests skip it at once. `enhance()` does the same for
a new version of an image (upscaling, face restore), routed under the keys "upscale" and
"face_restore" to the providers whose `operations` offer it, and `instant()` instant mode's
images (identity from a photo), routed under "instant" to the providers that offer it."""

import logging
import time
from dataclasses import dataclass, field

from django.conf import settings

from jobs.progress import still_working
from jobs.retry import backoff
from likeness.errors import ProviderError
from providers.catalogue import not_served
from providers.interfaces import (
    INSTANT,
    PERSONAL,
    EnhanceRequest,
    ImageProvider,
    ImageRequest,
    Lora,
    ProviderImage,
)
from providers.registry import image_provider

logger = logging.getLogger(__name__)

# Permanent for this provider, but not for the request: try the next provider. A model the
# provider does not (or no longer) serve is remembered by the live catalogue, so the next
# requests skip it at once.
SKIP_PROVIDER_CODES = {"provider_auth", "unsupported", "model_unavailable"}


@dataclass
class Result:
    provider: ImageProvider
    images: list[ProviderImage]
    seconds: float  # the successful provider call, downloads included
    tries: list[dict] = field(default_factory=list)  # the failed attempts before it


class RoutingFailed(ProviderError):
    """Every provider of the route failed (or none could serve). `tries` lists the attempts."""

    def __init__(self, message, *, transient, retry_after=None, code="providers_unavailable",
                 tries=()):
        super().__init__(message, transient=transient, retry_after=retry_after, code=code)
        self.tries = list(tries)


def route_key(base_model: str, personal: bool) -> str:
    return PERSONAL if personal else base_model


def route_names(base_model: str, lora: Lora | None = None) -> list[str]:
    """The configured providers for this model, in order. A personal model trained by the demo
    trainer has no real weights: only the demo provider can draw it."""
    if lora is not None and lora.is_demo:
        return ["demo"]  # a pair with one demo model included: demo weights draw nowhere else
    key = route_key(base_model, lora is not None)
    return list(settings.GENERATION_ROUTES.get(key) or settings.GENERATION_PROVIDERS)


def asks_local_first(base_model: str, *, personal: bool = False, demo_lora: bool = False,
                     stored_lora: bool = True, two_loras: bool = False) -> bool:
    """Whether this model's route asks the local GPU engine first, from the configuration alone
    (the web process has no model on disk to look at): its jobs then go to the GPU queue
    (jobs.routes). A LoRA only at a provider (no stored copy), or two people in one picture
    (the local engine takes one LoRA), is never drawn locally."""
    if demo_lora:
        return False
    names = list(settings.GENERATION_ROUTES.get(route_key(base_model, personal))
                 or settings.GENERATION_PROVIDERS)
    if personal and (two_loras or not stored_lora):
        names = [name for name in names if name != "local"]
    return bool(names) and names[0] == "local"


def supports(provider: ImageProvider, request: ImageRequest) -> bool:
    if request.second_lora is not None and not getattr(provider, "multi_lora", False):
        return False
    check = getattr(provider, "supports", None)
    return True if check is None else bool(check(request))


def providers_for(request: ImageRequest) -> list[ImageProvider]:
    """The providers that can make this request, in route order, less those that said they do
    not serve its model (the live catalogue). Raises LookupError for a name that is not a
    provider (a misconfigured deployment)."""
    demo = next((lora for lora in request.loras if lora.is_demo), request.lora)
    providers = [image_provider(name) for name in route_names(request.base_model, demo)]
    skip = not_served(route_key(request.base_model, request.lora is not None))
    return [p for p in providers if p.name not in skip and supports(p, request)]


def can_route(base_model: str, *, personal: bool = False, lora: Lora | None = None,
              second_lora: Lora | None = None) -> bool:
    """Whether some configured provider offers this model (for validation and the catalogue);
    with `second_lora`, one that takes two LoRAs in one request."""
    if personal and lora is None:
        lora = _probe_lora()
    probe = ImageRequest(prompt="-", width=1024, height=1024, seed=0, base_model=base_model,
                         lora=lora, second_lora=second_lora)
    try:
        return bool(providers_for(probe))
    except LookupError:
        return True  # the job explains a misconfiguration (and refunds); do not hide it here


def _probe_lora() -> Lora:
    return Lora(model_id="", name="", trigger_word="", subject_class="",
                url="https://example.invalid/lora.safetensors", replicate_version="x",
                storage_name="lora.safetensors")


def generate(request: ImageRequest, providers: list[ImageProvider] | None = None,
             *, sleep=time.sleep) -> Result:
    providers = providers_for(request) if providers is None else providers
    return failover(providers, lambda provider: provider.generate(request),
                    model=route_key(request.base_model, request.lora is not None),
                    seed=request.seed, sleep=sleep)


def enhancers_for(operation: str) -> list[ImageProvider]:
    """The providers that offer this operation on an image (UPSCALE, FACE_RESTORE), in the
    order of its route (GENERATION_ROUTES["upscale"], else GENERATION_PROVIDERS), less those
    that said they do not serve it. Raises LookupError like providers_for."""
    names = settings.GENERATION_ROUTES.get(operation) or settings.GENERATION_PROVIDERS
    skip = not_served(operation)
    providers = [image_provider(name) for name in names]
    return [p for p in providers if p.name not in skip and operation in p.operations]


def can_enhance(operation: str) -> bool:
    try:
        return bool(enhancers_for(operation))
    except LookupError:
        return True  # the job explains a misconfiguration (and refunds); do not hide it here


def enhance(request: EnhanceRequest, providers: list[ImageProvider] | None = None,
            *, sleep=time.sleep) -> Result:
    """A new version of an image, with the same retries and failover as generate()."""
    providers = enhancers_for(request.operation) if providers is None else providers
    return failover(providers, lambda provider: [provider.enhance(request)],
                    model=request.operation, seed=request.seed, sleep=sleep)


def instant_providers() -> list[ImageProvider]:
    """The providers that offer instant mode (ImageProvider.offers_instant), in the order of
    its route (GENERATION_ROUTES["instant"], else GENERATION_PROVIDERS), less those that said
    they do not serve it. Raises LookupError like providers_for."""
    names = settings.GENERATION_ROUTES.get(INSTANT) or settings.GENERATION_PROVIDERS
    skip = not_served(INSTANT)
    providers = [image_provider(name) for name in names]
    return [p for p in providers if p.name not in skip and p.offers_instant]


def can_instant() -> bool:
    try:
        return bool(instant_providers())
    except LookupError:
        return True  # the job explains a misconfiguration (and refunds); do not hide it here


def instant(request: ImageRequest, providers: list[ImageProvider] | None = None,
            *, sleep=time.sleep) -> Result:
    """Instant mode's images of `request.reference`, with the retries and failover of
    generate()."""
    providers = instant_providers() if providers is None else providers
    return failover(providers, lambda provider: provider.instant(request), model=INSTANT,
                    seed=request.seed, sleep=sleep)


def failover(providers: list[ImageProvider], call, *, model: str, seed: int,
             sleep=time.sleep) -> Result:
    """`call(provider)` at each provider in turn: transient errors retried with backoff, then
    the next provider; permanent ones end it (module docstring)."""
    if not providers:
        raise RoutingFailed("No configured image provider offers this model.",
                            transient=False, code="no_provider")
    tries: list[dict] = []
    last: ProviderError | None = None
    for provider in providers:
        for attempt in range(1, max(1, settings.GENERATION_PROVIDER_ATTEMPTS) + 1):
            still_working()  # each try is bounded by the provider timeouts: not stuck
            started = time.monotonic()
            try:
                images = call(provider)
            except ProviderError as exc:
                last = exc
                tries.append({"provider": provider.name, "code": exc.code, "model": model,
                              "message": str(exc)[:300], "transient": exc.transient,
                              "seconds": round(time.monotonic() - started, 3)})
                logger.warning("%s attempt %d for seed %s: %s (%s)", provider.name, attempt,
                               seed, exc, exc.code)
                if exc.code in SKIP_PROVIDER_CODES:
                    break
                if not exc.transient:
                    exc.tries = tries
                    raise exc
                if attempt >= settings.GENERATION_PROVIDER_ATTEMPTS:
                    break
                delay = backoff(attempt, exc.retry_after,
                                base=settings.GENERATION_RETRY_BASE_SECONDS)
                if delay > settings.GENERATION_RETRY_MAX_WAIT_SECONDS:
                    break  # a long Retry-After: let the next provider serve meanwhile
                sleep(delay)
                continue
            return Result(provider, images, time.monotonic() - started, tries)
    assert last is not None
    names = ", ".join(dict.fromkeys(t["provider"] for t in tries))
    if last.code in SKIP_PROVIDER_CODES and not any(t["transient"] for t in tries):
        message = (f"No image provider accepted our credentials ({names})."
                   if last.code == "provider_auth" else
                   f"No configured image provider serves this model now ({names}).")
        raise RoutingFailed(message, transient=False, code=last.code, tries=tries)
    raise RoutingFailed(f"The image providers are not answering ({names}): {last}",
                        transient=True, retry_after=last.retry_after, code=last.code,
                        tries=tries)
