"""Samples pane: G's output on the fixed noise, drawn in the terminal.

Images: a square grid of as many samples as stay legible at this pane size, or,
when the samples come with their own number of columns (CycleGAN's
A | A→B | A→B→A | B | B→A | B→A→B), as many whole rows of it as stay legible,
under the event's caption.
2D toys: real and generated points over D's decision surface (GAN Lab style).
True colour and 256 colours use half-blocks; 16 colours or none an ASCII ramp.
"""

import math

import numpy as np
from rich.color import Color
from rich.segment import Segment
from rich.style import Style

from gan_tui.render import grid_array
from gan_tui.tui import halfblocks, scatter
from gan_tui.tui.widgets.base import DIM, Pane, centred

MIN_SAMPLE_PX = 10  # below this a sample is a smudge: show fewer, larger ones


def grid_columns(n: int, size: int, box_cols: int, box_rows: int) -> int:
    """How many samples per side of the square grid: the most that keep MIN_SAMPLE_PX each."""
    best = 1
    for side in range(1, math.isqrt(max(n - 1, 0)) + 2):
        if side * side > n and side > 1:
            break
        span = side * (size + 1) + 1
        scale = halfblocks.fit_scale(span, span, box_cols, box_rows)
        if size * scale >= min(size, MIN_SAMPLE_PX):
            best = side
    return best


def grid_rows(n: int, columns: int, size: int, box_cols: int, box_rows: int) -> int:
    """How many whole rows of a `columns`-wide grid to show: the most that keep MIN_SAMPLE_PX
    per sample (always at least one)."""
    best = 1
    span_w = columns * (size + 1) + 1
    for rows in range(1, math.ceil(n / columns) + 1):
        scale = halfblocks.fit_scale(rows * (size + 1) + 1, span_w, box_cols, box_rows)
        if size * scale < min(size, MIN_SAMPLE_PX):
            break
        best = rows
    return best


class SamplesPane(Pane):
    TITLE = "Samples"
    MIN_INTERVAL = 2.0  # the heaviest pane (a colour pair per cell); samples change slowly anyway

    def __init__(self, model, depth: str = "truecolor", **kwargs):
        super().__init__(model, **kwargs)
        self.depth = depth
        self.painter = halfblocks.BlockPainter(depth)

    def data_key(self):
        return self.model.versions["samples"], self.depth

    def draw(self, width, height):
        s = self.model.samples
        if s is None:
            return self.text_rows(["waiting for the first samples..."], width, DIM)
        box_rows = height - 1
        if box_rows < 1 or width < 2:  # a sliver of a pane (a tiny terminal): no room for a picture
            return [[Segment(f"step {s.step:,}", DIM)]]
        if s.images is not None:
            header, picture = self.images(s.images, width, box_rows, s.columns, s.caption)
        else:
            header, picture = self.toy(s, width, box_rows)
        return [[Segment(f"step {s.step:,}  ", DIM), *header], *centred(picture, width)]

    def images(self, images: np.ndarray, width: int, rows: int, columns: int = 0, caption: str = ""):
        n, _, h, w = images.shape
        if columns:
            columns = min(columns, n)
            shown_rows = grid_rows(n, columns, max(h, w), width, rows)
            shown = images[: shown_rows * columns]
            rgb = halfblocks.to_rgb(grid_array(shown, columns=columns))
            total = math.ceil(n / columns)
            header = [Segment(caption or f"{columns} per row", DIM),
                      Segment(f"  {shown_rows} of {total} rows" if shown_rows < total else "", DIM)]
            return header, halfblocks.image_rows(rgb, width, rows, self.depth, self.painter)
        side = grid_columns(n, max(h, w), width, rows)
        shown = images[: side * side]
        rgb = halfblocks.to_rgb(grid_array(shown, columns=side))
        header = [Segment(f"{len(shown)} of {n} fixed-noise samples", DIM)]
        return header, halfblocks.image_rows(rgb, width, rows, self.depth, self.painter)

    def toy(self, s, width: int, rows: int):
        legend = [Segment("● ", Style(color=Color.from_rgb(*scatter.REAL_POINT))), Segment("real  "),
                  Segment("● ", Style(color=Color.from_rgb(*scatter.FAKE_POINT))), Segment("generated  "),
                  Segment("shade D(x)", DIM)]
        if halfblocks.uses_blocks(self.depth):
            side = min(width, 2 * rows)  # square in pixels: one column, half a row per pixel
            side -= side % 2
            rgb = scatter.scatter_rgb(s.points, s.real_points, s.surface, s.extent, side, side)
            return legend, self.painter.rows(rgb)
        cols = min(width, 2 * rows)  # a cell is about twice as tall as wide
        text = scatter.scatter_ascii(s.points, s.real_points, s.surface, s.extent, cols, max(cols // 2, 1))
        legend = [Segment("o real  x generated  # both  shade .: D(x)", DIM)]
        return legend, [[Segment(line)] for line in text]
