"""The model page's likeness chart: each validation score per LoRA strength as a dot, the
medians joined by a line, in a small inline SVG (no script, no library)."""

from django import template

register = template.Library()

WIDTH, HEIGHT, PAD = 320, 160, 28


@register.inclusion_tag("studio/_likeness_chart.html")
def likeness_chart(report: dict):
    rows = report.get("scales") or []
    if not rows:
        return {"rows": []}
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD

    def x(index):
        return PAD + (inner_w * index / (len(rows) - 1) if len(rows) > 1 else inner_w / 2)

    def y(score):
        return PAD + inner_h * (1 - score / 100)

    columns = []
    for index, row in enumerate(rows):
        dots = [{"x": round(x(index) + (n - (len(row["scores"]) - 1) / 2) * 6, 1),
                 "y": round(y(s), 1), "score": s} for n, s in enumerate(row["scores"])]
        columns.append({"x": round(x(index), 1), "scale": row["scale"], "median": row["median"],
                        "median_y": round(y(row["median"]), 1), "dots": dots,
                        "best": row["scale"] == report.get("best_scale")})
    grid = [{"y": round(y(v), 1), "value": v} for v in (0, 50, 100)]
    line = " ".join(f"{c['x']},{c['median_y']}" for c in columns)
    return {"rows": columns, "grid": grid, "line": line, "width": WIDTH, "height": HEIGHT,
            "left": PAD, "right": WIDTH - PAD, "bottom": HEIGHT - PAD + 16}
