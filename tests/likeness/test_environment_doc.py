"""docs/environment.md is generated from the settings (`manage.py settings_doc`): the committed
file must be exactly what the command writes now, and name every variable the settings read."""

from pathlib import Path

from django.core.management import call_command

import likeness.settings  # noqa: F401  (reading the settings registers every name)
from jobs.management.commands.settings_doc import render, settings_reads
from likeness.env import KNOWN

DOC = Path(__file__).resolve().parents[2] / "docs" / "environment.md"


def test_the_committed_environment_doc_is_up_to_date():
    assert DOC.read_text() == render(), (
        "docs/environment.md is out of date: run `python manage.py settings_doc`")
    call_command("settings_doc", "--check")


def test_every_variable_read_is_in_the_doc_with_its_meaning():
    text = DOC.read_text()
    names = {name for _, name, _ in settings_reads()}
    assert set(KNOWN) <= names  # the source scan sees every name read at run time, and more
    for name in names:
        row = next(line for line in text.splitlines() if line.startswith(f"| `{name}` |"))
        assert row.rstrip(" |").split("|")[-1].strip(), f"{name} has no meaning"
