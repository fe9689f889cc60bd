"""The prompt policy: an offline classifier of sexual, violent and hateful requests.

    from providers.moderation import check
    verdict = check(prompt, negative_prompt=negative, level="standard")
    if not verdict.allowed:
        ...  # show verdict.message to the customer, log verdict.matches for the operator

Pure Python, no Django: word and phrase rules (rules.toml, compiled by rules.py) over a
normalised prompt (normalise.py undoes case, Unicode look-alikes, accents, invisible characters,
leetspeak, separators inside words and repeated letters).

Levels:

- ``"base"``: generations with base models. Refuses only sexual content involving minors.
- ``"standard"``: personal models of adults and pets. No sexual or nude content, no undressing
  (in the prompt or through the negative prompt), no graphic violence or gore, no hate, no
  self-harm.
- ``"strict"``: personal models of children. The standard rules, and anything suggestive or
  romantic (sexy, kissing, beds and baths, swimwear, underwear and lingerie, bare skin), and any
  negative prompt that names clothing ("clothes", "shirt", even "ugly clothes").

A level is a :class:`Level`; ``LEVELS`` holds the three above (from rules.toml) and a caller may
pass its own, e.g. ``dataclasses.replace(LEVELS["base"], refuse=LEVELS["base"].refuse |
{"hate"})`` to refuse hate at the base level too.

Pass the personal model's ``trigger_word`` too: it is read as "TOK" (a random trigger word can
hold a rule's letters). The rules are English, with a few foreign words. How well they do is
measured by bench/prompt_policy.py: on prompts written after the rules, few false refusals but
about one refused request in five missed, so this is a first line, not the only one.

Categories of a refusal (``Verdict.categories``):

- ``sexual``: sexual or nude content, sex acts, pornography;
- ``sexual_minors``: sexualised content involving a minor: a term that is that on its own, or a
  sexual, suggestive or undressing term beside a word that makes a person a child ("teen",
  "12 year old", "schoolgirl"), at every level; at the strict level any sexual, suggestive or
  undressing request, since the person is a child;
- ``undress``: taking off or seeing through clothes, from the prompt or the negative prompt;
- ``suggestive``: sexualised or intimate content (strict level only);
- ``violence``: graphic violence or gore against people or animals;
- ``hate``: slurs, hate symbols and slogans, dehumanising a group;
- ``self_harm``: suicide and self-harm.
"""

import re
from dataclasses import dataclass, field

from providers.moderation import normalise, rules

CATEGORIES = ("sexual_minors", "sexual", "undress", "suggestive", "violence", "hate",
              "self_harm")
# What a refusal says it refused, in words a customer reads; never the words of the prompt.
_REASONS = {
    "sexual_minors": "sexual or suggestive content involving a minor",
    "sexual": "sexual or nude content",
    "undress": "removing or seeing through clothing",
    "suggestive": "suggestive, romantic or revealing content",
    "violence": "graphic violence or gore",
    "hate": "hateful content or symbols",
    "self_harm": "self-harm or suicide",
}
_STRICT_NOTE = ("This model is of a child, so prompts with anything suggestive or romantic, "
                "swimwear, underwear or bare skin can't be used with it.")
_SELF_HARM_NOTE = ("If you are struggling, please reach out to someone you trust or to a local "
                   "helpline.")
_NEGATIVE_NOTE = "The negative prompt counts too: it must not remove clothing."


@dataclass(frozen=True)
class Level:
    name: str
    refuse: frozenset[str]  # categories of rules.toml that are refused
    negative: str = "bare"  # "off", "bare" (an item that is only clothing) or "any"
    subject_is_minor: bool = False


@dataclass
class Verdict:
    allowed: bool
    categories: list[str] = field(default_factory=list)  # among CATEGORIES
    matches: list[str] = field(default_factory=list)  # for the operator's log, never shown
    message: str = ""  # for the customer: what was refused, without repeating it


def _levels() -> dict[str, Level]:
    return {name: Level(name, frozenset(spec["refuse"]), spec.get("negative", "bare"),
                        spec.get("subject_is_minor", False))
            for name, spec in rules.load().levels.items()}


LEVELS: dict[str, Level] = _levels()


def _public(category: str) -> str:
    return "suggestive" if category == "intimate" else category


def message_for(categories: list[str], level: Level, *, negative: bool = False) -> str:
    """The customer's sentence for a refusal of these categories."""
    shown = list(categories)
    if level.subject_is_minor and len(shown) > 1 and "sexual_minors" in shown:
        shown.remove("sexual_minors")  # the note below says it
    reasons = [_REASONS[c] for c in shown]
    listed = reasons[0] if len(reasons) == 1 else ", ".join(reasons[:-1]) + " and " + reasons[-1]
    parts = [f"This prompt can't be used: it asks for {listed}, which isn't allowed."]
    if level.subject_is_minor and set(categories) & {"sexual_minors", "suggestive", "undress"}:
        parts.append(_STRICT_NOTE)
    if negative:
        parts.append(_NEGATIVE_NOTE)
    if "self_harm" in categories:
        parts.append(_SELF_HARM_NOTE)
    parts.append("Please change the prompt and try again.")
    return " ".join(parts)


def check(prompt: str, *, negative_prompt: str = "", level: str | Level = "standard",
          trigger_word: str = "") -> Verdict:
    """The policy's verdict on one generation request.

    ``trigger_word``: the personal model's made-up word for its subject, if the prompt has it.
    It is read as ``TOK``, so that its letters never count: a random word may hold a rule's
    (``pedoma``, ``lolira``), and the rules know ``TOK`` as the person."""
    lv = level if isinstance(level, Level) else LEVELS[level]
    if trigger_word:
        word = re.compile(rf"(?<![a-z0-9]){re.escape(trigger_word)}(?![a-z0-9])", re.IGNORECASE)
        prompt, negative_prompt = word.sub("TOK", prompt), word.sub("TOK", negative_prompt)
    loaded = rules.load()
    views = normalise.normalise(prompt)
    found = rules.hits(views, loaded)
    from_negative = rules.negative_hits(negative_prompt, lv.negative, loaded, views)
    found += from_negative

    seen = {hit.category for hit in found}
    minor_terms = [h.text for h in found if h.category == "minor"]
    sexualised = [h for h in found if h.category in ("sexual", "suggestive", "undress")]
    derived = []
    if minor_terms and sexualised:
        derived.append(f"sexual_minors: {sexualised[0].text!r} beside {minor_terms[0]!r}")
    if lv.subject_is_minor and (sexualised or "intimate" in seen):
        derived.append("sexual_minors: the model is of a child")
    if derived:
        seen.add("sexual_minors")

    refused = {_public(c) for c in seen if c in lv.refuse}
    if not refused:
        return Verdict(allowed=True)
    categories = [c for c in CATEGORIES if c in refused]
    matches = [f"{_public(h.category)}: {h.text!r}"
               + (" (in the negative prompt)" if h in from_negative else "")
               for h in found if _public(h.category) in refused
               or (h.category == "minor" and "sexual_minors" in refused)]
    if "sexual_minors" in refused:
        matches += derived
    negative = any(_public(h.category) in refused for h in from_negative)
    return Verdict(allowed=False, categories=categories, matches=list(dict.fromkeys(matches)),
                   message=message_for(categories, lv, negative=negative))
