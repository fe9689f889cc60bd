"""{% image_url 'image_detail' image.pk %}: what {% url 'image_detail' image.pk %} answers, with
the URL reversed once per name (for the URL conf and script prefix in force) instead of once
per image. A page of the gallery links every image three times, and reverse() took a tenth of
the page's time (bench/gallery_server.py --profile). An image's id is a UUID, which reverse()
never quotes, so the bytes are the same; anything else goes to reverse() itself."""

import uuid
from functools import lru_cache

from django import template
from django.urls import get_script_prefix, get_urlconf, reverse

register = template.Library()

_SLOT = uuid.UUID(int=0)


@lru_cache(maxsize=64)
def _around(name: str, urlconf, prefix: str) -> tuple[str, str]:
    head, _, tail = reverse(name, args=[_SLOT], urlconf=urlconf).rpartition(str(_SLOT))
    return head, tail


def around(name: str) -> tuple[str, str]:
    """The path of the URL `name` of an image, split where the image's id goes."""
    return _around(name, get_urlconf(), get_script_prefix())


def image_urls():
    """image_url() for one render: the URL conf and script prefix in force read once, not once
    per image (a page of cards links each image three times)."""
    urlconf, prefix = get_urlconf(), get_script_prefix()

    def image_url(name: str, pk) -> str:
        if not isinstance(pk, uuid.UUID):
            return reverse(name, args=[pk])
        head, tail = _around(name, urlconf, prefix)
        return f"{head}{pk}{tail}"

    return image_url


@register.simple_tag
def image_url(name: str, pk) -> str:
    return image_urls()(name, pk)
