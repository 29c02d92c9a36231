"""Horizontal bars and one-row sparklines in block characters, for per-mode and per-class counts.

A bar is drawn in eighths of a cell, so 20 cells resolve 160 levels; an
optional marker (the even share, or the real data's share) is drawn on top
so the eye can compare each bar with what it should be.
"""

from rich.segment import Segment
from rich.style import Style

EIGHTHS = " ▏▎▍▌▋▊▉"
LEVELS = "▁▂▃▄▅▆▇█"
MARKER = "┊"


def bar(value: float, scale: float, width: int, style: Style | None = None, marker: float | None = None,
        marker_style: Style | None = None) -> list[Segment]:
    """`width` cells: a bar of value/scale of the width, and `marker` (same units) as a thin line."""
    if width <= 0:
        return []
    cells = max(0.0, min(value / scale, 1.0)) * width if scale > 0 else 0.0
    full = int(cells)
    part = EIGHTHS[int((cells - full) * 8)] if full < width else ""
    text = ("█" * full + part.strip()).ljust(width)
    if marker is None or scale <= 0:
        return [Segment(text, style)]
    at = min(int(max(marker, 0.0) / scale * width), width - 1)
    return [Segment(text[:at], style), Segment(MARKER, marker_style), Segment(text[at + 1:], style)]


def sparkline(values: list[float], style: Style | None = None, empty_style: Style | None = None) -> list[Segment]:
    """One cell per value, its height relative to the largest; zeros as a dot in `empty_style`."""
    top = max(values, default=0) or 1
    out = []
    for value in values:
        if value <= 0:
            out.append(Segment("·", empty_style))
        else:
            out.append(Segment(LEVELS[min(int(value / top * (len(LEVELS) - 1) + 0.5), len(LEVELS) - 1)], style))
    return out
