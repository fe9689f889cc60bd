"""The prompt helper: a few words ("beach sunset", "office, confident") become a full prompt for a
subject class and a style, offline, by rules from this catalogue:

1. the words are cleaned (whitespace, stray punctuation, at most MAX_WORDS words);
2. the subject comes first ("a photo of TOK woman"), for a personal model, else nothing;
3. each word that names a known scene, time of day or mood brings its phrase
   (SCENES, TIMES, MOODS: "beach" → "on a sandy beach, waves behind"), unknown words are kept as
   written, so nothing the customer wrote is lost;
4. what is still missing is filled from the subject class's defaults (pose and framing for a
   person, for a pet) and the light from the time of day, else soft natural light;
5. the style's own template is applied last by the generation itself (generation.actions
   prompt_as_sent), so the helper does not repeat it; without a style it adds the camera words.

The same function serves the generate page ("Write it for me") and POST /prompts/expand.

With PROMPT_HELPER_MODEL and TOGETHER_API_KEY set, an LLM stands behind the same function
(providers.together.prompts, Together AI's chat completions): it gets the rules above as a
one-line system message (one English line for FLUX, every word kept, the subject phrase first,
no real people's names, nothing sexual, at most MAX_PROMPT_WORDS words) and the customer's words.
Its answer is tidied (its first line, quotes and labels stripped, at most MAX_PROMPT_WORDS words)
and must keep every word the customer wrote; without the trigger word it gets the subject phrase
in front, as the rules write it. Whatever goes wrong (the provider's error or timeout, an empty
answer, a refusal, lost words) gives the rules' prompt, with a warning in the log: the helper
never fails because the LLM did. The generation's prompt policy checks the final prompt later
either way."""

import logging
import re

from django.conf import settings

from providers.together import prompts as llm

logger = logging.getLogger(__name__)

MAX_WORDS = 30
MAX_PROMPT_WORDS = 60  # what the LLM may write
REFUSAL = re.compile(r"^(i'?m sorry|sorry|i can ?not|i can'?t|i won'?t|i'?m unable|i am unable|"
                     r"as an ai|unfortunately)\b", re.IGNORECASE)
LABEL = re.compile(r"^(here is|here's|prompt)\b[^:]{0,40}:\s*", re.IGNORECASE)
PHOTO_OF = re.compile(r"^an? (photo|picture|portrait)( of)?\b[\s,]*", re.IGNORECASE)
QUOTES = "\"'`“”‘’"

SCENES = {
    "beach": "on a sandy beach, waves behind",
    "sea": "by the sea, waves behind",
    "mountain": "on a mountain ridge, wide valley behind",
    "mountains": "on a mountain ridge, wide valley behind",
    "forest": "in a green forest, dappled light through the trees",
    "park": "in a leafy city park",
    "city": "on a busy city street",
    "street": "on a busy city street",
    "office": "in a bright modern office",
    "cafe": "at a café table",
    "café": "at a café table",
    "kitchen": "in a warm home kitchen",
    "library": "in a quiet library among tall bookshelves",
    "garden": "in a flower garden",
    "snow": "in fresh snow",
    "desert": "among desert dunes",
    "studio": "in a photo studio, plain backdrop",
    "stage": "on a stage under a spotlight",
    "home": "at home on a comfortable sofa",
    "paris": "on a Paris street, café terraces behind",
    "space": "floating in a spacecraft, Earth in the window",
}
TIMES = {
    "sunset": ("at sunset", "warm golden-hour light"),
    "sunrise": ("at sunrise", "soft pink morning light"),
    "morning": ("in the morning", "soft morning light"),
    "night": ("at night", "city lights and soft neon glow"),
    "evening": ("in the evening", "warm lamp light"),
    "winter": ("in winter", "cool diffuse light"),
    "summer": ("in summer", "bright sunlight"),
    "autumn": ("in autumn, falling leaves", "warm diffuse light"),
}
MOODS = {
    "confident": "confident expression",
    "happy": "genuine smile",
    "smiling": "genuine smile",
    "serious": "serious, thoughtful expression",
    "relaxed": "relaxed posture",
    "playful": "playful expression",
    "calm": "calm expression",
}
DEFAULTS = {
    "man": "looking at the camera, natural pose, head and shoulders in frame",
    "woman": "looking at the camera, natural pose, head and shoulders in frame",
    "person": "looking at the camera, natural pose, head and shoulders in frame",
    "child": "natural pose, playing happily",
    "dog": "sitting attentively, looking at the camera",
    "cat": "sitting calmly, looking at the camera",
}
CAMERA = "high detail, sharp focus, 50mm photo"


def clean(words: str) -> list[str]:
    text = re.sub(r"[^\w\s,'-]", " ", words or "")
    return [w for w in re.split(r"[\s,]+", text) if w][:MAX_WORDS]


def subject_phrase(subject_class: str | None, trigger_word: str | None) -> str:
    """What a prompt starts with: "a photo of TOK woman", "a photo" without a personal model,
    nothing for a subject class without its trigger word."""
    if subject_class and trigger_word:
        return f"a photo of {trigger_word} {subject_class}"
    return "" if subject_class else "a photo"


def expand(words: str, *, subject_class: str | None = None, trigger_word: str | None = None,
           style: str | None = None) -> str:
    """The full prompt for `words` (raises ValueError when there are none): the LLM's when one
    is configured and its answer is usable, else the rules'."""
    ruled = by_rules(words, subject_class=subject_class, trigger_word=trigger_word, style=style)
    model = settings.PROMPT_HELPER_MODEL
    if not model or not llm.available():
        return ruled
    try:
        return ask_llm(model, clean(words), subject_class=subject_class,
                       trigger_word=trigger_word, style=style)
    except Exception as exc:  # noqa: BLE001  (the helper never fails because the LLM did)
        logger.warning("The prompt helper's model %s failed, the rules wrote the prompt: %s",
                       model, exc)
        return ruled


def system_message(subject: str, style: str | None) -> str:
    start = f'Begin with "{subject}". ' if subject else ""
    styled = (f"The picture's style ({style}) adds its own wording later: do not name a camera. "
              if style else "")
    return ("You turn a customer's few words into one photo prompt for the FLUX image model. "
            "Answer with the prompt only: one line of English, no quotes, at most "
            f"{MAX_PROMPT_WORDS} words. Keep every word the customer wrote. {start}{styled}"
            "Add the scene, light, pose and framing that fit. Never name a real person, and "
            "write nothing sexual or explicit.")


def tidy(answer: str) -> str:
    """The answer's first line, without quotes or a "Prompt:" label, at most MAX_PROMPT_WORDS
    words."""
    line = next((line for line in (answer or "").splitlines() if line.strip()), "")
    text = LABEL.sub("", " ".join(line.split()).strip(QUOTES).strip()).strip(QUOTES).strip()
    return capped(text)


def capped(text: str) -> str:
    return " ".join(text.split()[:MAX_PROMPT_WORDS]).rstrip(" ,;:")


def ask_llm(model: str, tokens: list[str], *, subject_class: str | None,
            trigger_word: str | None, style: str | None) -> str:
    """The LLM's prompt for `tokens`; ValueError when its answer is not usable, ProviderError
    when the call failed."""
    subject = subject_phrase(subject_class, trigger_word)
    text = tidy(llm.complete(model, system_message(subject, style), " ".join(tokens),
                             max_tokens=160, temperature=0.7))
    if not text:
        raise ValueError("it answered nothing")
    if REFUSAL.match(text):
        raise ValueError(f"it refused: {text[:80]}")
    if trigger_word and not re.search(rf"(?<!\w){re.escape(trigger_word)}(?!\w)", text,
                                      re.IGNORECASE):
        text = capped(f"{subject}, {PHOTO_OF.sub('', text)}")
    lost = [t for t in tokens if not re.search(rf"(?<!\w){re.escape(t)}", text, re.IGNORECASE)]
    if lost:
        raise ValueError(f"it lost the words {lost}")
    return text


def by_rules(words: str, *, subject_class: str | None = None, trigger_word: str | None = None,
             style: str | None = None) -> str:
    """The rules' prompt for `words` (raises ValueError when there are none)."""
    tokens = clean(words)
    if not tokens:
        raise ValueError("Write a few words about the picture first.")
    scene, time_phrase, light, moods, kept = None, None, None, [], []
    for token in tokens:
        key = token.lower()
        if key in SCENES and scene is None:
            scene = SCENES[key]
        elif key in TIMES and time_phrase is None:
            time_phrase, light = TIMES[key]
        elif key in MOODS:
            if MOODS[key] not in moods:
                moods.append(MOODS[key])
        else:
            kept.append(token)
    subject = subject_phrase(subject_class, trigger_word)
    parts = [subject] if subject else []
    parts += [p for p in (scene, time_phrase) if p]
    if kept:
        parts.append(" ".join(kept))
    parts += moods
    if subject_class:
        parts.append(DEFAULTS.get(subject_class, DEFAULTS["person"]))
    parts.append(light or "soft natural light")
    if not style:
        parts.append(CAMERA)
    return ", ".join(parts)
