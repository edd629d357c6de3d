"""Tiny inline SVG charts (no JavaScript, no external resources): a line chart and a bar histogram.

Every text that reaches the markup is escaped; NaN values break a line instead of drawing it to 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b")
Series = tuple[str, Sequence[tuple[float, float]]]

_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 16, 36, 46


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering ``[low, high]`` (1, 2, 5 x 10^k steps)."""
    if not math.isfinite(low) or not math.isfinite(high):
        return [0.0, 1.0]
    if high <= low:
        high = low + 1.0
    raw = (high - low) / max(1, count)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks = [round(start, 10)]
    while ticks[-1] < high:  # the last tick is at or above high: nothing is drawn off the plot
        ticks.append(round(start + len(ticks) * step, 10))
    return ticks


def _label(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value / 1000:g}k"
    return f"{value:g}"


def _open(chart_id: str, title: str, width: int, height: int) -> list[str]:
    return [
        f'<svg class="chart" id="{escape(chart_id)}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="{_LEFT}" y="20" class="chart-title">{escape(title)}</text>',
    ]


def _axes(parts: list[str], width: int, height: int, x_label: str, y_label: str) -> None:
    bottom = height - _BOTTOM
    parts.append(f'<line x1="{_LEFT}" y1="{bottom}" x2="{width - _RIGHT}" y2="{bottom}" class="axis"/>')
    parts.append(f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{bottom}" class="axis"/>')
    parts.append(
        f'<text x="{(_LEFT + width - _RIGHT) / 2:.1f}" y="{height - 8}" text-anchor="middle" '
        f'class="axis-label">{escape(x_label)}</text>'
    )
    parts.append(
        f'<text transform="translate(14 {(_TOP + bottom) / 2:.1f}) rotate(-90)" text-anchor="middle" '
        f'class="axis-label">{escape(y_label)}</text>'
    )


def _y_grid(parts: list[str], ticks: list[float], scale_y: Callable[[float], float], width: int) -> None:
    for tick in ticks:
        y = scale_y(tick)
        parts.append(f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{width - _RIGHT}" y2="{y:.1f}" class="grid"/>')
        parts.append(
            f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{_label(tick)}</text>'
        )


def _empty(parts: list[str], width: int, height: int) -> str:
    parts.append(
        f'<text x="{width / 2:.1f}" y="{height / 2:.1f}" text-anchor="middle" class="no-data">'
        "no data</text></svg>"
    )
    return "".join(parts)


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    x_label: str,
    y_label: str,
    chart_id: str,
    width: int = 900,
    height: int = 300,
    x_range: tuple[float, float] | None = None,
) -> str:
    """Lines over a shared x axis; a legend on top right; gaps where a value is NaN.

    ``x_range`` fixes the x axis (so charts of one run line up); by default it spans the data.
    """
    parts = _open(chart_id, title, width, height)
    finite = [(x, y) for _, points in series for x, y in points if math.isfinite(x) and math.isfinite(y)]
    _axes(parts, width, height, x_label, y_label)
    if not finite:
        return _empty(parts, width, height)
    x_low, x_high = x_range or (min(x for x, _ in finite), max(x for x, _ in finite))
    if x_high <= x_low:
        x_high = x_low + 1.0
    y_ticks = nice_ticks(0.0, max(max(y for _, y in finite), 0.0) or 1.0)
    y_high = y_ticks[-1]
    plot_w, plot_h = width - _LEFT - _RIGHT, height - _TOP - _BOTTOM

    def sx(x: float) -> float:
        return _LEFT + (x - x_low) / (x_high - x_low) * plot_w

    def sy(y: float) -> float:
        return _TOP + plot_h - (y / y_high) * plot_h

    _y_grid(parts, y_ticks, sy, width)
    for tick in nice_ticks(x_low, x_high, 8):
        if x_low <= tick <= x_high:
            parts.append(
                f'<text x="{sx(tick):.1f}" y="{height - _BOTTOM + 16}" text-anchor="middle" '
                f'class="tick">{_label(tick)}</text>'
            )
    for index, (name, points) in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        segments: list[list[tuple[float, float]]] = [[]]
        for x, y in points:
            if math.isfinite(x) and math.isfinite(y) and x_low <= x <= x_high:
                segments[-1].append((x, y))
            elif segments[-1]:
                segments.append([])
        cls = f"series series-{index}"
        for segment in segments:
            if len(segment) == 1:
                x, y = segment[0]
                parts.append(
                    f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.5" fill="{colour}" class="{cls}"/>'
                )
            elif segment:
                coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in segment)
                parts.append(
                    f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="1.8" '
                    f'class="{cls}"><title>{escape(name)}</title></polyline>'
                )
        legend_x = width - _RIGHT - 150 * (len(series) - index)
        parts.append(
            f'<rect x="{legend_x}" y="10" width="12" height="12" fill="{colour}"/>'
            f'<text x="{legend_x + 16}" y="20" class="legend">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    x_label: str,
    y_label: str,
    chart_id: str,
    width: int = 900,
    height: int = 300,
    colour: str = PALETTE[0],
) -> str:
    """One bar per label, its value written above it and in a tooltip."""
    parts = _open(chart_id, title, width, height)
    _axes(parts, width, height, x_label, y_label)
    if not values or not any(v > 0 for v in values):
        return _empty(parts, width, height)
    y_ticks = nice_ticks(0.0, max(values))
    y_high = y_ticks[-1]
    plot_w, plot_h = width - _LEFT - _RIGHT, height - _TOP - _BOTTOM
    slot = plot_w / len(values)

    def sy(y: float) -> float:
        return _TOP + plot_h - (y / y_high) * plot_h

    _y_grid(parts, y_ticks, sy, width)
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = _LEFT + index * slot + slot * 0.12
        top = sy(value)
        shown = f"{value:g}"
        parts.append(
            f'<rect x="{x:.1f}" y="{top:.1f}" width="{slot * 0.76:.1f}" height="{_TOP + plot_h - top:.1f}" '
            f'fill="{colour}" class="bar"><title>{escape(label)}: {shown}</title></rect>'
        )
        if value > 0:
            parts.append(
                f'<text x="{x + slot * 0.38:.1f}" y="{top - 4:.1f}" text-anchor="middle" '
                f'class="bar-value">{shown}</text>'
            )
        parts.append(
            f'<text x="{x + slot * 0.38:.1f}" y="{height - _BOTTOM + 16}" text-anchor="middle" '
            f'class="tick">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
