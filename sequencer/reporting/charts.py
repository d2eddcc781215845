"""Inline SVG charts for the HTML report: bars with interval whiskers, a heat map, the
sales funnel.

No JavaScript: each mark carries a ``<title>`` (a tooltip where browsers show one),
each chart a title and description for screen readers, and the page shows the same
figures as a table next to every chart.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from sequencer.reporting.dimensions import WEEKDAYS
from sequencer.reporting.stats import TOO_SMALL, Rate

INK, BAR, WHISKER, MUTED, GRID = "#1a1a1a", "#1f5fa8", "#0b2545", "#8a8a8a", "#d9d9d9"
_ids = itertools.count(1)  # ids unique within a page, for aria-labelledby


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    rate: Rate


def bar_chart(title: str, bars: Sequence[Bar], *, width: int = 760) -> str:
    """Horizontal bars of rates, each with its 95% interval as a whisker; bars on too
    small a base are drawn as an outline and say so."""
    if not bars:
        return '<p class="empty">No emails in this scope yet.</p>'
    label_width, row, top = 230, 28, 30
    plot = width - label_width - 150
    readable = [b for b in bars if not b.rate.too_small] or list(bars)
    top_rate = max([0.05] + [b.rate.interval[1] for b in readable if b.rate.denominator])
    scale = _nice(top_rate)
    height = top + row * len(bars) + 30
    ident = next(_ids)
    parts = [_open(width, height, ident, title,
                   f"{len(bars)} bars from 0 to {scale:.0%}; whiskers are 95% intervals")]
    parts += _axis(label_width, plot, top, height - 30, scale)
    for i, bar in enumerate(bars):
        parts.append(_bar(bar, label_width, plot, top + i * row, row, scale))
    parts.append("</svg>")
    return "".join(parts)


def _open(width: int, height: int, ident: int, title: str, desc: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="t{ident} d{ident}" '
            f'font-family="system-ui, sans-serif" font-size="13">'
            f'<title id="t{ident}">{escape(title)}</title><desc id="d{ident}">{escape(desc)}'
            "</desc>")


def _axis(left: int, plot: int, top: int, bottom: int, scale: float) -> list[str]:
    parts = []
    for step in range(5):
        value = scale * step / 4
        x = left + plot * step / 4
        parts.append(f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{bottom}" '
                     f'stroke="{GRID}"/>')
        parts.append(f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle" '
                     f'fill="{INK}">{value * 100:.0f}%</text>')
    return parts


def _bar(bar: Bar, left: int, plot: int, y: float, row: int, scale: float) -> str:
    rate, mid = bar.rate, y + row / 2
    value = rate.value or 0.0
    low, high = rate.interval
    length = plot * min(value / scale, 1.0)
    label = (f'<text x="{left - 8}" y="{mid + 4:.1f}" text-anchor="end" fill="{INK}">'
             f"{escape(_clip(bar.label, 32))}</text>")
    tip = f"<title>{escape(bar.label)}: {escape(rate.text())}</title>"
    if rate.too_small:
        return (f"<g>{tip}{label}<rect x=\"{left}\" y=\"{y + 5}\" width=\"{max(length, 1):.1f}\""
                f' height="{row - 10}" fill="none" stroke="{MUTED}" stroke-dasharray="4 3"/>'
                f'<text x="{left + max(length, 1) + 8:.1f}" y="{mid + 4:.1f}" fill="#5c5c5c">'
                f"{TOO_SMALL} ({rate.numerator}/{rate.denominator})</text></g>")
    x_low, x_high = (left + plot * min(v / scale, 1.0) for v in (low, high))
    return (f"<g>{tip}{label}"
            f'<rect x="{left}" y="{y + 5}" width="{length:.1f}" height="{row - 10}" '
            f'fill="{BAR}"/>'
            f'<line x1="{x_low:.1f}" y1="{mid:.1f}" x2="{x_high:.1f}" y2="{mid:.1f}" '
            f'stroke="{WHISKER}" stroke-width="1.5"/>'
            f'<line x1="{x_low:.1f}" y1="{mid - 6:.1f}" x2="{x_low:.1f}" y2="{mid + 6:.1f}" '
            f'stroke="{WHISKER}" stroke-width="1.5"/>'
            f'<line x1="{x_high:.1f}" y1="{mid - 6:.1f}" x2="{x_high:.1f}" y2="{mid + 6:.1f}" '
            f'stroke="{WHISKER}" stroke-width="1.5"/>'
            f'<text x="{x_high + 8:.1f}" y="{mid + 4:.1f}" fill="{INK}">{value * 100:.1f}% '
            f"({rate.numerator}/{rate.denominator})</text></g>")


@dataclass(frozen=True, slots=True)
class FunnelStage:
    """One bar of the funnel chart: a count, and what it says about the bar before."""

    label: str
    count: int
    unit: tuple[str, str]  # singular and plural: ("call", "calls")
    note: str = ""  # a conversion rate in words, shown after the count

    @property
    def noun(self) -> str:
        return self.unit[0] if self.count == 1 else self.unit[1]

    @property
    def counted(self) -> str:
        """``1 call``, ``1,204 calls``."""
        return f"{self.count:,} {self.noun}"


def funnel_chart(title: str, stages: Sequence[FunnelStage], *, width: int = 860) -> str:
    """Horizontal bars of counts, widest first, each followed by its count and its
    conversion from the stage before: the shape of a funnel, readable as text too."""
    label_width, row, top = 190, 34, 12
    plot = width - label_width - 380
    widest = max([1] + [s.count for s in stages])
    height = top + row * len(stages) + 8
    ident = next(_ids)
    parts = [_open(width, height, ident, title,
                   "; ".join(f"{s.label}: {s.counted}" + (f" ({s.note})" if s.note else "")
                             for s in stages))]
    for i, stage in enumerate(stages):
        y = top + i * row
        mid = y + row / 2
        length = max(plot * stage.count / widest, 1.0)
        note = (f'<tspan fill="#4a4a4a"> · {escape(stage.note)}</tspan>' if stage.note
                else "")
        parts.append(
            f"<g><title>{escape(stage.label)}: {escape(stage.counted)}"
            f"{escape(f' ({stage.note})' if stage.note else '')}</title>"
            f'<text x="{label_width - 8}" y="{mid + 4:.1f}" text-anchor="end" fill="{INK}">'
            f"{escape(_clip(stage.label, 28))}</text>"
            f'<rect x="{label_width}" y="{y + 5}" width="{length:.1f}" height="{row - 10}" '
            f'fill="{BAR if stage.count else GRID}"/>'
            f'<text x="{label_width + length + 8:.1f}" y="{mid + 4:.1f}" fill="{INK}">'
            f'<tspan font-weight="600">{stage.count:,}</tspan> '
            f"{escape(stage.noun)}{note}</text></g>")
    parts.append("</svg>")
    return "".join(parts)


def heat_map(title: str, cells: dict[tuple[int, int], Rate]) -> str:
    """Reply rate by local weekday (rows, Monday first) and local hour (columns)."""
    cell, left, top = 26, 48, 26
    width, height = left + 24 * cell + 10, top + 7 * cell + 60
    ident = next(_ids)
    readable = [r.value or 0.0 for r in cells.values() if not r.too_small]
    top_rate = max(readable, default=0.0) or 1.0
    parts = [_open(width, height, ident, title,
                   "rows are weekdays from Monday, columns hours 0 to 23 in the prospect's "
                   "own time; darker is a higher reply rate; grey cells have too small a "
                   "base; empty cells had no email")]
    for hour in range(24):
        if hour % 3 == 0:
            parts.append(f'<text x="{left + hour * cell + cell / 2}" y="{top - 8}" '
                         f'text-anchor="middle" fill="{INK}">{hour:02d}</text>')
    for day, name in enumerate(WEEKDAYS):
        y = top + day * cell
        parts.append(f'<text x="{left - 8}" y="{y + cell / 2 + 4}" text-anchor="end" '
                     f'fill="{INK}">{name}</text>')
        for hour in range(24):
            parts.append(_cell(cells.get((day, hour)), left + hour * cell, y, cell, top_rate,
                               f"{name} {hour:02d}:00"))
    parts.append(_legend(left, top + 7 * cell + 22, top_rate))
    parts.append("</svg>")
    return "".join(parts)


def _cell(rate: Rate | None, x: float, y: float, size: int, top_rate: float,
          where: str) -> str:
    box = f'x="{x}" y="{y}" width="{size - 2}" height="{size - 2}"'
    if rate is None:
        return f'<rect {box} fill="#ffffff" stroke="{GRID}"><title>{where}: no email</title></rect>'
    tip = f"<title>{escape(where)}: {escape(rate.text())}</title>"
    if rate.too_small:
        return f'<rect {box} fill="#e6e6e6" stroke="{MUTED}">{tip}</rect>'
    return f'<rect {box} fill="{shade((rate.value or 0.0) / top_rate)}">{tip}</rect>'


def _legend(x: float, y: float, top_rate: float) -> str:
    parts = [f'<text x="{x}" y="{y + 12}" fill="{INK}">0%</text>']
    for i in range(10):
        parts.append(f'<rect x="{x + 28 + i * 18}" y="{y}" width="18" height="14" '
                     f'fill="{shade(i / 9)}"/>')
    parts.append(f'<text x="{x + 28 + 10 * 18 + 6}" y="{y + 12}" fill="{INK}">'
                 f"{top_rate * 100:.1f}% reply rate</text>")
    parts.append(f'<rect x="{x + 400}" y="{y}" width="18" height="14" fill="#e6e6e6" '
                 f'stroke="{MUTED}"/><text x="{x + 424}" y="{y + 12}" fill="{INK}">'
                 f"{TOO_SMALL}</text>")
    return "".join(parts)


def shade(fraction: float) -> str:
    """From a pale to a deep blue: light enough at 0, dark enough at 1."""
    f = max(0.0, min(1.0, fraction))
    start, end = (222, 235, 247), (8, 48, 107)
    r, g, b = (round(a + (z - a) * f) for a, z in zip(start, end, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def _nice(value: float) -> float:
    for limit in (0.05, 0.1, 0.2, 0.25, 0.4, 0.5, 0.75, 1.0):
        if value <= limit:
            return limit
    return 1.0


def _clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"
