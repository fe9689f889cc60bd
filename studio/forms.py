"""The model wizard's forms. They check shapes only (a string, a known choice, a number);
studio.actions stays the one place that decides what is allowed."""

from django import forms
from django.utils.html import escape

from likeness.text import TextFieldsMixin
from studio.catalogue import TRAINING_DEFAULTS, TRAINING_RANGES
from studio.models import PersonalModel

# What each subject class means on its radio card.
SUBJECT_HINTS = {
    "man": "An adult man",
    "woman": "An adult woman",
    "person": "Anyone, any gender",
    "child": "A child",
    "dog": "A dog: no face check",
    "cat": "A cat: no face check",
}


class ModelDetailsForm(TextFieldsMixin, forms.Form):
    name = forms.CharField(
        max_length=80,
        widget=forms.TextInput(attrs={"placeholder": "e.g. Me, Anna, Biscuit the dog",
                                      "autocomplete": "off"}),
        help_text="For you only: it names the model in your lists.",
        error_messages={"required": "Give the model a name.",
                        "max_length": "Keep the name to 80 characters."},
    )
    subject_class = forms.ChoiceField(
        label="Who is it of?",
        choices=PersonalModel.SubjectClass.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose who the model is of.",
                        "invalid_choice": "Choose one of the listed subjects."},
    )
    trigger_word = forms.CharField(
        max_length=24,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false",
                                      "autocapitalize": "none"}),
        help_text="A made-up word that stands for the subject in prompts, as in “a photo of "
                  "<em>{word}</em> on a beach”. 3–24 letters, digits or underscores.",
        error_messages={"required": "Choose a trigger word.",
                        "max_length": "Keep the trigger word to 24 characters."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The example in the help names the word on the form (before any BoundField copies it).
        source = self.data if self.is_bound else self.initial
        field = self.fields["trigger_word"]
        word = str(source.get("trigger_word") or "").strip() or "zorvek"
        field.help_text = field.help_text.replace("{word}", escape(word))

    def subject_cards(self):
        """The subject choices with their hints and whether each is the chosen one."""
        chosen = self["subject_class"].value()
        return [{"value": value, "label": label, "hint": SUBJECT_HINTS.get(value, ""),
                 "checked": value == chosen}
                for value, label in PersonalModel.SubjectClass.choices]


def _number(value):
    """0.00001 rather than 1e-05: people read these."""
    return format(value, "f").rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def _range_help(name):
    low, high = TRAINING_RANGES[name]
    return f"Default {_number(TRAINING_DEFAULTS[name])}; allowed {_number(low)}–{_number(high)}."


class TrainingForm(TextFieldsMixin, forms.Form):
    steps = forms.IntegerField(
        help_text=_range_help("steps") + " More steps learn more detail and take longer.",
        widget=forms.NumberInput(attrs={"step": 100}),
        error_messages={"required": "Give the number of steps.",
                        "invalid": "Steps must be a whole number."},
    )
    learning_rate = forms.FloatField(
        help_text=_range_help("learning_rate") + " Lower is slower and safer.",
        widget=forms.NumberInput(attrs={"step": "any"}),
        error_messages={"required": "Give the learning rate.",
                        "invalid": "The learning rate must be a number, e.g. 0.0004."},
    )
    lora_rank = forms.IntegerField(
        label="LoRA rank",
        help_text=_range_help("lora_rank") + " Higher keeps more detail in a larger file.",
        error_messages={"required": "Give the LoRA rank.",
                        "invalid": "The LoRA rank must be a whole number."},
    )

    @classmethod
    def for_model(cls, model, data=None):
        return cls(data, initial={name: getattr(model, name) for name in TRAINING_DEFAULTS})


class ConsentForm(forms.Form):
    """The consent step: the statements to confirm, and (for an adult) the selfie, taken with
    the camera by static/js/consent.js or chosen from the device. studio.consent decides."""

    rights_confirmed = forms.BooleanField(required=False)
    guardian_confirmed = forms.BooleanField(required=False)
    selfie = forms.FileField(required=False, widget=forms.ClearableFileInput(attrs={
        "accept": "image/jpeg,image/png,image/webp", "capture": "user"}))
