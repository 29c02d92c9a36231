"""Losses pane: D and G loss and every extra term, raw (dim) and EMA-smoothed, against step."""

import math

from rich.color import Color
from rich.segment import Segment
from rich.style import Style

from gan_tui.tui import plot
from gan_tui.tui.widgets.base import DIM, Pane

COLORS = {"d_loss": (86, 156, 214), "g_loss": (230, 145, 56)}
EXTRA_COLORS = [(106, 190, 48), (224, 108, 117), (229, 192, 123), (86, 182, 194), (198, 120, 221)]
LABELS = {"d_loss": "D", "g_loss": "G"}


def label(name: str) -> str:
    if name in LABELS:
        return LABELS[name]
    short = name.removesuffix("_loss").removeprefix("loss_")
    return short.upper() if len(short) <= 3 else short


def dimmed(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """The raw series: the same hue, faded towards grey so the EMA stands out."""
    return tuple(int(0.45 * c + 0.55 * 70) for c in rgb)


class LossesPane(Pane):
    TITLE = "Losses"

    def __init__(self, model, **kwargs):
        super().__init__(model, **kwargs)
        self.logy = False

    def colour(self, name: str, index: int) -> tuple[int, int, int]:
        return COLORS.get(name) or EXTRA_COLORS[index % len(EXTRA_COLORS)]

    def data_key(self):
        v = self.model.versions
        return v["scalars"], v["smoothing"], self.logy

    def draw(self, width, height):
        names = self.model.loss_names()
        if not names:
            return self.text_rows(["waiting for the first log step..."], width, DIM)
        smoothing = self.model.smoothing
        header, raw_lines, ema_lines = [], [], []
        hidden = False
        n_points = 2 * width  # a braille cell is two dots wide
        for i, name in enumerate(names):
            series = self.model.series[name]
            colour = self.colour(name, i)
            steps = series.steps.view()
            raw, ema = series.raw.view(), series.ema.view()
            if self.logy:
                hidden = hidden or bool((raw <= 0).any())
            latest = ema[-1] if len(ema) else math.nan
            header += [Segment("━ ", Style(color=Color.from_rgb(*colour))),
                       Segment(f"{label(name)} {plot.nice_number(float(latest))}  ")]
            if smoothing > 0:
                raw_lines.append(plot.Line(*plot.downsample(steps, raw, n_points), dimmed(colour)))
            ema_lines.append(plot.Line(*plot.downsample(steps, ema, n_points), colour))
        mode = f"EMA {smoothing:g}" if smoothing > 0 else "raw"
        header.append(Segment(mode + (" · log" if self.logy else "") + (" (≤0 hidden)" if hidden else ""), DIM))
        rows = plot.render(width, height - 1, raw_lines + ema_lines, logy=self.logy)
        return [header, *rows]
