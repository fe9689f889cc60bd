"""{% gallery_cards %}: the cards of the context's `images` (in its `view`, "grid" or "list";
`eager` thumbnails for cards put on top), rendered by web.cards."""

from django import template

from web.cards import render_cards

register = template.Library()


@register.simple_tag(takes_context=True)
def gallery_cards(context) -> str:
    return render_cards(context["images"], view=context.get("view", "grid"),
                        eager=context.get("eager", False))
