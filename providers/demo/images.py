"""The offline demo provider: deterministic, seed-dependent abstract pictures with the prompt's
words in them. They are clearly labelled as demo output, never presented as AI images."""

import io
import random
import re
import time

from django.conf import settings
from PIL import Image, ImageDraw, ImageFilter, ImageFont, PngImagePlugin

from likeness.errors import ProviderError
from providers.demo import enhance, faces, instant
from providers.interfaces import ImageProvider, ImageRequest, ModelCheck, ProviderImage

DEMO_LABEL = "Likeness demo output - not an AI image"

PALETTES = [
    ((76, 29, 149), (236, 72, 153)),
    ((30, 64, 175), (45, 212, 191)),
    ((24, 24, 27), (139, 92, 246)),
    ((154, 52, 18), (250, 204, 21)),
    ((6, 78, 59), (163, 230, 53)),
    ((15, 23, 42), (56, 189, 248)),
    ((127, 29, 29), (251, 146, 60)),
    ((49, 46, 129), (244, 114, 182)),
]


def _font(size: int):
    return ImageFont.load_default(size=size)


def _words(prompt: str) -> list[str]:
    words = re.findall(r"[\w'-]+", prompt)
    return [w for w in words if len(w) > 2][:12] or ["demo"]


def render(prompt: str, seed: int, width: int, height: int) -> Image.Image:
    """The same prompt, seed and size always give the same picture."""
    rng = random.Random(f"{seed}:{width}x{height}:{prompt}")
    top, bottom = rng.choice(PALETTES)
    if rng.random() < 0.5:
        top, bottom = bottom, top
    # A vertical gradient, drawn at a small height and stretched: fast at any size.
    gradient = Image.new("RGB", (1, 256))
    for y in range(256):
        t = y / 255
        pixel = tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        gradient.putpixel((0, y), pixel)
    canvas = gradient.resize((width, height), Image.Resampling.BILINEAR)

    shapes = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(shapes)
    for _ in range(14):
        radius = rng.randint(min(width, height) // 12, min(width, height) // 3)
        cx, cy = rng.randint(0, width), rng.randint(0, height)
        colour = (rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255),
                  rng.randint(40, 110))
        box = (cx - radius, cy - radius, cx + radius, cy + radius)
        if rng.random() < 0.6:
            draw.ellipse(box, fill=colour)
        else:
            draw.rounded_rectangle(box, radius=radius // 4, fill=colour)
    shapes = shapes.filter(ImageFilter.GaussianBlur(radius=max(2, min(width, height) // 120)))
    canvas = Image.alpha_composite(canvas.convert("RGBA"), shapes)

    draw = ImageDraw.Draw(canvas)
    base_size = max(18, min(width, height) // 14)
    for word in _words(prompt):
        size = rng.randint(base_size // 2, base_size)
        font = _font(size)
        x = rng.randint(0, max(1, width - size * len(word) // 2))
        y = rng.randint(0, max(1, height - size * 2))
        draw.text((x, y), word, font=font, fill=(255, 255, 255, rng.randint(150, 235)))

    # The label: always present, always legible.
    band = max(28, height // 18)
    draw.rectangle((0, height - band, width, height), fill=(0, 0, 0, 170))
    label_font = _font(int(band * 0.5))
    draw.text((band // 3, height - band + band // 4), f"DEMO - not AI · seed {seed}",
              font=label_font, fill=(255, 255, 255, 255))
    return canvas.convert("RGB")


def encode_png(image: Image.Image, prompt: str, seed: int) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", "Likeness demo provider")
    info.add_text("Comment", DEMO_LABEL)
    info.add_text("Description", f"seed={seed}; prompt={prompt[:500]}")
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info, compress_level=3)
    return out.getvalue()


def mark_subject(image: Image.Image, trigger_word: str, name: str, seed: int, *,
                 silhouette: bool = True) -> Image.Image:
    """With a personal model: a "personal model" badge, and, when the demo weights hold no
    face (providers.demo.faces), a stand-in silhouette of the subject with its trigger word, so
    the flow is visible offline."""
    width, height = image.size
    canvas = image.convert("RGBA")
    layer = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    rng = random.Random(f"subject:{trigger_word}")  # the same subject in every picture
    colour = (rng.randint(160, 255), rng.randint(120, 230), rng.randint(90, 200), 235)
    unit = min(width, height)
    head = unit // 11
    label_font = _font(max(14, unit // 16))
    figure = head * 6 + unit // 10  # head, body and the trigger word under it
    cx = width // 2 + random.Random(seed).randint(-width // 8, width // 8)
    top = max(unit // 20, (height - figure) // 2)
    if silhouette:
        draw.ellipse((cx - head, top, cx + head, top + 2 * head), fill=colour)
        draw.rounded_rectangle((cx - int(head * 2.1), top + int(head * 2.3),
                                cx + int(head * 2.1), top + head * 6), radius=head, fill=colour)
        draw.text((cx, top + head * 6 + unit // 60), trigger_word, font=label_font,
                  fill=(255, 255, 255, 255), anchor="mt", stroke_width=max(2, unit // 200),
                  stroke_fill=(0, 0, 0, 220))
    _badge(draw, width, unit, f"personal model · {name}", (109, 40, 217, 235))
    return Image.alpha_composite(canvas, layer).convert("RGB")


def _badge(draw: ImageDraw.ImageDraw, width: int, unit: int, text: str, fill) -> None:
    """A label in the top right corner."""
    badge_font = _font(max(14, unit // 22))
    text = text[:48]
    pad = max(6, unit // 60)
    box = draw.textbbox((0, 0), text, font=badge_font)
    right = width - pad
    left = right - (box[2] - box[0]) - 2 * pad
    draw.rounded_rectangle((left, pad, right, pad * 3 + box[3] - box[1]), radius=pad, fill=fill)
    draw.text((left + pad, pad * 2 - box[1]), text, font=badge_font, fill=(255, 255, 255, 255))


def mark_instant(image: Image.Image) -> Image.Image:
    """Instant mode's badge: the picture was drawn from a photo, without training."""
    canvas = image.convert("RGBA")
    layer = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    _badge(ImageDraw.Draw(layer), canvas.width, min(canvas.size), "instant preview",
           (14, 116, 144, 235))
    return Image.alpha_composite(canvas, layer).convert("RGB")


class DemoProvider(ImageProvider):
    name = "demo"
    label = "Demo (offline)"
    is_demo = True
    multi_lora = True

    operations = enhance.OPERATIONS

    def supports(self, request) -> bool:
        return True

    def enhance(self, request) -> ProviderImage:
        time.sleep(settings.DEMO_PROVIDER_DELAY)
        return enhance.enhance(request)

    def check_models(self, models: list[str]) -> list[ModelCheck]:
        return [ModelCheck(model, f"demo/{model}", True, "drawn offline") for model in models]

    offers_instant = True

    def instant(self, request: ImageRequest) -> list[ProviderImage]:
        """Instant mode offline (providers.demo.instant): the reference's face drawn in."""
        if request.reference is None:
            raise ProviderError("Instant mode needs a reference photo.", transient=False,
                                code="invalid_request")
        crop = instant.face_crop(request.reference)
        return self.generate(request, compose=lambda picture, seed: mark_instant(
            instant.draw(picture, request, seed, crop)))

    def generate(self, request: ImageRequest, compose=None) -> list[ProviderImage]:
        # A prompt word lets tests and demos see the failure paths without a real provider.
        if "[fail]" in request.prompt:
            raise ProviderError("The demo provider was asked to fail.", transient=False,
                                code="demo_failure")
        images = []
        for offset in range(request.num_images):
            seed = request.seed + offset
            time.sleep(settings.DEMO_PROVIDER_DELAY)
            picture = render(request.prompt, seed, request.width, request.height)
            if compose is not None:
                picture = compose(picture, seed)
            loras = request.loras
            for place, lora in enumerate(loras):
                if lora.demo_faces:  # the second person's face drawn with its own seed
                    picture = faces.compose(picture, lora.demo_faces, seed + 7919 * place,
                                            lora.scale, lora.demo_best_scale)
            if loras:
                picture = mark_subject(picture, " & ".join(lora.trigger_word for lora in loras),
                                       " & ".join(lora.name for lora in loras), seed,
                                       silhouette=not all(lora.demo_faces for lora in loras))
            images.append(
                ProviderImage(
                    data=encode_png(picture, request.prompt, seed),
                    content_type="image/png",
                    width=request.width,
                    height=request.height,
                    seed=seed,
                    metadata={"demo": True, "label": DEMO_LABEL},
                )
            )
        return images
