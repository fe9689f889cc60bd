"""The one rule for text (likeness.text): what is refused, what counts as visible."""

import pytest

from likeness.text import printable, text_problem, visible


@pytest.mark.parametrize("value", ["a\x00b", "\x07", "bell\x1b[31m", "del\x7f", "csi\x9b",
                                   "\x85next line", "\ud800", "half \udfff"])
def test_control_characters_and_lone_surrogates_are_refused(value):
    assert text_problem(value)


@pytest.mark.parametrize("value", ["", "a portrait", "two\nlines\r\n\tand a tab",
                                   "café 東京 🦊", "\u200b zero width is allowed inside"])
def test_ordinary_text_passes(value):
    assert text_problem(value) is None


@pytest.mark.parametrize("value", ["", "   ", "\u200b\u200c\u200d", "\u2060\ufeff",
                                   "\u00a0\u3000", "\u3164\u115f\u1160\uffa0", "\u2800",
                                   "\u034f\u0301", "\U000e0041\U000e007f"])
def test_text_that_shows_nothing_is_not_visible(value):
    assert not visible(value)


@pytest.mark.parametrize("value", ["a", "7", "?", "🦊", " \u200b x"])
def test_a_single_visible_character_is_enough(value):
    assert visible(value)


def test_printable_drops_what_is_refused():
    assert printable("pho\x00to\x1b.jpg") == "photo.jpg"
    assert printable("\ud800.png") == "\ufffd.png"
    assert text_problem(printable("\x00\ud800\x9f")) is None
