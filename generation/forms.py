"""The generate form. It checks shapes (an int 1-4, a known choice) so junk never reaches
generation.actions.create_generation, which stays the one place that decides."""

from django import forms
from django.conf import settings

from generation.actions import price
from generation.catalogue import (
    ASPECT_RATIOS,
    BASE_MODELS,
    DEFAULT_ASPECT_RATIO,
    DEFAULT_BASE_MODEL,
    MAX_IMAGES_PER_REQUEST,
)

IMAGE_COUNTS = range(1, MAX_IMAGES_PER_REQUEST + 1)


class GenerateForm(forms.Form):
    prompt = forms.CharField(
        widget=forms.Textarea(attrs={
            "rows": 4,
            "placeholder": "A portrait in soft window light, 85mm, film grain…",
        }),
        max_length=settings.MAX_PROMPT_LENGTH,
        error_messages={
            "required": "Write a prompt: describe the picture you want.",
            "max_length": f"The prompt is too long; the limit is "
                          f"{settings.MAX_PROMPT_LENGTH:,} characters.",
        },
    )
    base_model = forms.ChoiceField(
        choices=[(m.id, m.name) for m in BASE_MODELS.values()],
        initial=DEFAULT_BASE_MODEL,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose one of the base models.",
                        "required": "Choose a base model."},
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

    def selected(self, name):
        """The value the person chose (valid or not), else the initial one, for the page."""
        value = self[name].value()
        return str(value) if value not in (None, "") else str(self.fields[name].initial)

    def page_context(self) -> dict:
        """What the page needs to draw the choices as they stand, valid or not."""
        return {
            "selected_model": self.selected("base_model"),
            "selected_ratio": self.selected("aspect_ratio"),
            "selected_count": self.selected("num_images"),
            "image_counts": IMAGE_COUNTS,
            "cost": self.cost(),
        }

    def cost(self):
        """The price of the current choice, or None when the choice is not a valid one."""
        model, count = self.selected("base_model"), self.selected("num_images")
        if model in BASE_MODELS and count.isdigit() and int(count) in IMAGE_COUNTS:
            return price(model, int(count))
        return None
