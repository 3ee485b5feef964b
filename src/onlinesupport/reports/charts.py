"""Charts as SVG made on the server: no script, no chart library, readable at 1366x768 and on
paper (each series has its own colour and its own hatching, so a black-and-white print still
tells them apart). Every chart is drawn next to the table of the numbers it shows.

Text and lines take the page theme's colours (`currentColor` and classes that reports.css
colours with the theme's custom properties), so labels stay readable in dark mode; a count
written on a heatmap cell has a halo of the chart's background, so it reads on any shade."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from markupsafe import Markup

COLOURS = ("#2563eb", "#d97706", "#059669", "#7c3aed")
PATTERNS = ("", "stripes", "dots", "")
WIDTH = 640
FONT = 12


def _defs() -> str:
    return (
        '<defs><pattern id="stripes" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff" opacity="0.0"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#fff" stroke-width="2"/></pattern>'
        '<pattern id="dots" width="5" height="5" patternUnits="userSpaceOnUse">'
        '<circle cx="2.5" cy="2.5" r="1.2" fill="#fff"/></pattern></defs>'
    )


def _bar(x: float, y: float, w: float, h: float, series: int, title: str) -> str:
    colour, pattern = COLOURS[series % len(COLOURS)], PATTERNS[series % len(PATTERNS)]
    shape = f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{colour}"/>'
    if pattern:
        shape += (
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
            f'fill="url(#{pattern})"/>'
        )
    return f"<g><title>{escape(title)}</title>{shape}</g>"


def _nice_top(value: float) -> float:
    """The axis top: 1, 2 or 5 times a power of ten at or above `value`."""
    if value <= 0:
        return 1
    power = 1.0
    while power * 10 <= value:
        power *= 10
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def columns(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    label_every: int | None = None,
) -> Markup:
    """Grouped columns: one group per label, one column per series, with a value axis."""
    height, left, bottom, top = 240, 44, 40, 24
    plot_w, plot_h = WIDTH - left - 8, height - bottom - top
    peak = _nice_top(max((v for _, values in series for v in values), default=0))
    count = max(len(labels), 1)
    group = plot_w / count
    bar_w = max(1.0, group * 0.8 / max(len(series), 1))
    widest = max((len(_short(label)) for label in labels), default=1) * 7 + 8
    every = label_every or max(1, math.ceil(widest / group))
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" '
        f'font-size="{FONT}" font-family="sans-serif">',
        _defs(),
    ]
    for step in range(5):
        value = peak * step / 4
        y = top + plot_h - plot_h * step / 4
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{WIDTH - 8}" y2="{y:.1f}" '
            f'class="grid"/><text x="{left - 6}" y="{y + 4:.1f}" '
            f'text-anchor="end" class="axis">{value:g}</text>'
        )
    for i, label in enumerate(labels):
        x0 = left + i * group + group * 0.1
        for s, (name, values) in enumerate(series):
            value = values[i]
            h = plot_h * value / peak
            parts.append(
                _bar(x0 + s * bar_w, top + plot_h - h, bar_w, h, s, f"{label}: {name} {value:g}")
            )
        if i % every == 0:
            parts.append(
                f'<text x="{x0 + group * 0.4:.1f}" y="{height - bottom + 16}" '
                f'text-anchor="middle" fill="currentColor">{escape(_short(label))}</text>'
            )
    parts.append(_legend([name for name, _ in series], left, 14))
    parts.append("</svg>")
    return Markup("".join(parts))


def bars(title: str, items: Sequence[tuple[object, float]], unit: str = "") -> Markup:
    """Horizontal bars, one per item, with its value written at its end."""
    row, left = 24, 170
    height = row * max(len(items), 1) + 8
    peak = max((v for _, v in items), default=0) or 1
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" '
        f'font-size="{FONT}" font-family="sans-serif">',
        _defs(),
    ]
    for i, (label, value) in enumerate(items):
        y = 4 + i * row
        w = (WIDTH - left - 70) * value / peak
        parts.append(
            f'<text x="{left - 8}" y="{y + 15}" text-anchor="end" fill="currentColor">'
            f"{escape(_short(str(label), 26))}</text>"
        )
        parts.append(_bar(left, y + 3, w, row - 8, 0, f"{label}: {value:g}{unit}"))
        parts.append(
            f'<text x="{left + w + 6:.1f}" y="{y + 15}" fill="currentColor">'
            f"{value:g}{escape(unit)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def heatmap(title: str, rows: Sequence[str], grid: Sequence[Sequence[int]]) -> Markup:
    """Rows (days of the week) by 24 hours; darker is busier, and each cell says its count."""
    cell_w, cell_h, left, top = 24, 24, 44, 20
    width, height = left + 24 * cell_w + 4, top + len(rows) * cell_h + 4
    peak = max((n for row in grid for n in row), default=0) or 1
    parts = [
        f'<svg class="chart heat" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" '
        f'font-size="10" font-family="sans-serif">'
    ]
    for hour in range(0, 24, 2):
        parts.append(
            f'<text x="{left + hour * cell_w + cell_w / 2}" y="{top - 6}" '
            f'text-anchor="middle" class="axis">{hour:02d}</text>'
        )
    for r, name in enumerate(rows):
        y = top + r * cell_h
        parts.append(
            f'<text x="{left - 6}" y="{y + 16}" text-anchor="end" font-size="12" '
            f'fill="currentColor">{escape(name)}</text>'
        )
        for hour, count in enumerate(grid[r]):
            shade = 0.08 + 0.92 * count / peak if count else 0
            x = left + hour * cell_w
            parts.append(
                f"<g><title>{escape(name)} {hour:02d}:00: {count}</title>"
                f'<rect x="{x}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" '
                f'fill="#1d4ed8" fill-opacity="{shade:.2f}" class="cell"/>'
            )
            if count:
                parts.append(
                    f'<text x="{x + cell_w / 2 - 1}" y="{y + 15}" text-anchor="middle" '
                    f'fill="currentColor" class="count">{count}</text>'
                )
            parts.append("</g>")
    parts.append("</svg>")
    return Markup("".join(parts))


def _legend(names: Sequence[str], x: float, y: float) -> str:
    parts = []
    for i, name in enumerate(names):
        parts.append(_bar(x, y - 9, 12, 10, i, name))
        parts.append(f'<text x="{x + 16}" y="{y}" fill="currentColor">{escape(name)}</text>')
        x += 24 + 8 * len(name)
    return "".join(parts)


def _short(label: str, limit: int = 10) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
