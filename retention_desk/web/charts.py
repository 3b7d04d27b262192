"""Small server-side SVG charts: accessible (a title, a description, a title on every mark), no JavaScript.

Colours and sizes are SVG presentation attributes, not ``style``: the Content-Security-Policy allows no inline
styles.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

INK, GRID, MUTED = "#1f2933", "#d9e2ec", "#52606d"
COLOURS = ("#2b6cb0", "#c05621", "#2f855a", "#6b46c1")
FONT = 'font-family="system-ui, sans-serif"'


@dataclass(frozen=True)
class Bar:
    """One bar; ``low``/``high`` draw an interval across it (both or neither)."""

    label: str
    value: float | None
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Series:
    """One line of a line chart: a value (or None for a gap) per x label."""

    name: str
    values: Sequence[float | None]


def bar_chart(
    bars: Sequence[Bar],
    *,
    chart_id: str,
    title: str,
    description: str,
    fmt: Callable[[float], str],
    width: int = 640,
    row: int = 26,
    label_width: int = 200,
) -> Markup:
    """Horizontal bars from zero (negative values go left), with optional intervals; empty bars say "no data"."""
    top, bottom, right = 8, 24, 70
    height = top + bottom + row * max(len(bars), 1)
    numbers = [v for b in bars for v in (b.value, b.low, b.high) if v is not None]
    lo, hi = min([0.0, *numbers]), max([0.0, *numbers])
    if hi == lo:
        hi = lo + 1.0
    plot = width - label_width - right

    def x(v: float) -> float:
        return label_width + (v - lo) / (hi - lo) * plot

    parts = [_open(chart_id, title, description, width, height)]
    for tick in _ticks(lo, hi):
        parts.append(_line(x(tick), top, x(tick), height - bottom, GRID))
        parts.append(_text(x(tick), height - 6, fmt(tick), anchor="middle", fill=MUTED))
    for i, bar in enumerate(bars):
        y = top + i * row
        parts.append(f"<g><title>{escape(bar.label)}: {escape(_shown(bar, fmt))}</title>")
        parts.append(_text(label_width - 6, y + row * 0.65, _clip(bar.label, 30), anchor="end"))
        if bar.value is None:
            parts.append(_text(x(0) + 4, y + row * 0.65, "–", fill=MUTED))
        else:
            left, right_edge = sorted((x(0), x(bar.value)))
            parts.append(
                f'<rect x="{left:.1f}" y="{y + 4:.1f}" width="{max(right_edge - left, 1):.1f}" '
                f'height="{row - 8}" fill="{COLOURS[0]}"/>'
            )
            if bar.low is not None and bar.high is not None:
                mid = y + row / 2
                parts.append(_line(x(bar.low), mid, x(bar.high), mid, INK, 2))
                parts += [_line(x(e), mid - 6, x(e), mid + 6, INK, 2) for e in (bar.low, bar.high)]
            end = max(x(bar.value), x(bar.high) if bar.high is not None else 0)
            parts.append(_text(end + 4, y + row * 0.65, fmt(bar.value)))
        parts.append("</g>")
    parts.append(_line(x(0), top, x(0), height - bottom, INK))
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    chart_id: str,
    title: str,
    description: str,
    fmt: Callable[[float], str],
    y_max: float | None = None,
    width: int = 640,
    height: int = 240,
) -> Markup:
    """Lines over evenly spaced x labels from a zero baseline; a None value breaks the line; a legend if several."""
    left, right, top, bottom = 56, 16, 12, 40 if len(series) > 1 else 28
    numbers = [v for s in series for v in s.values if v is not None]
    hi = y_max if y_max is not None else max([0.0, *numbers])
    hi = hi or 1.0
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(labels) - 1, 1)

    def x(i: int) -> float:
        return left + (i * step if len(labels) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h - min(max(v, 0.0), hi) / hi * plot_h

    parts = [_open(chart_id, title, description, width, height)]
    for tick in _ticks(0.0, hi):
        parts.append(_line(left, y(tick), width - right, y(tick), GRID))
        parts.append(_text(left - 6, y(tick) + 4, fmt(tick), anchor="end", fill=MUTED))
    every = max(1, len(labels) // 8)  # at most about eight x labels, so they never overlap
    for i, label in enumerate(labels):
        if i % every == 0:
            parts.append(_text(x(i), top + plot_h + 16, _clip(label, 12), anchor="middle", fill=MUTED))
    for n, s in enumerate(series):
        colour = COLOURS[n % len(COLOURS)]
        for run in _runs(s.values):
            points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in run)
            if len(run) > 1:
                parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for i, v in enumerate(s.values):
            if v is not None and i < len(labels):
                parts.append(
                    f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3.5" fill="{colour}">'
                    f"<title>{escape(s.name)}, {escape(labels[i])}: {escape(fmt(v))}</title></circle>"
                )
        if len(series) > 1:
            lx = left + n * 160
            parts.append(f'<rect x="{lx}" y="{height - 14}" width="12" height="4" fill="{colour}"/>')
            parts.append(_text(lx + 16, height - 8, _clip(s.name, 22)))
    parts.append(_line(left, top + plot_h, width - right, top + plot_h, INK))
    parts.append("</svg>")
    return Markup("".join(parts))


def _open(chart_id: str, title: str, description: str, width: int, height: int) -> str:
    cid = escape(chart_id)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{cid}" role="img" '
        f'aria-labelledby="{cid}-title {cid}-desc" viewBox="0 0 {width} {height}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" {FONT} font-size="12">'
        f'<title id="{cid}-title">{escape(title)}</title><desc id="{cid}-desc">{escape(description)}</desc>'
    )


def _line(x1: float, y1: float, x2: float, y2: float, colour: str, width: int = 1) -> str:
    return f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}" stroke-width="{width}"/>'


def _text(x: float, y: float, text: str, *, anchor: str = "start", fill: str = INK) -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}">{escape(text)}</text>'


def _ticks(lo: float, hi: float, count: int = 4) -> list[float]:
    """About ``count`` round steps between lo and hi, always including zero when it is in range."""
    span = hi - lo
    raw = span / count
    magnitude = 10 ** _floor_log10(raw)
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = -(-lo // step) * step
    ticks, value = [], first
    while value <= hi + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    return ticks


def _floor_log10(value: float) -> int:
    exponent = 0
    while value >= 10:
        value, exponent = value / 10, exponent + 1
    while value < 1:
        value, exponent = value * 10, exponent - 1
    return exponent


def _runs(values: Sequence[float | None]) -> list[list[tuple[int, float]]]:
    """Consecutive non-None stretches, each as (index, value) pairs."""
    runs: list[list[tuple[int, float]]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((i, v))
    return [r for r in runs if r]


def _shown(bar: Bar, fmt: Callable[[float], str]) -> str:
    if bar.value is None:
        return "–"
    if bar.low is not None and bar.high is not None:
        return f"{fmt(bar.value)} ({fmt(bar.low)} … {fmt(bar.high)})"
    return fmt(bar.value)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
