"""A grouped bar chart as inline SVG: enough for the CLV report without a plotting library."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

WIDTH, HEIGHT = 760, 320
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 36, 56
COLOURS = ("#4c72b0", "#dd8452", "#55a868")
Y_TICKS = 5
# More category labels than this would overlap: label every n-th category instead.
MAX_X_LABELS = 10


def _nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten at or above the value, for round axis labels."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def _label(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == 0 else f"{value:.2g}"


def bar_chart(
    title: str,
    categories: Sequence[str],
    series: Mapping[str, Sequence[float]],
    x_label: str,
    y_label: str,
) -> str:
    """Bars per category, one colour per series, with axes, ticks and a legend."""
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top_value = _nice_ceiling(max((max(values, default=0.0) for values in series.values()), default=0.0))
    slot = plot_width / max(len(categories), 1)
    bar = slot * 0.8 / max(len(series), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'font-family="sans-serif" font-size="11" role="img" aria-label="{escape(title)}">',
        f'<text x="{WIDTH / 2}" y="18" text-anchor="middle" font-size="14">{escape(title)}</text>',
    ]
    for tick in range(Y_TICKS + 1):
        value = top_value * tick / Y_TICKS
        y = TOP + plot_height * (1 - tick / Y_TICKS)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_label(value)}</text>')
    label_every = math.ceil(len(categories) / MAX_X_LABELS)
    for index, category in enumerate(categories):
        x0 = LEFT + index * slot + slot * 0.1
        for number, (name, values) in enumerate(series.items()):
            height = plot_height * values[index] / top_value
            parts.append(
                f'<rect x="{x0 + number * bar:.1f}" y="{TOP + plot_height - height:.1f}" '
                f'width="{bar:.1f}" height="{height:.1f}" fill="{COLOURS[number % len(COLOURS)]}">'
                f"<title>{escape(name)} {escape(category)}: {values[index]:,.2f}</title></rect>"
            )
        if index % label_every == 0 or index == len(categories) - 1:
            parts.append(
                f'<text x="{LEFT + (index + 0.5) * slot:.1f}" y="{TOP + plot_height + 16}" '
                f'text-anchor="middle">{escape(category)}</text>'
            )
    parts += [
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_height}" y2="{TOP + plot_height}" '
        'stroke="#333"/>',
        f'<text x="{LEFT + plot_width / 2}" y="{HEIGHT - 10}" text-anchor="middle">{escape(x_label)}</text>',
        f'<text transform="translate(16 {TOP + plot_height / 2}) rotate(-90)" text-anchor="middle">'
        f"{escape(y_label)}</text>",
    ]
    for number, name in enumerate(series):
        x = WIDTH - RIGHT - 150
        y = TOP + 4 + number * 16
        parts.append(
            f'<rect x="{x}" y="{y}" width="10" height="10" fill="{COLOURS[number % len(COLOURS)]}"/>'
        )
        parts.append(f'<text x="{x + 16}" y="{y + 9}">{escape(name)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)
