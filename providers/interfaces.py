"""What the product asks of outside services, one interface per kind: a `Trainer` trains a
personal LoRA, an `ImageProvider` draws images, a `Publisher` publishes trained weights, a
`Delivery` serves generated images from a CDN. Each vendor package under providers/ implements
the ones its service offers; providers.registry names them, and tests/providers/test_conformance
holds every registered implementation to its interface. Failures leave as
likeness.errors.ProviderError, transient or permanent."""

from dataclasses import dataclass, field


@dataclass
class Lora:
    """A personal model as a provider needs it. `url` points at the safetensors (the Hub's
    resolve URL when the repository is public, else a short-lived signed link to our copy);
    `replicate_version` is the trained version when the model was trained on Replicate."""

    model_id: str
    name: str
    trigger_word: str
    subject_class: str
    scale: float = 1.0
    url: str = ""
    url_source: str = ""  # "hub" | "signed" | ""
    replicate_version: str = ""
    is_demo: bool = False
    # Our stored copy of the weights (its storage name), for the local engine.
    storage_name: str = ""
    # Demo weights only (providers.demo.faces): the subject's face crops and best strength.
    demo_faces: tuple[bytes, ...] = ()
    demo_best_scale: float = 1.0

    def describe(self) -> dict:
        """For the image's metadata: everything but the (secret, expiring) signed link."""
        return {"model_id": self.model_id, "name": self.name, "trigger_word": self.trigger_word,
                "scale": self.scale, "source": self.url_source or (
                    "replicate_version" if self.replicate_version else "demo"),
                "url": self.url if self.url_source == "hub" else "",
                "replicate_version": self.replicate_version}


@dataclass
class Reference:
    """Instant mode's identity: one photo of the subject (a JPEG of at most REFERENCE_SIDE
    pixels a side), its face box in that photo when known ([x, y, w, h]), and how strongly
    the identity is held (PuLID's `id_weight`, 0-3; 1 is the models' default)."""

    data: bytes
    content_type: str
    face_box: tuple[int, int, int, int] | None = None
    id_weight: float = 1.0


REFERENCE_SIDE = 1024  # PuLID resizes its ID image to 1024 on the long side itself


@dataclass
class ImageRequest:
    prompt: str
    width: int
    height: int
    seed: int
    base_model: str
    num_images: int = 1
    steps: int | None = None
    guidance: float | None = None
    negative_prompt: str = ""
    aspect_ratio: str = "1:1"
    lora: Lora | None = None
    # Two people in one picture: the second person's LoRA, sent beside the first to a provider
    # that takes several (ImageProvider.multi_lora).
    second_lora: Lora | None = None
    # Instant mode (ImageProvider.instant): the identity comes from this photo, no LoRA.
    reference: Reference | None = None

    @property
    def loras(self) -> list[Lora]:
        return [lora for lora in (self.lora, self.second_lora) if lora is not None]


@dataclass
class ProviderImage:
    data: bytes
    content_type: str  # image/png, image/jpeg, image/webp
    width: int
    height: int
    seed: int
    metadata: dict = field(default_factory=dict)


PERSONAL = "personal"  # the catalogue key of FLUX.1 [dev] with a personal LoRA
# What can be done to an existing image (a new version of it): the route keys of the
# routing table for them.
UPSCALE, FACE_RESTORE = "upscale", "face_restore"
# Instant mode, identity from a photo without training (PuLID on FLUX.1 [dev]): its route key
# and live-catalogue key.
INSTANT = "instant"


@dataclass
class EnhanceRequest:
    """Make a new version of an image: `operation` is UPSCALE (by `scale`, 2 or 4) or
    FACE_RESTORE (same size). `data` is the source file's bytes; `seed` the source's."""

    operation: str
    data: bytes
    content_type: str
    width: int
    height: int
    scale: int = 1
    seed: int = 0


@dataclass(frozen=True)
class ModelCheck:
    """A provider's answer to "do you serve this model now?" (the live catalogue).
    `model` is our catalogue's key: a base model's id, or "personal" for FLUX.1 [dev] with a
    personal LoRA."""

    model: str
    provider_model: str
    served: bool
    detail: str = ""


class ImageProvider:
    name = "base"
    label = "Base"
    is_demo = False
    # Takes two or more LoRAs in one request (two people in one picture); docs/providers.md.
    multi_lora = False

    def check_models(self, models: list[str]) -> list[ModelCheck]:
        """Ask the provider which of these catalogue keys it serves now (one ModelCheck each;
        a model this adapter has no id for is not served). Raises ProviderError when it
        cannot be asked (no key, down): nothing is learned then."""
        raise NotImplementedError

    def supports(self, request: ImageRequest) -> bool:
        """Whether this provider can make this request (its model, its LoRA)."""
        raise NotImplementedError

    def generate(self, request: ImageRequest) -> list[ProviderImage]:
        """`request.num_images` images, downloaded (provider URLs expire). An image the
        provider's safety checker blocked comes back empty with metadata["blocked"]."""
        raise NotImplementedError

    # Operations on an existing image (upscaling, face restore) this provider offers.
    operations: tuple[str, ...] = ()

    def enhance(self, request: EnhanceRequest) -> ProviderImage:
        """The new version of `request.data`, downloaded; ProviderError like generate()."""
        raise NotImplementedError

    # Instant mode: draws `request.reference`'s person from the prompt, with no LoRA.
    offers_instant = False

    def instant(self, request: ImageRequest) -> list[ProviderImage]:
        """`request.num_images` images of the person in `request.reference` (request.lora is
        None), downloaded, with the seeds they were drawn with; ProviderError like
        generate()."""
        raise NotImplementedError


@dataclass
class TrainingState:
    """What the provider says about a training."""

    state: str  # "starting" | "running" | "succeeded" | "failed" | "canceled"
    progress: float | None = None
    logs: str = ""
    error: str = ""
    predict_time: float | None = None
    weights_url: str = ""
    version: str = ""  # Replicate's trained version (owner/name:hash)
    raw: dict = field(default_factory=dict)


class Trainer:
    name = "base"
    label = "Base"
    is_demo = False
    supports_webhooks = False
    # How long to wait between polls while training (webhooks usually come first).
    poll_seconds: float = 30

    def prepare(self, run) -> str:
        """Create what the training needs at the provider (idempotently); returns a reference
        to it (kept on the run, removed again by cleanup) or ""."""
        return ""

    def start(self, run, *, zip_url: str, webhook_url: str) -> str:
        """Start the paid training; returns the provider's id for it."""
        raise NotImplementedError

    def find_started(self, run) -> str:
        """After a crash between asking for a training and recording its id: the id of the
        training that request started, if the provider can tell, else ""."""
        return ""

    def state(self, run) -> TrainingState:
        raise NotImplementedError

    def cancel(self, run) -> bool:
        """Stop the training. True when it is stopped; False when the provider could not stop
        it (fal stops only what has not started): it may still finish, so keep following it."""
        raise NotImplementedError

    def fetch_weights(self, run, state: TrainingState) -> bytes:
        """The trained LoRA as safetensors bytes."""
        raise NotImplementedError

    def delete_ref(self, ref: str) -> None:
        """Remove what prepare() created (the destination model)."""


class Publisher:
    """Publishes a personal model's weights (one repository per model)."""

    name = "base"

    def configured(self) -> bool:
        raise NotImplementedError

    def publish(self, model, weights: bytes, *, private: bool) -> str:
        """Create or reuse the model's repository and upload the weights; its id."""
        raise NotImplementedError

    def set_visibility(self, repo_id: str, *, private: bool) -> None:
        raise NotImplementedError

    def delete_repo(self, repo_id: str) -> None:
        """Idempotent: a repository that is already gone is fine."""
        raise NotImplementedError

    def repo_url(self, repo_id: str) -> str:
        raise NotImplementedError

    def weights_url(self, repo_id: str) -> str:
        """Where a provider can read a public repository's weights."""
        raise NotImplementedError


class Delivery:
    """Serves generated images from a CDN; our storage stays the source of truth."""

    name = "base"

    def enabled(self) -> bool:
        raise NotImplementedError

    def publish(self, image) -> bool:
        """Upload `image` if it has no copy yet (recording the copy on its row)."""
        raise NotImplementedError

    def delete(self, copy_id: str) -> None:
        """Idempotent: a copy that is already gone is fine."""
        raise NotImplementedError

    def delivery_url(self, image) -> str | None:
        """Where to send the browser for the original, or None to serve it ourselves."""
        raise NotImplementedError
