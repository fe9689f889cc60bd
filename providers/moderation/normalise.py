"""Text normalisation for the prompt policy: a prompt in, the ways it can be read out.

Obfuscations undone, in order:

1. Unicode NFKC: full-width letters, ligatures, circled and mathematical letters (``ｎａｋｅｄ``,
   ``𝐧𝐚𝐤𝐞𝐝``) become plain ones.
2. Invisible characters dropped: zero-width spaces and joiners, soft hyphens, bidi marks (every
   format character, Unicode category Cf), Hangul fillers, and stray combining marks
   (``n̶a̶k̶e̶d̶``); control characters and the blank Braille cell read as spaces.
3. Homoglyphs: a word that mixes Latin letters with look-alikes from other scripts (Cyrillic
   ``nаkеd``), or that is made only of look-alikes (``ѕех``), has each look-alike replaced by the
   Latin letter it imitates, from Unicode's confusables table (the ``confusable_homoglyphs``
   package) and a few additions in rules.toml. A word genuinely in another script is
   transliterated instead (``anyascii``), so Russian ``секс`` reads as ``seks``.
4. Accents and the rest of Unicode to ASCII (``anyascii``): ``ñáké́d`` -> ``naked``,
   ``ß`` -> ``ss``, ``🅽🅰🅺🅴🅳`` -> ``naked``, emoji to their names.
5. Case folded.

Then the folded text is read several ways ("views"), each a string of lower-case ASCII words
separated by single spaces, with a space at both ends, for the rules to match:

- plain: every character that is not a letter or a digit separates words;
- joined: punctuation inside a word is dropped (``n.a.k.e.d``, ``s-e-x``, ``nak_ed``);
- leet: digits and symbols inside a word read as the letters they stand for (``n4k3d``,
  ``pr0n``, ``$ex``, ``@ss``), once with ``1`` as ``i`` and once as ``l`` where there is one;
- wildcard: an asterisk between letters read as each vowel (``p*rn``).

In every view a run of three or more single letters is joined (``n a k e d``). Repeated letters
(``nuuude``) and plural or verb endings are left to the rules (rules.py), which match them.
"""

import re
import unicodedata
from functools import lru_cache

from anyascii import anyascii

# Letter look-alikes that Unicode's table maps to another non-ASCII letter rather than to a
# Latin one (Cyrillic к -> ĸ); rules.py fills this from rules.toml's [homoglyphs].
EXTRA_HOMOGLYPHS: dict[str, str] = {}

# Characters that render as nothing but are not of category Cf (Hangul fillers, a combining
# grapheme joiner is Mn and dropped with the other marks).
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0")
_SPACE_LIKE = frozenset("\u2800")

_LETTERS_OR_DIGITS = re.compile(r"[a-z0-9]+")
# Inside a word these may hide its letters: n.a.k.e.d, s-e-x, n_u_d_e, n*ked, n/a/k/e/d.
_INTRA = r".\-_*'`~+/\\|:^=!@$"
_PIECES = re.compile(rf"[a-z0-9{_INTRA}]+")
_LEET_CHARS = frozenset("01345789@$!|+")
_LEET_I = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
                         "9": "g", "@": "a", "$": "s", "!": "i", "|": "l", "+": "t"})
_LEET_L = str.maketrans({"1": "l"})
_WILDCARD = re.compile(r"[a-z]\*+[a-z]")


@lru_cache(maxsize=1)
def _confusables() -> dict:
    # The package loads its 900 kB table on import: only the first non-ASCII prompt pays for it.
    from confusable_homoglyphs.confusables import confusables_data

    return confusables_data


def _is_latin(char: str) -> bool:
    return unicodedata.name(char, "").startswith("LATIN")


def homoglyph(char: str) -> str | None:
    """The ASCII letter or digit that ``char`` (a letter of another script) imitates, or None."""
    return EXTRA_HOMOGLYPHS.get(char) or _unicode_homoglyph(char)


@lru_cache(maxsize=4096)
def _unicode_homoglyph(char: str) -> str | None:
    """homoglyph() from Unicode's table alone."""
    candidates = []
    for entry in _confusables().get(char, ()):
        bare = "".join(c for c in entry["c"] if not unicodedata.combining(c))
        if len(bare) == 1 and bare.isascii() and bare.isalnum():
            candidates.append(bare)
    if not candidates:
        return None
    # The same case as the original first (Greek Ι is I, not l), then letters before digits.
    candidates.sort(key=lambda c: (c.isupper() != char.isupper(), not c.isalpha()))
    return candidates[0]


def _fold_word(word: str) -> str:
    foreign = [c for c in word if c.isalpha() and not c.isascii() and not _is_latin(c)]
    latin_beside = any(c.isascii() and c.isalpha() or _is_latin(c) for c in word)
    # A word of look-alikes only is read by its looks if Unicode's table has every letter of it
    # (ѕех); one letter without a Latin twin there (к in секс) and it is a word of its script.
    by_look = bool(foreign) and (latin_beside or all(_unicode_homoglyph(c) for c in foreign))
    out = []
    for char in word:
        if char.isascii():
            out.append(char)
            continue
        kind = unicodedata.category(char)
        if kind in ("Cf", "Mn", "Me") or char in _FILLERS:
            continue
        if kind == "Cc" or char in _SPACE_LIKE:
            out.append(" ")
        elif by_look and char.isalpha() and not _is_latin(char) and homoglyph(char):
            out.append(homoglyph(char))
        else:
            out.append(anyascii(char))
    return "".join(out)


def fold(text: str) -> str:
    """Steps 1 to 5: the prompt as lower-case ASCII, punctuation kept."""
    text = unicodedata.normalize("NFKC", text)
    if not text.isascii():
        text = "".join(part if part.isascii() else _fold_word(part)
                       for part in re.split(r"(\s+)", text))
    return text.lower()


def _join_letter_runs(tokens: list[str], article: bool) -> list[str]:
    """n a k e d -> naked: three or more single letters in a row are one word. With
    ``article``, a run that starts with "a" or "i" keeps that as a word of its own: "a n a k e d"
    is "a naked" (and, read without it, "anaked")."""
    out: list[str] = []
    run: list[str] = []
    for token in [*tokens, ""]:
        if len(token) == 1 and token.isalpha():
            run.append(token)
            continue
        if article and len(run) >= 4 and run[0] in "ai":
            out.extend([run[0], "".join(run[1:])])
        else:
            out.extend(["".join(run)] if len(run) >= 3 else run)
        run = []
        if token:
            out.append(token)
    return out


def _view(tokens: list[str]) -> str:
    return " " + " ".join(_join_letter_runs(tokens, article=False)) + " "


def _article_view(tokens: list[str]) -> str:
    return " " + " ".join(_join_letter_runs(tokens, article=True)) + " "


def _alnum(piece: str) -> str:
    return "".join(_LETTERS_OR_DIGITS.findall(piece))


def _is_leet(piece: str) -> bool:
    return (not piece.isdigit() and any(c.isalpha() for c in piece)
            and any(c in _LEET_CHARS for c in piece))


def _leet(piece: str, table: dict) -> str:
    if not _is_leet(piece):
        return _alnum(piece)
    piece = piece.rstrip(".!:")  # sentence punctuation, not letters: "nice!" is not "nicei"
    return _alnum(piece.translate(table).translate(_LEET_I))


def views(folded: str) -> tuple[str, ...]:
    """The readings of a folded text (see the module's docstring), without repeats."""
    folded = folded.replace("'", "")  # hershey's, woman's: one word
    pieces = _PIECES.findall(folded)
    words = _LETTERS_OR_DIGITS.findall(folded)
    readings = [_view(words), _view([t for p in pieces if (t := _alnum(p))]),
                _article_view(words)]
    if any(_is_leet(p) for p in pieces):
        readings.append(_view([t for p in pieces if (t := _leet(p, {}))]))
        if "1" in folded:
            readings.append(_view([t for p in pieces if (t := _leet(p, _LEET_L))]))
    if _WILDCARD.search(folded):
        for vowel in "aeiou":
            readings.append(_view([t for p in pieces if (t := _alnum(p.replace("*", vowel)))]))
    return tuple(dict.fromkeys(readings))


def normalise(text: str) -> tuple[str, ...]:
    """fold() then views(): what the rules read."""
    return views(fold(text))
