"""Style presets: a prompt template and a parameter set each, in one catalogue, so a customer
gets a good picture without prompt craft. Parameters the customer sets win over a style's."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Style:
    id: str
    name: str
    description: str
    template: str  # "{prompt}" is the customer's prompt (with the trigger word)
    negative_prompt: str = ""
    guidance: float | None = None
    steps: int | None = None
    aspect_ratio: str | None = None  # the suggested shape
    suggestions: tuple[str, ...] = field(default_factory=tuple)

    def apply(self, prompt: str) -> str:
        return self.template.replace("{prompt}", prompt.strip())


STYLES: dict[str, Style] = {s.id: s for s in [
    Style("headshot", "Professional headshot",
          "A clean studio portrait for a company page or a speaker bio.",
          "professional headshot of {prompt}, studio lighting, neutral grey backdrop, sharp "
          "focus on the eyes, 85mm lens, shallow depth of field",
          negative_prompt="blurry, distorted face, extra limbs, watermark", guidance=3.5,
          aspect_ratio="4:5",
          suggestions=("in a navy blazer, friendly smile", "in a white shirt, confident look")),
    Style("linkedin", "LinkedIn portrait",
          "Approachable and polished, in a bright modern office.",
          "{prompt}, business casual portrait, bright modern office in the background, soft "
          "natural window light, approachable expression, high detail",
          negative_prompt="blurry, harsh shadows, watermark", guidance=3.0, aspect_ratio="1:1",
          suggestions=("arms crossed, smiling", "holding a coffee cup, relaxed")),
    Style("cinematic", "Cinematic",
          "A still from a film: dramatic light, anamorphic look, colour grading.",
          "cinematic film still of {prompt}, dramatic rim lighting, anamorphic lens, teal and "
          "orange colour grading, volumetric haze, 35mm film grain",
          negative_prompt="cartoon, flat lighting", guidance=4.0, aspect_ratio="16:9",
          suggestions=("walking through a neon-lit street at night", "on a rooftop at dusk")),
    Style("editorial", "Fashion editorial",
          "A magazine spread: bold styling, strong pose, studio flash.",
          "high-fashion editorial photo of {prompt}, bold styling, strong pose, studio flash, "
          "vogue magazine aesthetic, crisp detail",
          negative_prompt="amateur, blurry", guidance=3.5, aspect_ratio="2:3",
          suggestions=("in an oversized red coat", "in a sculptural white dress")),
    Style("fantasy", "Fantasy",
          "Epic fantasy art: armour, magic, otherworldly light.",
          "epic fantasy portrait of {prompt}, ornate armour, glowing magical light, "
          "otherworldly landscape, highly detailed digital painting",
          guidance=4.5, aspect_ratio="2:3",
          suggestions=("as an elven archer in an ancient forest", "as a wizard casting a spell")),
    Style("watercolour", "Watercolour",
          "A loose, airy watercolour painting on textured paper.",
          "watercolour painting of {prompt}, loose brush strokes, soft pastel washes, white "
          "paper texture, delicate ink outlines",
          negative_prompt="photo, photorealistic", guidance=3.0, aspect_ratio="3:4",
          suggestions=("reading in a sunny garden", "by the sea with a straw hat")),
    Style("vintage", "Vintage film",
          "Warm 1970s film photo: faded colours, grain, light leaks.",
          "vintage 1970s film photograph of {prompt}, kodak portra colours, faded tones, soft "
          "grain, light leaks, nostalgic mood",
          guidance=3.0, aspect_ratio="4:5",
          suggestions=("on a road trip by an old car", "at a summer picnic")),
    Style("outdoor", "Outdoor adventure",
          "Mountains, trails and golden light for the adventurous.",
          "{prompt}, outdoor adventure photo, dramatic mountain landscape, golden hour light, "
          "hiking gear, wide angle, vivid colours",
          guidance=3.5, aspect_ratio="3:4",
          suggestions=("on a summit above the clouds", "kayaking on a glacier lake")),
    Style("pet-portrait", "Pet portrait",
          "A studio portrait made for a good dog (or a proud cat).",
          "studio portrait of {prompt}, soft key light, dark backdrop, fur in sharp detail, "
          "catchlights in the eyes",
          negative_prompt="blurry, deformed paws", guidance=3.5, aspect_ratio="4:5",
          suggestions=("wearing a tiny bow tie", "sitting on a velvet cushion")),
]}

# Prompt ideas per subject class of a personal model ({subject} is "TOK man" etc.).
SUBJECT_SUGGESTIONS: dict[str, tuple[str, ...]] = {
    "man": ("a photo of {subject} in a tailored suit, city street",
            "a photo of {subject} hiking at sunrise", "a photo of {subject} as an astronaut"),
    "woman": ("a photo of {subject} in a summer dress, Paris café",
              "a photo of {subject} on a sailing boat", "a photo of {subject} as a jazz singer"),
    "person": ("a photo of {subject} at a mountain lake", "a photo of {subject} in a library",
               "a photo of {subject} as a chef in a busy kitchen"),
    "child": ("a photo of {subject} building a sandcastle",
              "a photo of {subject} as a little explorer in the jungle",
              "a photo of {subject} reading under a blanket fort"),
    "dog": ("a photo of {subject} running on the beach",
            "a photo of {subject} wearing sunglasses",
            "a photo of {subject} in a field of flowers"),
    "cat": ("a photo of {subject} on a sunny windowsill",
            "a photo of {subject} as a royal portrait",
            "a photo of {subject} in a cardboard box"),
}
GENERAL_SUGGESTIONS = (
    "a lighthouse on a cliff at dusk, dramatic clouds",
    "a cosy reading nook with warm lamp light",
    "a red fox in fresh snow, morning light",
)


def subject_suggestions(subject_class: str, trigger_word: str) -> list[str]:
    subject = f"{trigger_word} {subject_class}"
    return [s.replace("{subject}", subject) for s in SUBJECT_SUGGESTIONS.get(subject_class, ())]
