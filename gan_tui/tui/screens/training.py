"""The training screen: status bar, banner (failure, collapse alarm), the panes, and every key that steers the run.

At 80x24 the panes are shown one at a time (tab moves between them, a tab
line names them); from WIDE_MIN up they sit in a grid. Panes redraw on the
screen's frame timer, never per event, so the refresh rate is bounded
whatever the step rate.
"""

import os
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.screen import Screen
from textual.widgets import Footer, Static

from gan_tui.frame_rate import DEFAULT_FPS
from gan_tui.tui.model import RunModel
from gan_tui.tui.screens.dialogs import HelpScreen
from gan_tui.tui.widgets.banner import Banner
from gan_tui.tui.widgets.doutputs import DOutputsPane
from gan_tui.tui.widgets.evaluation import DiversityPane, FidPane
from gan_tui.tui.widgets.losses import LossesPane
from gan_tui.tui.widgets.samples import SamplesPane
from gan_tui.tui.widgets.statusbar import StatusBar

PANES = (("losses", "Losses"), ("doutputs", "D outputs"), ("samples", "Samples"),
         ("diversity", "Diversity"), ("fid", "FID"))
WIDE_MIN = (120, 34)  # columns, rows: from here all panes fit side by side

KEYS = [
    ("space", "pause / resume training"),
    ("c", "save a checkpoint now"),
    ("f", "evaluate now (FID, diversity)"),
    ("s", "save the sample grid as PNG in the run directory"),
    ("+ / -", "more / less smoothing of the losses (EMA)"),
    ("l", "log scale for the losses on / off"),
    ("tab / shift+tab", "next / previous pane"),
    ("?", "this help"),
    ("d", "detach: training goes on in the background (survives the terminal); reopens as `gan-tui watch`"),
    ("ctrl+z", "suspend to the shell, training with it, until fg (d keeps it training)"),
    ("q", "quit: saves a checkpoint and stops training first"),
    ("esc", "back to the profile list (once training has ended)"),
]


def ended(status: str) -> str:
    """How a notice says that training is over: "training has finished", "training was interrupted"."""
    return "training was interrupted" if status.startswith("interrupted") else f"training has {status}"


class TrainingScreen(Screen):
    BINDINGS = [
        Binding("space", "toggle_pause", "Pause/resume"),
        Binding("c", "checkpoint", "Checkpoint"),
        Binding("f", "evaluate", "Evaluate", show=False),
        Binding("s", "save_samples", "Save PNG"),
        Binding("plus,equals_sign", "smoothing(1)", "Smoother", show=False),
        Binding("minus", "smoothing(-1)", "Rawer", show=False),
        Binding("l", "log_scale", "Log", show=False),
        Binding("tab", "pane(1)", "Next pane"),
        Binding("shift+tab", "pane(-1)", "Prev pane", show=False),
        Binding("question_mark", "help", "Help"),
        Binding("d", "app.detach", "Detach", show=False),
        Binding("q", "app.quit", "Quit"),
        Binding("escape", "back", "Back", show=False),
    ]

    def __init__(self, model: RunModel, profile_name: str, depth: str = "truecolor", fps: float = DEFAULT_FPS):
        super().__init__()
        self.model = model
        self.profile_name = profile_name
        self.depth = depth
        self.fps = fps
        self.current = 0
        self.wide = False

    def compose(self) -> ComposeResult:
        yield StatusBar(self.model, self.profile_name, id="status")
        yield Banner(self.model, id="banner")  # outside the panes: seen whichever pane is showing
        yield Static(id="tabs")
        with Container(id="panes"):  # grid order: losses and samples on top, D outputs below
            yield LossesPane(self.model, id="losses", classes="pane")
            yield SamplesPane(self.model, self.depth, id="samples", classes="pane")
            yield DOutputsPane(self.model, id="doutputs", classes="pane")
            yield DiversityPane(self.model, id="diversity", classes="pane")
            yield FidPane(self.model, id="fid", classes="pane")
        yield Footer()

    # -- layout and redraw ---------------------------------------------

    @property
    def panes(self):
        return [self.query_one(f"#{pane_id}") for pane_id, _ in PANES]

    def on_mount(self) -> None:
        self.apply_layout(self.app.size.width, self.app.size.height)
        self.set_interval(1 / self.fps, self.redraw)
        self.redraw()

    def on_resize(self, event) -> None:
        self.apply_layout(event.size.width, event.size.height)

    def apply_layout(self, width: int, height: int) -> None:
        self.wide = width >= WIDE_MIN[0] and height >= WIDE_MIN[1]
        self.set_class(self.wide, "-wide")
        self.set_class(not self.wide, "-narrow")
        self.show_pane(self.current)

    def show_pane(self, index: int) -> None:
        self.current = index % len(PANES)
        for i, pane in enumerate(self.panes):
            pane.set_class(i == self.current, "-current")
        tabs = Text()
        for i, (_, name) in enumerate(PANES):
            tabs.append(f" {name} ", "reverse bold" if i == self.current else "dim")
            tabs.append(" ")
        tabs.append(" tab: next pane", "dim")
        self.query_one("#tabs", Static).update(tabs)
        self.panes[self.current].focus()

    def on_descendant_focus(self, event) -> None:
        ids = [pane_id for pane_id, _ in PANES]
        if event.widget.id in ids and ids.index(event.widget.id) != self.current:
            self.show_pane(ids.index(event.widget.id))

    def redraw(self, force: bool = False) -> None:
        """The frame: redraw what changed and is on screen; nothing else."""
        self.query_one(StatusBar).sync()
        self.query_one(Banner).sync()
        for pane in self.panes:
            if pane.display:
                pane.sync(force)

    # -- keys ----------------------------------------------------------

    def action_toggle_pause(self) -> None:
        run = self.app.training
        if run is None or run.done.is_set() or not self.model.active:
            self.notify(f"{ended(self.model.status)}: nothing to pause", severity="warning")
            return
        paused = run.toggle_pause()
        self.notify("pausing training..." if paused else "resuming training...", timeout=2)

    def action_checkpoint(self) -> None:
        run = self.app.training
        if run is None or run.done.is_set() or not self.model.active:
            where = f" (the last one is step {self.model.last_checkpoint.step:,})" if self.model.last_checkpoint else ""
            self.notify(f"{ended(self.model.status)}: no checkpoint to save{where}", severity="warning")
            return
        self.app.checkpoint_requested = True
        run.checkpoint()
        self.notify("saving a checkpoint...", timeout=2)

    def action_evaluate(self) -> None:
        run, m = self.app.training, self.model
        if run is None or run.done.is_set() or not m.active:
            self.notify(f"{ended(m.status)}: nothing to evaluate (gan-tui eval RUN evaluates a checkpoint)",
                        severity="warning")
            return
        run.evaluate()  # the trainer snapshots G now; the evaluation thread reports when done
        m.request_evaluation()
        behind = f" (after the one at step {m.evaluating:,} still running)" if m.evaluating is not None else ""
        self.notify(f"evaluation requested at step {m.step:,}{behind}", timeout=3)

    def action_save_samples(self) -> None:
        samples, info = self.model.samples, self.model.info
        if samples is None or info is None:
            self.notify("no samples yet: they arrive every log.samples_every steps", severity="warning")
            return
        path = save_samples_png(samples, Path(info.run_dir))
        self.notify(f"saved the sample grid (step {samples.step:,}) to {path}", timeout=8)

    def action_smoothing(self, direction: int) -> None:
        weight = self.model.smoothing_step(direction)
        self.query_one(LossesPane).sync(force=True)  # a key deserves an answer now, not next interval
        self.notify(f"loss smoothing: EMA {weight:g}" if weight else "loss smoothing off (raw)", timeout=1.5)

    def action_log_scale(self) -> None:
        losses = self.query_one(LossesPane)
        losses.logy = not losses.logy
        losses.sync(force=True)
        self.notify(f"losses: log scale {'on' if losses.logy else 'off'}", timeout=1.5)

    def action_pane(self, step: int) -> None:
        self.show_pane(self.current + step)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(KEYS))

    def action_back(self) -> None:
        if self.model.active:
            self.notify("training is running: press q to stop it first", severity="warning")
            return
        self.app.show_picker()


def save_samples_png(samples, run_dir: Path) -> Path:
    """The latest sample grid (or toy scatter) as a PNG under run_dir/exports/, written atomically."""
    from gan_tui.render import grid_image, sample_columns, scatter_image

    folder = run_dir / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"samples-step-{samples.step:07d}.png"
    if samples.images is not None:
        image = grid_image(samples.images, sample_columns(samples), samples.caption)
    else:
        image = scatter_image(samples.points, samples.real_points, samples.surface, samples.extent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    image.save(tmp, format="PNG")
    os.replace(tmp, path)
    return path
