"""The gallery's cards, rendered with Jinja2 from templates/gallery/_cards.jinja.

A page of the gallery (and each page of its infinite scroll) is 24 cards, and Django's template
engine spent about half of the page's time on them: ~370 variable lookups a page, each through
its resolution rules (bench/gallery_server.py --profile). Jinja2 compiles a template to Python,
so the same cards cost a fraction of that. The cards keep Django's meaning: the same URLs
({% image_url %}), filters (model_name, aspect_class, truncatechars, date in the current time
zone) and escaping, and the demo label and likeness badge are the Django templates'
(components/ui.html#demo_label, gallery/_likeness.html), rendered once per process and value.
Only these cards use Jinja2; every page stays a Django template ({% gallery_cards %})."""

from functools import cache, lru_cache
from types import SimpleNamespace

import jinja2
from django.conf import settings
from django.template.defaultfilters import date, truncatechars
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from gallery.templatetags.gallery_urls import image_urls
from web.templatetags.ui import aspect_class, model_name

TEMPLATE = "gallery/_cards.jinja"


def _local_date(value, format_string: str) -> str:
    # Django's date filter, given the value in the current time zone as a template gives it.
    if value is not None and settings.USE_TZ and timezone.is_aware(value):
        value = timezone.localtime(value)
    return date(value, format_string)


@lru_cache(maxsize=4096)  # a generation's images share their prompt, a gallery its prompts
def _truncated(text: str, length: int, language: str | None) -> str:
    return truncatechars(text, length)


def _truncatechars(text, length: int) -> str:
    # Django's truncatechars (its "…" is translated: kept per language), once per prompt.
    return _truncated(str(text), length, get_language())


@lru_cache(maxsize=256)  # likeness 0-100 by "all faces": at most 202 badges
def _badge(likeness: int, all_faces_subject: bool) -> str:
    image = SimpleNamespace(likeness=likeness, all_faces_subject=all_faces_subject)
    return render_to_string("gallery/_likeness.html", {"image": image})


def likeness_badge(image) -> str:
    if settings.DEBUG:  # an edited template shows at once, as Django's own do
        _badge.cache_clear()
    return _badge(image.likeness, bool(image.all_faces_subject))


@lru_cache(maxsize=1)
def _demo_label() -> str:
    return render_to_string("components/ui.html#demo_label")


def demo_label() -> str:
    if settings.DEBUG:
        _demo_label.cache_clear()
    return _demo_label()


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in settings.TEMPLATES[0]["DIRS"]]),
        autoescape=True, auto_reload=settings.DEBUG, undefined=jinja2.StrictUndefined)
    env.filters.update(model_name=model_name, aspect_class=aspect_class,
                       truncatechars=_truncatechars, date=_local_date)
    env.globals.update(likeness_badge=likeness_badge, demo_label=demo_label)
    return env


def render_cards(images, *, view: str, eager: bool = False) -> str:
    """The cards of `images` (Image instances, or records of gallery.filters.CARD_FIELDS at
    least) as HTML, safe to put in a page."""
    return mark_safe(environment().get_template(TEMPLATE).render(  # noqa: S308 (autoescaped)
        images=images, view=view, eager=bool(eager), image_url=image_urls()))
