"""Small, fast line plots in braille characters, drawn with numpy.

plotext costs tens of milliseconds per plot here (and holds the GIL the trainer
needs); this draws the same picture in about a millisecond and returns rich
Segments per row, so a pane redraw stays cheap at any step rate.
Each cell holds 2x4 dots; where series overlap, the later series sets the colour.
"""

import math
from dataclasses import dataclass

import numpy as np
from rich.color import Color
from rich.segment import Segment
from rich.style import Style

# Dot (row, column) -> bit of the braille code point (U+2800 + bits).
_BITS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], np.int32)
AXIS_STYLE = Style(color=Color.from_rgb(128, 128, 128))


@dataclass
class Line:
    x: np.ndarray
    y: np.ndarray
    color: tuple[int, int, int]
    dashed: bool = False


def hline(y: float, x0: float, x1: float, color, dashed=True) -> Line:
    return Line(np.array([x0, x1], float), np.array([y, y], float), color, dashed)


def vline(x: float, y0: float, y1: float, color, dashed=True) -> Line:
    return Line(np.array([x, x], float), np.array([y0, y1], float), color, dashed)


def downsample(x: np.ndarray, y: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """At most about `n` points, keeping each bucket's minimum and maximum so spikes stay visible."""
    size = len(x)
    if size <= n or n < 4:
        return x, y
    buckets = n // 2
    edges = np.linspace(0, size, buckets + 1).astype(int)
    starts = edges[:-1]
    lo = np.minimum.reduceat(y, starts)
    hi = np.maximum.reduceat(y, starts)
    # Put each bucket's min and max at its first and last x, in the order they occurred.
    first_x, last_x = x[starts], x[edges[1:] - 1]
    argmin = np.array([a + int(np.argmin(y[a:b])) for a, b in zip(starts, edges[1:])])
    argmax = np.array([a + int(np.argmax(y[a:b])) for a, b in zip(starts, edges[1:])])
    min_first = argmin <= argmax
    ys = np.empty(2 * buckets)
    ys[0::2] = np.where(min_first, lo, hi)
    ys[1::2] = np.where(min_first, hi, lo)
    xs = np.empty(2 * buckets)
    xs[0::2], xs[1::2] = first_x, last_x
    return xs, ys


def nice_number(value: float) -> str:
    """Compact tick labels: 12k, 0.693, 1.2e-05."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    magnitude = abs(value)
    if magnitude >= 1e6:
        return f"{value / 1e6:.3g}M"
    if magnitude >= 1e4:
        return f"{value / 1e3:.3g}k"
    if magnitude >= 1000:
        return f"{value:.0f}"
    if magnitude >= 0.01:
        return f"{value:.3g}"
    return f"{value:.1e}"


def _raster(line: Line, to_px, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates of `line` joined point to point (NaNs break the line)."""
    px, py = to_px(line.x, line.y)
    ok = np.isfinite(px) & np.isfinite(py)
    if ok.sum() == 0:
        return np.zeros(0, int), np.zeros(0, int)
    if ok.sum() == 1:
        return np.rint(px[ok]).astype(int), np.rint(py[ok]).astype(int)
    both = ok[:-1] & ok[1:]
    x0, x1, y0, y1 = px[:-1][both], px[1:][both], py[:-1][both], py[1:][both]
    # Clip absurd coordinates so one wild value cannot allocate a huge line.
    lim = 4 * (width + height)
    x0, x1, y0, y1 = (np.clip(a, -lim, lim) for a in (x0, x1, y0, y1))
    counts = (np.maximum(np.abs(x1 - x0), np.abs(y1 - y0)).astype(int) + 1)
    seg = np.repeat(np.arange(len(counts)), counts)
    t = (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)) / np.maximum(counts[seg] - 1, 1)
    xs = np.rint(x0[seg] + (x1 - x0)[seg] * t).astype(int)
    ys = np.rint(y0[seg] + (y1 - y0)[seg] * t).astype(int)
    if line.dashed:
        keep = ((xs + ys) // 2) % 2 == 0
        xs, ys = xs[keep], ys[keep]
    keep = (xs >= 0) & (xs < width) & (ys >= 0) & (ys < height)
    return xs[keep], ys[keep]


def _styles(colors) -> list[Style]:
    return [Style(color=Color.from_rgb(*c)) for c in colors]


def render(width: int, height: int, lines: list[Line], *, xlim=None, ylim=None, logy: bool = False,
           x_format=nice_number) -> list[list[Segment]]:
    """`height` rows of `width` cells: y labels and axis on the left, x range on the bottom row."""
    if width < 8 or height < 3:
        return [[Segment(" " * max(width, 0))] for _ in range(max(height, 0))]
    if logy:
        lines = [Line(ln.x, np.where(ln.y > 0, np.log10(np.where(ln.y > 0, ln.y, 1)), np.nan), ln.color, ln.dashed)
                 for ln in lines]
    finite_x = [ln.x[np.isfinite(ln.y)] for ln in lines if not ln.dashed]
    finite_y = [ln.y[np.isfinite(ln.y)] for ln in lines if not ln.dashed]
    xs = np.concatenate(finite_x) if finite_x else np.zeros(0)
    ys = np.concatenate(finite_y) if finite_y else np.zeros(0)
    x0, x1 = xlim if xlim else ((float(xs.min()), float(xs.max())) if len(xs) else (0.0, 1.0))
    if ylim:
        y0, y1 = (math.log10(v) if logy else v for v in ylim)
    elif len(ys):
        y0, y1 = float(ys.min()), float(ys.max())
        pad = (y1 - y0) * 0.05
        y0, y1 = y0 - pad, y1 + pad
    else:
        y0, y1 = 0.0, 1.0
    if x1 <= x0:
        x0, x1 = x0 - 0.5, x0 + 0.5
    if y1 <= y0:
        y0, y1 = y0 - 0.5, y0 + 0.5

    rows = height - 1
    label_rows = sorted({0, rows - 1, *(round(i * (rows - 1) / 4) for i in range(1, 4) if rows >= 9)})

    def label(row: int) -> str:
        value = y1 - (y1 - y0) * row / max(rows - 1, 1)
        if abs(value) < (y1 - y0) * 1e-6:  # float noise around zero would print as -1.4e-17
            value = 0.0
        return nice_number(10 ** value if logy else value)

    labels = {r: label(r) for r in label_rows}
    lw = max(len(s) for s in labels.values())
    cols = width - lw - 1
    W, H = 2 * cols, 4 * rows

    def to_px(x, y):
        return (np.asarray(x, float) - x0) / (x1 - x0) * (W - 1), (y1 - np.asarray(y, float)) / (y1 - y0) * (H - 1)

    codes = np.zeros((len(lines), rows, cols), np.int32)
    for i, ln in enumerate(lines):
        px, py = _raster(ln, to_px, W, H)
        np.bitwise_or.at(codes[i], (py // 4, px // 2), _BITS[py % 4, px % 2])
    owner = np.full((rows, cols), -1, np.int32)
    for i in range(len(lines)):
        owner[codes[i] > 0] = i
    chars = np.bitwise_or.reduce(codes, axis=0) if len(lines) else np.zeros((rows, cols), np.int32)
    styles = _styles([ln.color for ln in lines])

    out = []
    for r in range(rows):
        row = [Segment(labels.get(r, "").rjust(lw), AXIS_STYLE), Segment("┤" if r in labels else "│", AXIS_STYLE)]
        own = owner[r]
        change = np.flatnonzero(own[1:] != own[:-1]) + 1
        for a, b in zip([0, *change.tolist()], [*change.tolist(), cols]):
            o = int(own[a])
            if o < 0:
                row.append(Segment(" " * (b - a)))
            else:
                row.append(Segment("".join(chr(0x2800 + int(c)) for c in chars[r, a:b]), styles[o]))
        out.append(row)
    left, right = x_format(x0), x_format(x1)
    gap = cols - len(left) - len(right)
    axis = left + "─" * gap + right if gap >= 1 else "─" * cols
    out.append([Segment(" " * lw + "└" + axis, AXIS_STYLE)])
    return out
