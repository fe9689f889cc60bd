"""The bench's URL conf (bench/gallery_server.py): every URL of the product, plus the floors the
gallery is measured against, served by the same processes through the same middleware:

- /bench/ninja/images: a bare django-ninja endpoint (its own NinjaAPI, no auth, no schema) that
  answers the bytes of a real GET /api/v1/images page, precomputed;
- /bench/fragment: a bare Django view rendering a bare template (the bytes of a real gallery
  infinite-scroll fragment, verbatim) with no context, no query and no session.

The bytes are read once per process from the files named by BENCH_API_BODY and
BENCH_FRAGMENT_BODY, which the bench writes after fetching the real answers from this server."""

import os
from functools import cache
from pathlib import Path

from django.http import HttpResponse
from django.template import engines
from django.urls import path
from ninja import NinjaAPI

from likeness.urls import urlpatterns as product

bare = NinjaAPI(urls_namespace="bench_bare", docs_url=None, openapi_url=None)


@cache
def _api_body() -> bytes:
    return Path(os.environ["BENCH_API_BODY"]).read_bytes()


@cache
def _template():
    text = Path(os.environ["BENCH_FRAGMENT_BODY"]).read_text()
    assert "{% endverbatim %}" not in text
    return engines["django"].from_string("{% verbatim %}" + text + "{% endverbatim %}")


@bare.get("/images")
def bare_images(request):
    return HttpResponse(_api_body(), content_type="application/json; charset=utf-8")


def bare_fragment(request):
    return HttpResponse(_template().render({}))


# Each where its page's requests find theirs, so both walk the same URL conf: the bare API
# first, as the product's API is (likeness.urls), the bare fragment after the product's pages.
urlpatterns = [
    path("bench/ninja/", bare.urls),
    *product,
    path("bench/fragment", bare_fragment),
]
