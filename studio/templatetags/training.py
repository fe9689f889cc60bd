from django import template

register = template.Library()


@register.filter
def duration(value):
    """A timedelta as '4 min 05 s' or '1 h 02 min'."""
    if value is None:
        return "—"
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {seconds:02d} s"
    return f"{seconds} s"


@register.filter
def cents(value):
    """Cents as dollars: 200.5 -> '2.01'."""
    if value is None:
        return "—"
    return f"{float(value) / 100:,.2f}"
