"""What text a person may send: one rule for every text field, used by the forms
(TextFieldsMixin), the API's schemas and the actions that store text.

Refused: control characters (NUL and the rest of C0 and C1, DEL) other than tab, line feed and
carriage return, which no person types and some databases cannot store (PostgreSQL refuses NUL);
and unpaired surrogates, which JSON can spell ("\\ud800") but which are not characters at all
and cannot be encoded for the database. A required text with nothing visible in it (spaces,
zero-width and other invisible characters only) counts as empty (`visible`)."""

import re
import unicodedata

from django import forms
from django.core.exceptions import ValidationError

from likeness.errors import InvalidInput

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# Letters and symbols that draw nothing: the Hangul fillers and the braille blank.
_BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800")

CONTROL_MESSAGE = "Remove the control character (such as NUL) from this text."
SURROGATE_MESSAGE = "This text holds a broken character (an unpaired surrogate); type it again."


def text_problem(value: str) -> str | None:
    """Why `value` cannot be taken as text, or None when it can."""
    if _CONTROL.search(value):
        return CONTROL_MESSAGE
    if _SURROGATE.search(value):
        return SURROGATE_MESSAGE
    return None


def visible(value: str) -> bool:
    """Whether `value` shows anything: a letter, digit, punctuation mark or symbol that is
    not blank (spaces, zero-width characters, joiners and marks alone show nothing)."""
    return any(unicodedata.category(ch)[0] in "LNPS" and ch not in _BLANK_LOOKING
               for ch in value)


def clean_text(value: str, field: str) -> str:
    """`value` as it came; InvalidInput (422) naming `field` when it cannot be taken."""
    problem = text_problem(value or "")
    if problem:
        raise InvalidInput(field, problem)
    return value


def printable(value: str) -> str:
    """`value` without what text_problem refuses, for names we keep but do not ask for again
    (an upload's file name)."""
    return _SURROGATE.sub("\ufffd", _CONTROL.sub("", value))


def validate_text(value) -> None:
    """A Django validator for text fields."""
    if isinstance(value, str) and (problem := text_problem(value)):
        raise ValidationError(problem, code="invalid_text")


class TextFieldsMixin:
    """A form whose every text field takes only what text_problem allows."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # the form's own copies of its fields
            if isinstance(field, forms.CharField) and validate_text not in field.validators:
                field.validators.append(validate_text)
