"""The generate form. It checks shapes (an int 1-4, a known choice) so junk never reaches
generation.actions.create_generation, which stays the one place that decides.

The model picker is one radio group: the base models by id, and the customer's ready personal
models as "personal:<uuid>" (they run on FLUX.1 dev with their LoRA)."""

import uuid

from django import forms

from accounts.plans import get_plan
from generation.actions import MAX_SEED, price, settings_of
from generation.catalogue import (
    ASPECT_RATIOS,
    BASE_MODELS,
    DEFAULT_ASPECT_RATIO,
    DEFAULT_BASE_MODEL,
    LORA_SCALE_RANGE,
    MAX_IMAGES_PER_REQUEST,
    MAX_PROMPT_LENGTH,
    PERSONAL_BASE_MODEL,
)
from generation.models import Image
from generation.styles import STYLES
from likeness.text import TextFieldsMixin
from studio.models import PersonalModel
from studio.slots import usable_model_ids

IMAGE_COUNTS = range(1, MAX_IMAGES_PER_REQUEST + 1)
PAIR_HELP = ("Two people in one picture: their trigger words both go into the prompt. Faces "
             "can blend into each other; saying who is where (\"…on the left\") helps. No "
             "likeness score or guarantee for these.")
PERSONAL_PREFIX = "personal:"


def ready_models(user):
    """The customer's trained models, each marked `usable` (a downgraded plan may lock some)."""
    models = list(PersonalModel.objects.filter(user=user, status=PersonalModel.Status.READY)
                  .order_by("name"))
    usable = usable_model_ids(user) if models else set()
    for model in models:
        model.usable = model.pk in usable and not model.is_suspended
    return models


class GenerateForm(TextFieldsMixin, forms.Form):
    prompt = forms.CharField(
        widget=forms.Textarea(attrs={
            "rows": 4,
            "placeholder": "A portrait in soft window light, 85mm, film grain…",
        }),
        max_length=MAX_PROMPT_LENGTH,
        error_messages={
            "required": "Write a prompt: describe the picture you want.",
            "max_length": f"The prompt is too long; the limit is "
                          f"{MAX_PROMPT_LENGTH:,} characters.",
        },
    )
    base_model = forms.ChoiceField(
        initial=DEFAULT_BASE_MODEL,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose one of the base models or your models.",
                        "required": "Choose a base model."},
    )
    style = forms.ChoiceField(
        required=False, initial="",
        choices=[("", "No style")] + [(s.id, s.name) for s in STYLES.values()],
        error_messages={"invalid_choice": "Choose one of the styles."},
    )
    aspect_ratio = forms.ChoiceField(
        choices=[(ratio, ratio) for ratio in ASPECT_RATIOS],
        initial=DEFAULT_ASPECT_RATIO,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": f"Choose one of {', '.join(ASPECT_RATIOS)}.",
                        "required": "Choose an aspect ratio."},
    )
    num_images = forms.TypedChoiceField(
        label="Number of images",
        choices=[(n, str(n)) for n in IMAGE_COUNTS],
        coerce=int,
        initial=1,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": f"Ask for 1 to {MAX_IMAGES_PER_REQUEST} images.",
                        "required": f"Ask for 1 to {MAX_IMAGES_PER_REQUEST} images."},
    )
    steps = forms.IntegerField(required=False, min_value=1, max_value=50,
                               help_text="Empty: the model's default.",
                               widget=forms.NumberInput(attrs={"placeholder": "default"}))
    guidance = forms.FloatField(required=False, min_value=0, max_value=20,
                                help_text="How closely to follow the prompt.",
                                widget=forms.NumberInput(attrs={"step": "0.5",
                                                                "placeholder": "default"}))
    seed = forms.IntegerField(required=False, min_value=0, max_value=MAX_SEED,
                              help_text="Empty: a random seed. The same seed and settings "
                                        "give the same picture.",
                              widget=forms.NumberInput(attrs={"placeholder": "random"}))
    negative_prompt = forms.CharField(
        required=False, max_length=MAX_PROMPT_LENGTH,
        widget=forms.TextInput(attrs={"placeholder": "blurry, watermark…"}),
        help_text="What to keep out of the picture (FLUX schnell and dev).")
    lora_scale = forms.FloatField(
        label="Personal model strength", required=False, min_value=LORA_SCALE_RANGE[0],
        max_value=LORA_SCALE_RANGE[1],
        widget=forms.NumberInput(attrs={"step": "0.05", "placeholder": "1.0"}))
    likeness_guarantee = forms.BooleanField(label="Likeness guarantee", required=False)
    second_model = forms.ChoiceField(
        label="Second person", required=False, initial="",
        help_text=PAIR_HELP,
        error_messages={"invalid_choice": "Choose one of your ready models as the second "
                                          "person."})
    batch = forms.BooleanField(
        label="Batch mode: each line of the prompt is its own request", required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.personal_models = ready_models(user) if user is not None else []
        if user is not None and not self.is_bound:
            self.fields["likeness_guarantee"].initial = get_plan(user.plan).likeness_guarantee
        self.fields["base_model"].choices = [(m.id, m.name) for m in BASE_MODELS.values()] + [
            (f"{PERSONAL_PREFIX}{m.pk}", m.name) for m in self.personal_models if m.usable]
        self.fields["second_model"].choices = [("", "Nobody else")] + [
            (str(m.pk), m.name) for m in self.personal_models if m.usable]

    def selected(self, name):
        """The value the person chose (valid or not), else the initial one, for the page."""
        value = self[name].value()
        if value in (None, ""):
            value = self.initial.get(name, self.fields[name].initial)
        return "" if value is None else str(value)

    def selected_personal(self):
        choice = self.selected("base_model")
        if not choice.startswith(PERSONAL_PREFIX):
            return None
        pk = choice[len(PERSONAL_PREFIX):]
        return next((m for m in self.personal_models if str(m.pk) == pk), None)

    def prompts(self) -> list[str]:
        text = self.selected("prompt")
        if self.selected("batch") in ("True", "true", "on", "1"):
            return [line.strip() for line in text.splitlines() if line.strip()]
        return [text] if text.strip() else []

    def page_context(self) -> dict:
        """What the page needs to draw the choices as they stand, valid or not."""
        return {
            "selected_model": self.selected("base_model"),
            "selected_ratio": self.selected("aspect_ratio"),
            "selected_count": self.selected("num_images"),
            "selected_style": self.selected("style"),
            "selected_personal": self.selected_personal(),
            "usable_count": sum(1 for m in self.personal_models if m.usable),
            "image_counts": IMAGE_COUNTS,
            "cost": self.cost(),
            "request_count": max(1, len(self.prompts())),
        }

    def cost(self):
        """The price of the current choice, or None when the choice is not a valid one."""
        model, count = self.selected("base_model"), self.selected("num_images")
        if not (count.isdigit() and int(count) in IMAGE_COUNTS):
            return None
        requests = max(1, len(self.prompts()))
        if self.selected_personal() is not None:
            return price(PERSONAL_BASE_MODEL, int(count), personal=True) * requests
        if model in BASE_MODELS:
            return price(model, int(count)) * requests
        return None

    def generation_params(self) -> dict:
        data = self.cleaned_data
        choice = data["base_model"]
        params = {
            "base_model": choice, "model_id": None, "style": data["style"] or None,
            "aspect_ratio": data["aspect_ratio"], "num_images": data["num_images"],
            "steps": data["steps"], "guidance": data["guidance"], "seed": data["seed"],
            "negative_prompt": data["negative_prompt"], "lora_scale": None,
        }
        if choice.startswith(PERSONAL_PREFIX):
            params.update(base_model=PERSONAL_BASE_MODEL, model_id=choice[len(PERSONAL_PREFIX):],
                          lora_scale=data["lora_scale"],
                          likeness_guarantee=data["likeness_guarantee"])
        if data.get("second_model"):  # without a personal model: the action says what is wrong
            params["second_model_id"] = data["second_model"]
        return params


def initial_from(query, user) -> dict:
    """Initial values from the address: "use these settings" links (?image=<id>, or the
    parameters themselves, e.g. ?prompt=…&base_model=…&model_id=…)."""
    initial = {}
    image_id = query.get("image")
    if image_id:
        image = Image.objects.filter(user=user, pk=_uuid(image_id)).select_related(
            "generation").first() if _uuid(image_id) else None
        if image is not None:
            initial = {k: v for k, v in settings_of(image).items() if v not in (None, "")}
            if query.get("vary"):
                initial.pop("seed", None)
    for name in ("prompt", "base_model", "style", "aspect_ratio", "num_images", "steps",
                 "guidance", "seed", "negative_prompt", "lora_scale"):
        if query.get(name):
            initial[name] = query.get(name)
    model_id = initial.pop("model_id", None) or query.get("model_id")
    if model_id:
        initial["base_model"] = f"{PERSONAL_PREFIX}{model_id}"
    second_id = initial.pop("second_model_id", None) or query.get("second_model_id")
    if second_id:
        initial["second_model"] = str(second_id)
    return initial


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
