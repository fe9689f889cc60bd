"""The README's configuration tables must name every environment variable the settings read."""

from pathlib import Path

import likeness.settings  # noqa: F401  (reading the settings registers every name)
from likeness.env import KNOWN

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_every_setting_is_documented():
    missing = sorted(name for name in KNOWN if f"`{name}`" not in README)
    assert not missing, f"document these in the README: {missing}"


def test_the_first_section_shows_the_two_commands():
    first_section = README.split("\n## ", 1)[0]
    assert "scripts/serve" in first_section
    assert "scripts/test" in first_section
