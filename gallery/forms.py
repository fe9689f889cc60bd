"""The gallery's filter form: the query string of /dashboard/gallery, so every view can be
bookmarked. A value that does not parse is dropped (and shown as an error), never a 500."""

import uuid
from datetime import UTC, datetime, time, timedelta

from django import forms
from django.http import QueryDict
from django.utils import timezone
from django.utils.choices import CallableChoiceIterator

from gallery.filters import MAX_QUERY_LENGTH, ImageFilters
from generation.catalogue import ASPECT_RATIOS, BASE_MODELS
from generation.models import Pack
from likeness.text import TextFieldsMixin
from studio.models import PersonalModel

SORTS = [("newest", "Newest first"), ("oldest", "Oldest first"),
         ("likeness", "Best likeness first")]
LIKENESS_FLOORS = [("", "Any likeness"), ("50", "Likeness 50+"), ("70", "Likeness 70+"),
                   ("85", "Likeness 85+")]


def _start_of_day(day):
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _bounds(day) -> tuple[datetime, datetime]:
    """The start of `day` and of the next one, as the database holds times (UTC)."""
    try:
        start = _start_of_day(day)
        return start.astimezone(UTC), _start_of_day(day + timedelta(days=1)).astimezone(UTC)
    except OverflowError:
        raise forms.ValidationError("Choose a date between the years 1 and 9999.")


def _model_choices(user) -> list:
    base = [(m.id, m.name) for m in BASE_MODELS.values()]
    choices = [("", "All models"), ("Base models", base)]
    mine = [(str(m.pk), m.name) for m in
            PersonalModel.objects.filter(user=user).only("pk", "name").order_by("name")]
    if mine:
        choices.append(("Your models", mine))
    return choices


def _pack_choices() -> list:
    return [("", "Any pack")] + [(p.slug, p.name) for p in Pack.objects.only("slug", "name")]


class GalleryFilterForm(TextFieldsMixin, forms.Form):
    q = forms.CharField(required=False, max_length=MAX_QUERY_LENGTH, label="Search prompts")
    # A base model id or a personal model's id (a bookmarked model that is gone shows nothing).
    model = forms.CharField(required=False, label="Model", widget=forms.Select)
    aspect_ratio = forms.ChoiceField(
        required=False, label="Shape",
        choices=[("", "Any shape"), *((r, r) for r in ASPECT_RATIOS)])
    favorite = forms.BooleanField(required=False, label="Favourites")
    since = forms.DateField(required=False, label="From")
    until = forms.DateField(required=False, label="To")
    sort = forms.ChoiceField(required=False, choices=SORTS, label="Order")
    pack = forms.SlugField(required=False, label="Pack", widget=forms.Select)
    # "Hide below N": any score 0-100 in the address; the menu offers a few.
    min_likeness = forms.IntegerField(required=False, min_value=0, max_value=100,
                                      label="Likeness at least")

    def __init__(self, data, *, user, **kwargs):
        super().__init__(data, **kwargs)
        # The menus' options are read from the database only when the form is shown: the
        # infinite scroll's pages use the form for its filters alone.
        self.fields["model"].widget.choices = CallableChoiceIterator(
            lambda: _model_choices(user))
        self.fields["pack"].widget.choices = CallableChoiceIterator(_pack_choices)

    def clean_since(self):
        day = self.cleaned_data["since"]
        if day:
            _bounds(day)
        return day

    def clean_until(self):
        day = self.cleaned_data["until"]
        if day:
            _bounds(day)
        return day

    def clean_model(self):
        value = self.cleaned_data["model"].strip()
        if value and value not in BASE_MODELS:
            try:
                value = str(uuid.UUID(value))
            except ValueError:
                raise forms.ValidationError("Unknown model.")
        return value

    def filters(self) -> ImageFilters:
        """The valid part of the query."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        model = data.get("model") or ""
        until = data.get("until")
        return ImageFilters(
            base_model=model if model in BASE_MODELS else None,
            model_id=model if model and model not in BASE_MODELS else None,
            aspect_ratio=data.get("aspect_ratio") or None,
            favorite=True if data.get("favorite") else None,
            q=(data.get("q") or "").strip(),
            since=_bounds(data["since"])[0] if data.get("since") else None,
            # "To" is inclusive: everything before the next midnight.
            until=_bounds(until)[1] if until else None,
            oldest_first=data.get("sort") == "oldest",
            best_likeness=data.get("sort") == "likeness",
            min_likeness=data.get("min_likeness"),
            pack=data.get("pack") or None,
        )

    def query(self) -> str:
        """The valid filters as a query string (no cursor, no view), for links and forms."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        params = {}
        for name in ("q", "model", "aspect_ratio", "pack"):
            if data.get(name):
                params[name] = data[name]
        if data.get("favorite"):
            params["favorite"] = "1"
        for name in ("since", "until"):
            if data.get(name):
                params[name] = data[name].isoformat()
        if data.get("sort") in ("oldest", "likeness"):
            params["sort"] = data["sort"]
        if data.get("min_likeness") is not None:
            params["min_likeness"] = str(data["min_likeness"])
        query = QueryDict(mutable=True)
        query.update(params)
        return query.urlencode()
