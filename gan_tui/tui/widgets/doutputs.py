"""D outputs pane: histograms of D(x) and D(G(z)) at the latest log step, and their means over time.

Probabilities (BCE family) live in [0, 1] with the 0.5 equilibrium line;
critic scores (WGAN-type losses) are shown raw on their own range.
"""

import numpy as np
from rich.color import Color
from rich.segment import Segment
from rich.style import Style

from gan_tui.tui import plot
from gan_tui.tui.widgets.base import DIM, Pane

REAL = (110, 210, 120)
FAKE = (205, 125, 255)
EQUILIBRIUM = (150, 150, 150)
SIDE_BY_SIDE_MIN_WIDTH = 70


def swatch(rgb) -> Segment:
    return Segment("━ ", Style(color=Color.from_rgb(*rgb)))


def step_outline(values: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Histogram of `values` over `edges` as a stair line (fraction of the batch per bin)."""
    counts, _ = np.histogram(values, bins=edges)
    frac = counts / max(len(values), 1)
    xs = np.repeat(edges, 2)[1:-1]
    ys = np.repeat(frac, 2)
    return np.concatenate([[edges[0]], xs, [edges[-1]]]), np.concatenate([[0.0], ys, [0.0]])


class DOutputsPane(Pane):
    TITLE = "D outputs"

    def data_key(self):
        v = self.model.versions
        return v["histograms"], v["scalars"], v["info"]

    def draw(self, width, height):
        if width >= SIDE_BY_SIDE_MIN_WIDTH:
            left = (width - 1) // 2
            a, b = self.histogram(left, height), self.means(width - left - 1, height)
            return [[*Segment.adjust_line_length(ra, left), Segment(" "), *rb]
                    for ra, rb in zip(_pad(a, height), _pad(b, height))]
        top = height // 2
        return self.histogram(width, top) + self.means(width, height - top)

    def histogram(self, width, height):
        h = self.model.histograms
        if h is None:
            return self.text_rows(["D(x) / D(G(z)) histogram: waiting for the first one..."], width, DIM)
        real, fake = (np.asarray(a, float).ravel() for a in (h.real, h.fake))
        real, fake = real[np.isfinite(real)], fake[np.isfinite(fake)]
        probability = h.kind == "probability"
        if probability:
            lo, hi = 0.0, 1.0
        else:
            both = np.concatenate([real, fake])
            lo, hi = (float(both.min()), float(both.max())) if len(both) else (0.0, 1.0)
            if hi <= lo:
                lo, hi = lo - 0.5, hi + 0.5
        bins = int(np.clip(width // 2, 8, 40))
        edges = np.linspace(lo, hi, bins + 1)
        lines = [plot.Line(*step_outline(real, edges), REAL), plot.Line(*step_outline(fake, edges), FAKE)]
        if probability:
            lines.insert(0, plot.vline(0.5, 0, 1, EQUILIBRIUM))
        what = "D" if probability else "critic"
        header = [swatch(REAL), Segment(f"{what}(x) {_mean(real)} "), swatch(FAKE),
                  Segment(f"{what}(G(z)) {_mean(fake)} "), Segment(f"@{h.step}", DIM)]
        top = max(float(line.y.max()) for line in lines[-2:]) * 1.05 or 1.0
        rows = plot.render(width, height - 1, lines, xlim=(lo, hi), ylim=(0.0, top), x_format=_fmt)
        return [header, *rows]

    def means(self, width, height):
        real, fake = self.model.series.get("d_real"), self.model.series.get("d_fake")
        if real is None or fake is None or real.steps.size == 0:
            return self.text_rows(["means over time: waiting for the first log step..."], width, DIM)
        n = 2 * width
        lines = [plot.Line(*plot.downsample(real.steps.view(), real.raw.view(), n), REAL),
                 plot.Line(*plot.downsample(fake.steps.view(), fake.raw.view(), n), FAKE)]
        probability = self.model.output_kind == "probability"
        ylim = None
        if probability:
            x0, x1 = float(real.steps.view()[0]), float(real.steps.view()[-1])
            lines.insert(0, plot.hline(0.5, x0, x1, EQUILIBRIUM))
            ylim = (0.0, 1.0)
        header = [Segment("means over time", DIM)]
        if probability:
            header.append(Segment("  ┄ 0.5 equilibrium", Style(color=Color.from_rgb(*EQUILIBRIUM))))
        return [header, *plot.render(width, height - 1, lines, ylim=ylim)]


def _mean(values: np.ndarray) -> str:
    return f"{values.mean():.3g}" if len(values) else "-"


def _fmt(value: float) -> str:
    return f"{value:.2g}"


def _pad(rows, height):
    return rows + [[] for _ in range(height - len(rows))]
