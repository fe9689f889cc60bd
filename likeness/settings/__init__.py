"""Likeness settings: everything comes from the environment, with embedded defaults that run
the whole product offline on one machine (SQLite, local files, the database task queue, the
console mail outbox and the demo providers). One module per topic; each name is set once.
Product constants (prices, photo counts, batch limits) live in the catalogue and plans modules
of their apps, not here."""

from likeness.settings.core import *  # noqa: F403
from likeness.settings.jobs import *  # noqa: F403
from likeness.settings.product import *  # noqa: F403
from likeness.settings.providers import *  # noqa: F403
from likeness.settings.safety import *  # noqa: F403
from likeness.settings.security import *  # noqa: F403
