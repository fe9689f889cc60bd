"""The word and phrase rules of the prompt policy, read from rules.toml and compiled to regular
expressions over the views of a prompt (normalise.py).

A term is written in a small pattern language (rules.toml's header describes it):

- ``nude``: the word, or its plural (nudes); each letter may be repeated (``nuuude``), and a
  doubled letter must stay at least doubled (``ass`` never matches ``as``);
- ``strip*``: the word with its inflections too (strips, stripped, stripping, stripper; the
  stem may drop a final e, so ``seduc*`` is seduce, seduced, seducing; and -y, -ic, -ia, -al,
  -ist, -ism);
- ``=sex``: the word exactly (no plural);
- ``shot in the {body_part}``: a phrase, one word after the other; ``{name}`` is any entry of
  the named set, ``(her|his|their)`` any of the alternatives (each may be several words), a
  trailing ``?`` makes the part before it optional, and ``~`` (or ``~2``) stands for up to three
  (or two) words of anything.

Rules of kind ``word`` match whole words and phrases; kind ``regex`` takes raw regular
expressions (whole words of a view) for the little the language cannot say (``12yo``). Rules
of kind ``inside`` match a single word anywhere inside a longer one too (``nakedwoman``),
unless one of the rule's exceptions covers the match (``sex`` inside ``sussex``); the rest of
such a word is then read as words too (``nakedkid`` has ``kid``).

``masks`` are phrases that are safe however they read (``nude lipstick``, ``bloody mary``,
``no nudity``): they are cut out of a view before the rules read it.
"""

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from itertools import groupby
from pathlib import Path

from providers.moderation import normalise

RULES_FILE = Path(__file__).with_name("rules.toml")
_PART = re.compile(r"\{(\w+)\}(\?)?|\(([^()]*)\)(\?)?|~(\d*)|([^\s{}()~]+)")


@dataclass(frozen=True)
class Hit:
    category: str
    term: str  # the rule's term as written in rules.toml
    text: str  # what it matched, normalised


class RuleError(ValueError):
    pass


def word_regex(word: str) -> str:
    """One word: every letter may be repeated, a run of n letters needs at least n of them."""
    out = []
    for char, run in groupby(word):
        count = len(list(run))
        if char.isalpha():
            # "nn*" rather than "n+": a literal first lets the regex engine skip a term fast.
            out.append(char * count + char + "*")
        else:
            out.append(re.escape(char) * count)
    return "".join(out)


def inflected_regex(word: str) -> str:
    """A word with its plural (``nude``), exactly (``=nude``), or inflected (``strip*``)."""
    if not re.fullmatch(r"=?[a-z0-9]+\*?", word):
        raise RuleError(f"not a word of the pattern language: {word!r}")
    if word.startswith("="):
        return word_regex(word[1:])
    if not word.endswith("*"):
        return word_regex(word) + "(?:e?s)?"
    stem = word[:-1]
    forms = [word_regex(stem) + "(?:s|e|es|ed|d|ing|ings|er|ers|r|rs|y|ic|ia|al|ist|ists|ism)?"]
    if stem.endswith("e"):  # rape -> raping
        forms.append(word_regex(stem[:-1]) + "ing")
    if stem.endswith("y"):  # flirty -> flirties, tidy -> tidied
        forms.append(word_regex(stem[:-1]) + "(?:ies|ied|ier|iest|ily)")
    return "(?:" + "|".join(forms) + ")"


def fragment(pattern: str, sets: dict[str, list[str]], sep: str = " ") -> str:
    """A phrase of the pattern language as a regex in which every word ends with ``sep`` (a
    space; with "" the phrase as one word, as the joined view reads "nude-coloured")."""
    out = []
    for name, name_opt, alternatives, alt_opt, gap, word in _PART.findall(pattern):
        if name:
            if name not in sets:
                raise RuleError(f"unknown set {{{name}}} in {pattern!r}")
            part = "(?:" + "|".join(fragment(entry, sets, sep) for entry in sets[name]) + ")"
            out.append(part + name_opt)
        elif alternatives:
            options = [a.strip() for a in alternatives.split("|")]
            part = "(?:" + "|".join(fragment(a, sets, sep) for a in options if a) + ")"
            out.append(part + alt_opt)
        elif not word:  # a gap: ~ or ~N
            out.append(f"(?:[a-z0-9]+{sep}){{0,{int(gap) if gap else 3}}}")
        else:
            out.append(inflected_regex(word) + sep)
    if not out:
        raise RuleError(f"empty pattern: {pattern!r}")
    return "".join(out)


@dataclass(frozen=True)
class Group:
    """Rules of one kind and one set of categories, compiled to one regular expression."""

    categories: tuple[str, ...]
    kind: str  # "word", "inside" or "regex"
    terms: tuple[str, ...]
    regex: re.Pattern  # every term at once, to find a match fast
    term_regexes: tuple[re.Pattern, ...]  # each term alone, to say which one it was
    exceptions: tuple[tuple[re.Pattern, ...], ...]  # per term, for kind "inside"
    masked: bool = True  # reads the views with the masks cut out (false: as they are)

    def hits(self, view: str):
        for match in self.regex.finditer(view):
            index = next(i for i, r in enumerate(self.term_regexes)
                         if r.match(view, match.start()))
            if self.kind == "inside" and self._excepted(view, match, self.exceptions[index]):
                continue
            text = match.group(0).strip()
            for category in self.categories:
                yield Hit(category, self.terms[index], text), match.start(), match.end()

    @staticmethod
    def _excepted(view: str, match: re.Match, exceptions: tuple[re.Pattern, ...]) -> bool:
        """Whether an exception (with its plural, its letters repeated) covers the match."""
        start = view.rfind(" ", 0, match.start()) + 1
        end = view.find(" ", match.end())
        word = view[start:end]
        at, until = match.start() - start, match.end() - start
        for exception in exceptions:
            for found in exception.finditer(word):
                if found.start() <= at and until <= found.end():
                    return True
        return False


@dataclass(frozen=True)
class Rules:
    groups: tuple[Group, ...]
    masks: re.Pattern
    levels: dict
    negative: dict  # bare, garments, dressed, filler: each a regex of one word


def _group(rule: dict, sets: dict) -> Group:
    categories = rule["category"]
    categories = (categories,) if isinstance(categories, str) else tuple(categories)
    kind = rule.get("kind", "word")
    terms = tuple(rule["terms"])
    exceptions_of = rule.get("except", {})
    if kind == "word":
        parts = [fragment(t, sets) for t in terms]
        before, after = "(?<= )", ""
    elif kind == "inside":
        parts = [inflected_regex(t) for t in terms]
        before, after = "", ""
    elif kind == "regex":  # raw regular expressions over a view, for what the language lacks
        parts = list(terms)
        before, after = "(?<= )", "(?= )"
    else:
        raise RuleError(f"unknown kind {kind!r}")
    regex = re.compile(before + "(?:" + "|".join(parts) + ")" + after)
    term_regexes = tuple(re.compile(before + "(?:" + p + ")" + after) for p in parts)
    unknown = set(exceptions_of) - set(terms)
    if unknown:
        raise RuleError(f"exceptions for terms that are not in the rule: {sorted(unknown)}")
    exceptions = tuple(tuple(re.compile(inflected_regex(x)) for x in exceptions_of.get(t, ()))
                       for t in terms)
    return Group(categories, kind, terms, regex, term_regexes, exceptions,
                 rule.get("masked", True))


def _one_word(words: list[str]) -> re.Pattern:
    return re.compile("(?:" + "|".join(inflected_regex(w) for w in words) + ")")


@lru_cache(maxsize=1)
def load(path: Path = RULES_FILE) -> Rules:
    with open(path, "rb") as file:
        data = tomllib.load(file)
    normalise.EXTRA_HOMOGLYPHS.update(data.get("homoglyphs", {}))
    sets = data.get("sets", {})
    groups = tuple(_group(rule, sets) for rule in data["rules"])
    spaced = "|".join(fragment(m, sets) for m in data["masks"]["terms"])
    joined = "|".join(fragment(m, sets, "") for m in data["masks"]["terms"] if " " in m)
    negative = data["negative"]
    return Rules(
        groups=groups, masks=re.compile(f"(?<= )(?:(?:{spaced})|(?:{joined}) )"),
        levels=data["levels"],
        negative={key: _one_word(negative[key])
                  for key in ("bare", "garments", "dressed", "filler")})


def hits(text_views: tuple[str, ...], rules: Rules) -> list[Hit]:
    """Every rule that matches any view of a prompt, once per (category, term)."""
    found: dict[tuple[str, str], Hit] = {}
    for raw in text_views:
        view = rules.masks.sub("", raw)
        cuts: set[int] = set()
        for group in rules.groups:
            for hit, start, end in group.hits(view if group.masked else raw):
                found.setdefault((hit.category, hit.term), hit)
                if group.kind == "inside":
                    cuts.update((start, end))
        if cuts:
            # A word found inside a longer one splits it, so the rest of it is read as words
            # too: "nakedkid" is "naked kid", and "kid" counts.
            split = re.sub(" +", " ", "".join(f" {c}" if i in cuts else c
                                              for i, c in enumerate(view)))
            for group in (g for g in rules.groups if g.masked):
                for hit, _, _ in group.hits(split):
                    found.setdefault((hit.category, hit.term), hit)
    return list(found.values())


_ITEM_SEPARATORS = re.compile(r"[,;|\n()\[\]{}<>]+|\band\b|\bor\b")


def negative_hits(negative_prompt: str, mode: str, rules: Rules,
                  prompt_views: tuple[str, ...] = ()) -> list[Hit]:
    """A negative prompt that would take clothes off. With mode "bare", an item of it (between
    commas) made only of clothing words ("clothes", "underwear, bra", "(clothing:1.3)"), or
    only of garments ("shirt and shorts") when the prompt does not dress the person in
    something else; with mode "any", any clothing word at all ("ugly clothes", "jacket")."""
    if mode == "off" or not negative_prompt.strip():
        return []
    bare, garments, filler = (rules.negative[k] for k in ("bare", "garments", "filler"))
    dressed = any(rules.negative["dressed"].fullmatch(w) for v in prompt_views for w in v.split())
    found: dict[str, Hit] = {}
    folded = normalise.fold(negative_prompt)
    items = [folded] if mode == "any" else _ITEM_SEPARATORS.split(folded)
    for item in items:
        for view in normalise.views(item):
            words = [w for w in view.split() if not w.isdigit() and not filler.fullmatch(w)]
            named = [w for w in words if bare.fullmatch(w) or garments.fullmatch(w)]
            if not named:
                continue
            if mode == "bare" and (len(named) < len(words) or (
                    dressed and not any(bare.fullmatch(w) for w in named))):
                continue
            text = " ".join(named)
            found.setdefault(text, Hit("undress", "negative prompt: clothing", text))
    return list(found.values())
