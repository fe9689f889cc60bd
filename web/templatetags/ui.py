"""The class strings of the design system, defined once. Templates use them through
templates/components/*.html and these tags, so a button or a badge looks the same everywhere."""

from django import template

from generation.catalogue import BASE_MODELS, INSTANT_MODEL
from generation.styles import STYLES

register = template.Library()

_FOCUS = ("focus-visible:outline-2 focus-visible:outline-offset-2 "
          "focus-visible:outline-violet-600")
BUTTON_BASE = ("inline-flex items-center justify-center gap-2 rounded-lg font-medium "
               "whitespace-nowrap transition-colors disabled:pointer-events-none "
               f"disabled:opacity-50 cursor-pointer {_FOCUS}")
BUTTON_SIZES = {
    "sm": "px-2.5 py-1.5 text-xs",
    "md": "px-4 py-2 text-sm",
    "lg": "px-5 py-2.5 text-base",
}
BUTTON_VARIANTS = {
    # White on violet-600/700 keeps 4.5:1 in both themes (violet-500 does not).
    "primary": "bg-violet-600 text-white shadow-sm hover:bg-violet-700 "
               "dark:bg-violet-600 dark:hover:bg-violet-700",
    "secondary": "border border-zinc-300 bg-white text-zinc-900 shadow-xs hover:bg-zinc-50 "
                 "dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100 "
                 "dark:hover:bg-zinc-800",
    "danger": "bg-red-600 text-white shadow-sm hover:bg-red-700",
    "ghost": "text-zinc-700 hover:bg-zinc-100 hover:text-zinc-900 dark:text-zinc-300 "
             "dark:hover:bg-zinc-800 dark:hover:text-white",
}

# One colour per state across the product (ARCHITECTURE.md, "Look and feel").
_TONES = {
    "grey": "bg-zinc-100 text-zinc-700 ring-zinc-500/20 "
            "dark:bg-zinc-400/10 dark:text-zinc-300 dark:ring-zinc-400/20",
    "amber": "bg-amber-50 text-amber-800 ring-amber-600/20 "
             "dark:bg-amber-400/10 dark:text-amber-300 dark:ring-amber-400/20",
    "orange": "bg-orange-50 text-orange-800 ring-orange-600/20 "
              "dark:bg-orange-400/10 dark:text-orange-300 dark:ring-orange-400/20",
    "blue": "bg-blue-50 text-blue-700 ring-blue-600/20 "
            "dark:bg-blue-400/10 dark:text-blue-300 dark:ring-blue-400/20",
    "green": "bg-emerald-50 text-emerald-700 ring-emerald-600/20 "
             "dark:bg-emerald-400/10 dark:text-emerald-300 dark:ring-emerald-400/20",
    "red": "bg-red-50 text-red-700 ring-red-600/20 "
           "dark:bg-red-400/10 dark:text-red-300 dark:ring-red-400/20",
    "violet": "bg-violet-50 text-violet-700 ring-violet-600/20 "
              "dark:bg-violet-400/10 dark:text-violet-300 dark:ring-violet-400/20",
}
_DOTS = {"grey": "bg-zinc-400", "amber": "bg-amber-500", "orange": "bg-orange-500",
         "blue": "bg-blue-500", "green": "bg-emerald-500", "red": "bg-red-500",
         "violet": "bg-violet-500"}
STATUS_TONES = {
    "draft": "grey",
    "queued": "amber",
    "running": "blue",
    "training": "blue",
    "ready": "green",
    "succeeded": "green",
    "active": "green",
    "partial": "orange",  # some images made, the rest refunded: a warning, not a failure
    "failed": "red",
    "canceled": "grey",
    "revoked": "grey",
    "demo": "violet",
}
BUSY_STATES = {"running", "training"}

# Surfaces and text styles used on every page.
CLASSES = {
    "card": "rounded-xl border border-zinc-200 bg-white shadow-xs "
            "dark:border-zinc-800 dark:bg-zinc-900",
    "card_header": "flex items-center justify-between gap-4 border-b border-zinc-200 px-5 py-4 "
                   "dark:border-zinc-800",
    "card_title": "text-base font-semibold text-zinc-900 dark:text-white",
    "h1": "text-2xl font-semibold tracking-tight text-zinc-900 dark:text-white",
    "h2": "text-lg font-semibold text-zinc-900 dark:text-white",
    "muted": "text-sm text-zinc-500 dark:text-zinc-400",
    "link": "font-medium text-violet-700 underline-offset-2 hover:underline dark:text-violet-400",
    "label": "block text-sm font-medium text-zinc-800 dark:text-zinc-200",
    "table": "min-w-full divide-y divide-zinc-200 text-sm dark:divide-zinc-800",
    "th": "px-5 py-3 text-left text-xs font-medium uppercase tracking-wide text-zinc-500 "
          "dark:text-zinc-400",
    "td": "px-5 py-3 align-middle text-zinc-700 dark:text-zinc-300",
    "code": "rounded-md bg-zinc-100 px-1.5 py-0.5 font-mono text-xs text-zinc-800 "
            "dark:bg-zinc-800 dark:text-zinc-200",
}


@register.simple_tag
def button_class(variant="primary", size="md"):
    return f"{BUTTON_BASE} {BUTTON_SIZES.get(size, BUTTON_SIZES['md'])} " \
           f"{BUTTON_VARIANTS.get(variant, BUTTON_VARIANTS['primary'])}"


@register.simple_tag
def badge_class(status):
    tone = STATUS_TONES.get(str(status), "grey")
    return ("inline-flex items-center gap-1.5 rounded-full px-2 py-0.5 text-xs font-medium "
            f"ring-1 ring-inset {_TONES[tone]}")


@register.simple_tag
def badge_dot_class(status):
    tone = STATUS_TONES.get(str(status), "grey")
    pulse = " animate-pulse" if str(status) in BUSY_STATES else ""
    return f"size-1.5 rounded-full {_DOTS[tone]}{pulse}"


# Full class names (not built from pieces) so Tailwind finds them in this file.
ASPECT_CLASSES = {
    "1:1": "aspect-square",
    "4:5": "aspect-[4/5]",
    "3:4": "aspect-[3/4]",
    "2:3": "aspect-[2/3]",
    "9:16": "aspect-[9/16]",
    "16:9": "aspect-[16/9]",
}


@register.filter
def aspect_class(ratio):
    return ASPECT_CLASSES.get(str(ratio), "aspect-square")


@register.simple_tag
def cls(name):
    return CLASSES[name]


@register.filter
def model_name(base_model_id):
    model = BASE_MODELS.get(str(base_model_id))
    if model is None and str(base_model_id) == INSTANT_MODEL.id:
        model = INSTANT_MODEL
    return model.name if model else base_model_id


@register.filter
def style_name(style_id):
    """A style's name from its id ("" for none)."""
    style = STYLES.get(str(style_id or ""))
    return style.name if style else (style_id or "")


@register.filter
def pending_slots(generation):
    """One item per image of a running generation that is neither stored nor failed yet."""
    if generation.is_finished:
        return range(0)
    missing = generation.num_images - generation.images.count() - len(generation.failures)
    return range(max(0, missing))


@register.filter
def percent(part, whole):
    """An integer 0-100 for progress bars; 0 when the whole is empty."""
    try:
        return max(0, min(100, round(100 * float(part) / float(whole))))
    except (TypeError, ValueError, ZeroDivisionError):
        return 0
