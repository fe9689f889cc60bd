"""Settings of bench/gallery_server.py's web processes only: the product's settings, unchanged,
with bench/gallery_urls.py as the URL conf (the product's URLs plus two bare endpoints to
compare the gallery with). Selected with DJANGO_SETTINGS_MODULE=bench.gallery_settings; nothing
outside bench/ names it."""

from likeness.settings import *  # noqa: F403

ROOT_URLCONF = "bench.gallery_urls"
