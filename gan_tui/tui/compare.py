"""`gan-tui compare RUN RUN... --tui` (and plain `gan-tui compare` in a terminal): runs side by side.

One scrollable screen: the runs' curves overlaid (by step, or `w` for wall time;
`m` picks the metric), the headless compare table, and each run's last sample
grid side by side. Series are thinned in SQL (every k-th logged step, about
MAX_POINTS per run), so ten runs of 100k logged steps open fast. Runs still
training are read again every RELOAD_S seconds (curves, samples and table)
until they end, so a live run can be followed against finished ones.
"""

import math
from pathlib import Path

import numpy as np
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Static

from gan_tui.metrics.best_fid import headline_key, headline_name
from gan_tui.store.runs import LIVE, BadRun, short_run_labels, summarize
from gan_tui.tui import plot
from gan_tui.tui.model import RunModel
from gan_tui.tui.widgets.base import DIM, Pane
from gan_tui.tui.widgets.samples import SamplesPane

MAX_POINTS = 2000
RELOAD_S = 2.0  # how often the runs still training are read again
METRICS = ("d_loss", "g_loss", "d_real", "d_fake", "score")  # score: each run's headline (FID, cycle error)
RUN_COLORS = [(86, 156, 214), (230, 145, 56), (106, 190, 48), (224, 108, 117), (198, 120, 221),
              (229, 192, 123), (86, 182, 194), (200, 200, 200), (255, 121, 198), (139, 233, 253)]


def thinned_scalars(db, name: str, log_every: int, last_step: int | None, max_points: int = MAX_POINTS):
    """(steps, values, walls) of scalar `name`: see thinned_all."""
    return thinned_all(db, (name,), log_every, last_step, max_points)[name]


def thinned_all(db, names, log_every: int, last_step: int | None, max_points: int = MAX_POINTS) -> dict:
    """{name: (steps, values, walls)}: every k-th logged step (k keeps each series under about
    max_points) and the last one. The wanted steps come from a recursive CTE and are looked up
    through the (step, name) primary key, so a run of any length costs a few thousand index probes."""
    every = max(int(log_every or 1), 1)
    last = int(last_step or 0)
    stride = every * max(1, math.ceil(last / every / max_points))
    rows = db.execute(
        "WITH RECURSIVE wanted(s) AS (SELECT ? UNION ALL SELECT s + ? FROM wanted WHERE s + ? <= ?) "
        "SELECT scalars.step, name, value, wall FROM (SELECT s FROM wanted UNION SELECT ?) AS w "
        "JOIN scalars ON scalars.step = w.s ORDER BY scalars.step",
        (stride, stride, stride, last, last)).fetchall()
    out = {}
    for name in names:
        picked = [(step, value, wall) for step, n, value, wall in rows if n == name]
        data = np.array(picked, dtype=float).reshape(-1, 3)  # a NULL value or wall reads as NaN
        out[name] = (data[:, 0], data[:, 1], data[:, 2])
    return out


class RunSeries:
    """What the compare screen shows of one run."""

    def __init__(self, report: dict, color, label: str | None = None):
        self.id = report["id"]
        self.label = label or self.id  # what the legend and the grid's title call it
        self.dir = Path(report["dir"])
        self.color = color
        self.curves: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self.model = RunModel()
        self.score_name = ""  # "FID (domain)", "cycle error A→B→A": what its headline score is
        settings = report.get("profile_settings") or {}
        self.log_every = (settings.get("log") or {}).get("every", 1)
        self.live = report.get("status") in LIVE
        self.read()

    def read(self) -> None:
        """Its curves, scores and newest samples, from the run directory."""
        from gan_tui.store.reader import RunReader

        try:
            reader = RunReader(self.dir)
        except FileNotFoundError:
            return
        try:
            last = reader.db.execute("SELECT MAX(step) FROM scalars").fetchone()[0]
            self.curves.update(thinned_all(reader.db, METRICS[:-1], self.log_every, last))
            self._read_scores(reader.timed_evaluations())
            found = reader.samples()
            if found is not None:
                from gan_tui.tui.watch import samples_event

                self.model.apply(samples_event(found))
        finally:
            reader.close()

    def reread(self) -> None:
        """A run still training: read it again, and note whether it has ended since."""
        self.read()
        try:
            self.live = summarize(self.dir).status in LIVE
        except BadRun:  # removed, or its meta.json damaged: nothing more to follow
            self.live = False

    def _read_scores(self, evaluations) -> None:
        """The headline score of every evaluation (FID, or a CycleGAN's cycle error) with its wall time."""
        picked = []
        for step, metrics, wall in evaluations:
            key = headline_key(metrics)
            if key is not None:
                self.score_name = headline_name(metrics, key)
                picked.append((step, metrics[key], wall))
        if picked:
            data = np.array(picked, dtype=float)  # a NULL wall reads as NaN
            self.curves["score"] = (data[:, 0], data[:, 1], data[:, 2])

    def start_wall(self) -> float | None:
        """When the run's first scalars were logged: wall time 0 for every one of its curves."""
        walls = self.curves.get("d_loss", (None, None, np.zeros(0)))[2]
        walls = walls[np.isfinite(walls)]
        return float(walls[0]) if len(walls) else None


class CurvesPane(Pane):
    TITLE = "Curves"
    MIN_INTERVAL = 0.0

    def __init__(self, runs: list[RunSeries], **kwargs):
        super().__init__(RunModel(), **kwargs)
        self.runs = runs
        self.metric = "d_loss"
        self.by_wall = False

    def data_key(self):
        return self.metric, self.by_wall

    def draw(self, width, height):
        lines, header = [], []
        for run in self.runs:
            steps, values, walls = run.curves.get(self.metric, (np.zeros(0),) * 3)
            if not len(steps):
                continue
            if self.by_wall:
                ok = np.isfinite(walls)
                start = run.start_wall()
                x, y = (walls[ok] - (walls[ok][0] if start is None else start)) / 60.0, values[ok]
            else:
                x, y = steps, values
            if len(x):
                lines.append(plot.Line(*plot.downsample(x, y, 2 * width), run.color))
            header += [Segment("━ ", Style(color=Color.from_rgb(*run.color))), Segment(run.label),
                       Segment(" (live)  " if run.live else "  ", DIM)]
        axis = "wall time (minutes)" if self.by_wall else "step"
        name = self.metric_name()
        title = [Segment(f"{name} by {axis}   ", Style(bold=True)),
                 Segment("m: metric  w: step/wall time", DIM)]
        if not lines:
            return [title, *self.text_rows([f"no {name} logged by these runs"], width, DIM)]
        legend = self.text_rows([""], width)[0] if not header else header
        return [title, legend, *plot.render(width, height - 2, lines)]

    def metric_name(self) -> str:
        """The metric's name; for the headline score, what the runs' evaluations call it."""
        if self.metric != "score":
            return self.metric
        names = {run.score_name for run in self.runs if run.score_name}
        return " / ".join(sorted(names)) or "FID"


class Stack(VerticalScroll):
    """Curves, grids and table, one under the other: taller than 80x24, so the footer says how to page."""

    BINDINGS = [Binding("pagedown", "page_down", "More below", key_display="PgDn"),
                Binding("pageup", "page_up", "Back up", key_display="PgUp", show=False)]


class CompareApp(App):
    TITLE = "gan-tui compare"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [Binding("ctrl+z", "suspend_process", "Suspend", show=False),
                Binding("w", "toggle_wall", "Step / wall time"), Binding("m", "metric", "Metric"),
                Binding("q,escape,ctrl+c", "quit", "Quit")]
    DEFAULT_CSS = """
    #curves { height: 18; }
    #table { height: auto; padding: 0 1; }
    #grids { height: 16; }
    #grids SamplesPane { width: 1fr; height: 16; }
    """

    def __init__(self, reports: list[dict], table: Table, depth: str = "truecolor", reread_table=None):
        super().__init__()
        labels = short_run_labels([r["id"] for r in reports])
        self.runs = [RunSeries(r, RUN_COLORS[i % len(RUN_COLORS)], label) for i, (r, label) in enumerate(zip(reports, labels))]
        self.table = table
        self.depth = depth
        self.reread_table = reread_table  # () -> the table again (None: keep the one shown)

    def compose(self) -> ComposeResult:
        with Stack():
            yield CurvesPane(self.runs, id="curves")
            with Horizontal(id="grids"):
                for run in self.runs:
                    pane = SamplesPane(run.model, self.depth)
                    pane.border_title = run.label
                    yield pane
            yield Static(self.table, id="table")
        yield Footer()

    def on_mount(self) -> None:
        self.set_interval(0.5, self._sync)
        self.call_after_refresh(self._sync)
        if any(run.live for run in self.runs):
            self.reloading = self.set_interval(RELOAD_S, self._reread_live)

    def _sync(self) -> None:
        for pane in self.query(Pane):
            pane.sync()

    def _reread_live(self) -> None:
        """Runs still training have grown: their curves, samples and the table again; after the last one
        ends (read once more as it ended), nothing is read again."""
        for run in self.runs:
            if run.live:
                run.reread()
        self.query_one(CurvesPane).sync(force=True)
        table = self.reread_table() if self.reread_table else None
        if table is not None:
            self.table = table
            self.query_one("#table", Static).update(table)
        if not any(run.live for run in self.runs):
            self.reloading.stop()

    def action_toggle_wall(self) -> None:
        curves = self.query_one(CurvesPane)
        curves.by_wall = not curves.by_wall
        curves.sync(force=True)

    def action_metric(self) -> None:
        curves = self.query_one(CurvesPane)
        curves.metric = METRICS[(METRICS.index(curves.metric) + 1) % len(METRICS)]
        curves.sync(force=True)


def run_compare(reports: list[dict], table: Table, depth: str = "truecolor", reread_table=None) -> None:
    """Callers set the colour depth in the environment before importing this module (Textual reads it once)."""
    import os

    os.environ.pop("COLUMNS", None)
    os.environ.pop("LINES", None)
    CompareApp(reports, table, depth, reread_table).run()
