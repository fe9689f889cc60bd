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

The same function serves the generate page ("Write it for me") and POST /prompts/expand. An LLM
could stand behind the same function later; none is needed for this."""

import re

MAX_WORDS = 30

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


def expand(words: str, *, subject_class: str | None = None, trigger_word: str | None = None,
           style: str | None = None) -> str:
    """The full prompt for `words` (raises ValueError when there are none)."""
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
    parts = []
    if subject_class and trigger_word:
        parts.append(f"a photo of {trigger_word} {subject_class}")
    elif not subject_class:
        parts.append("a photo")
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
