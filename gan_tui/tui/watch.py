"""`gan-tui watch RUN`: the training screen on a run directory, live or replayed.

A RunFollower turns what the run directory holds (metrics.sqlite, samples/,
meta.json) into the same engine events the trainer emits, reading only rows
after the last ones it has seen; a RemoteRun polls it on a thread worker and
hands the events to the dashboard's sink, so the RunModel and every pane work
as they do for a run trained in the dashboard. Keys go to the training process
through its control socket (gan_tui/train/control_server.py).

A finished run is loaded at once; `[` and `]` step the samples and D-output
panes through every logged step (live runs too: `end` follows the newest again).
"""

import bisect
import os
import threading
import time
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Static

from gan_tui.frame_rate import DEFAULT_FPS
from gan_tui.store.runs import TERMINAL, BadRun, load_meta, summarize
from gan_tui.train import events as ev
from gan_tui.tui.app import DashboardApp
from gan_tui.tui.model import RunModel
from gan_tui.tui.screens.training import KEYS, TrainingScreen
from gan_tui.tui.sink import DashboardSink

POLL_S = 0.5
LIVENESS_EVERY_S = 2.0  # how often a quiet live run's process is checked


def samples_event(found: dict) -> ev.Samples:
    """RunReader.samples's dict as the trainer's Samples event."""
    if "images" in found:
        return ev.Samples(found["step"], images=found["images"], labels=found.get("labels"),
                          columns=found.get("columns", 0), caption=found.get("caption", ""))
    return ev.Samples(found["step"], points=found["points"], real_points=found["real"], surface=found["surface"],
                      extent=found["extent"])


def histograms_event(found) -> ev.Histograms:
    step, kind, real, fake = found
    return ev.Histograms(step, kind, real, fake)


def history_events(run_dir: Path) -> list:
    """A run's past as the dashboard's events, for one it resumes: its curves, evaluations, alarms,
    checkpoints and newest samples and histograms (not its old statuses and speeds: the session reports
    its own)."""
    follower = RunFollower(run_dir)
    try:
        events = follower.poll()
    finally:
        follower.close()
    kept = (ev.Scalars, ev.Histograms, ev.Samples, ev.Evaluated, ev.CollapseAlarm, ev.CheckpointSaved)
    return [event for event in events if isinstance(event, kept)]


class RunFollower:
    """Rows of a run directory after the last ones seen, as engine events."""

    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)
        self.reader = None
        self.meta: dict = {}
        self.started = False
        self.status: str | None = None  # the last status told
        self.step = 0
        self.total = 0
        self.start_step = 0
        self._scalar = self._progress = self._histogram = self._sample = self._evaluation = -1
        self._alarm = self._event = 0
        self._checked = 0.0

    def _open(self) -> bool:
        if self.reader is None:
            from gan_tui.store.reader import RunReader

            try:
                self.reader = RunReader(self.run_dir)
            except FileNotFoundError:
                return False
        return True

    def poll(self) -> list:
        """Everything new since the last call (all of it on the first)."""
        if not self._open():
            return []
        try:
            self.meta, _ = load_meta(self.run_dir)
        except BadRun:
            pass  # being rewritten (or gone): the database still answers
        out = []
        m = self.meta
        self.total = int(m.get("total_steps") or self.total or 0)
        ended = []
        if not self.started:
            if "device" not in m and m.get("status") == "starting":  # still loading its data: wait for RunStarted
                ended = self._check_alive()  # unless its process died meanwhile
                if not ended:
                    return []
            self.started = True
            self.start_step = int(m.get("start_step") or 0)
            out.append(ev.RunStarted(m.get("id", self.run_dir.name), str(self.run_dir), m.get("profile", "?"),
                                     self.total, self.start_step, m.get("device", "-"), m.get("data_kind", "points"),
                                     m.get("output_kind", "probability"), int(m.get("batch_size") or 0),
                                     int(m.get("world_size") or 1)))
        db = self.reader.db
        with db:  # one read transaction: a consistent snapshot of every table
            out += self._scalars(db)
            out += self._progress_events(db)
            hist = db.execute("SELECT step, kind, real, fake FROM histograms WHERE step > ? ORDER BY step DESC "
                              "LIMIT 1", (self._histogram,)).fetchone()
            sample = db.execute("SELECT step FROM samples WHERE step > ? ORDER BY step DESC LIMIT 1",
                                (self._sample,)).fetchone()
            evaluations = self.reader.evaluations(self._evaluation)
            alarms = self.reader._rows("SELECT id, step, rule, reason, since FROM alarms WHERE id > ? ORDER BY id",
                                       (self._alarm,))
            events = db.execute("SELECT id, step, kind, message FROM events WHERE id > ? ORDER BY id",
                                (self._event,)).fetchall()
        if hist is not None:
            import numpy as np

            self._histogram = hist[0]
            out.append(ev.Histograms(hist[0], hist[1], np.frombuffer(hist[2], np.float32),
                                     np.frombuffer(hist[3], np.float32)))
        if sample is not None:
            found = self.reader.samples(sample[0])
            if found is not None:
                self._sample = sample[0]
                out.append(samples_event(found))
        for step, metrics in evaluations:
            self._evaluation = step
            out.append(ev.Evaluated(step, metrics))
        for row_id, step, rule, reason, since in alarms:
            self._alarm = row_id
            out.append(ev.CollapseAlarm(step, rule, reason, since))
        for row_id, step, kind, message in events:
            self._event = row_id
            event = self._event_of(step, kind, message or "")
            if event is not None:
                out.append(event)
        if not events:
            out += ended or self._check_alive()
        return out

    def _scalars(self, db) -> list:
        out, current = [], None
        for step, name, value, wall in db.execute("SELECT step, name, value, wall FROM scalars WHERE step > ? "
                                                  "ORDER BY step", (self._scalar,)):
            if current is None or current.step != step:
                current = ev.Scalars(step, {}, wall or 0.0)
                out.append(current)
            current.values[name] = value if value is not None else float("nan")
        if out:
            self._scalar = self.step = max(self.step, out[-1].step)
        return out

    def _progress_events(self, db) -> list:
        row = db.execute("SELECT step, it_per_s, images_per_s, elapsed, gpu_mem, gpu_peak FROM progress "
                         "WHERE step > ? ORDER BY step DESC LIMIT 1", (self._progress,)).fetchone()
        if row is None:
            return []
        step, rate, images, elapsed, mem, peak = row
        self._progress = step
        mean = (step - self.start_step) / elapsed if elapsed else 0.0
        eta = (self.total - step) / mean if mean > 0 else float("inf")
        return [ev.Progress(step, self.total, rate or 0.0, images or 0.0, elapsed or 0.0, eta, mem or 0, peak or 0)]

    def _event_of(self, step: int, kind: str, message: str):
        if kind == "status":
            status, _, why = message.partition(": ")
            self.status = status
            return ev.StatusChanged(status, step, why)
        if kind == "checkpoint":
            return ev.CheckpointSaved(step, message)
        if kind == "evaluation failed":
            return ev.EvaluationFailed(step, message)
        return None

    def _check_alive(self) -> list:
        """A run whose process died without a word (SIGKILL) ends as `gan-tui runs` shows it."""
        now = time.monotonic()
        if self.status in TERMINAL or now - self._checked < LIVENESS_EVERY_S:
            return []
        self._checked = now
        try:
            summary = summarize(self.run_dir)
        except BadRun:
            return []
        if summary.status in TERMINAL and self.status not in TERMINAL:
            self.status = summary.status
            return [ev.StatusChanged(summary.status, summary.step or self.step, summary.note or summary.meta.get(
                "message", ""))]
        return []

    @property
    def ended(self) -> bool:
        return self.status in TERMINAL

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
            self.reader = None


class RemoteRun:
    """What the training screen steers, for a run trained by another process (TrainingRun's interface).

    `stop()` stops watching (the app calls it on the way out); `stop_training()` asks the trainer
    to checkpoint and stop."""

    remote = True

    def __init__(self, run_dir: Path, sink, model: RunModel, poll_s: float = POLL_S):
        self.run_dir = Path(run_dir)
        self.sink = sink
        self.model = model
        self.poll_s = poll_s
        self.follower = RunFollower(self.run_dir)
        self.done = threading.Event()  # the run has ended (or watching stopped)
        self.outcome: str | None = None
        self._quit = threading.Event()
        self.stop_sent = False
        self.error: str | None = None  # the last control failure, for the UI

    # -- commands (UI thread) -------------------------------------------

    def send(self, command: str) -> bool:
        from gan_tui.train.control_server import ControlError, send_command

        try:
            send_command(self.run_dir, command)
        except (ControlError, OSError, ValueError) as exc:
            self.error = str(exc)
            self.sink.app.notify(f"{command}: {exc}", severity="error", timeout=8)
            return False
        return True

    def toggle_pause(self) -> bool:
        pause = self.model.status != "paused"
        self.send("pause" if pause else "resume")
        return pause

    def checkpoint(self) -> None:
        self.send("checkpoint")

    def evaluate(self) -> None:
        self.send("evaluate")

    def stop_training(self) -> bool:
        if self.stop_sent:
            return True
        self.stop_sent = self.send("stop")
        return self.stop_sent

    def stop(self) -> None:
        """Stop watching (the training process goes on)."""
        self._quit.set()

    # -- the worker thread ------------------------------------------------

    def work(self) -> str:
        try:
            while not self._quit.is_set():
                for event in self.follower.poll():
                    self.sink.handle(event)
                if self.follower.ended:
                    for event in self.follower.poll():  # rows written just before the end
                        self.sink.handle(event)
                    self.outcome = self.follower.status
                    break
                self._quit.wait(self.poll_s)
        finally:
            self.follower.close()
            self.done.set()
        return self.outcome or "watching stopped"


class WatchQuit(ModalScreen[str | None]):
    BINDINGS = [Binding("y,enter,l", "answer('leave')", "Leave it running"),
                Binding("s", "answer('stop')", "Stop training"),
                Binding("n,escape,q", "answer(None)", "Cancel")]
    DEFAULT_CSS = """
    WatchQuit { align: center middle; }
    WatchQuit > Static { width: auto; max-width: 90%; height: auto; border: round $warning;
                         background: $surface; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        yield Static("Stop watching? The training goes on in its own process.\n\n"
                     "[b]y[/b] quit, leave it training    [b]s[/b] stop the training (checkpoint) and quit    "
                     "[b]esc[/b] cancel")

    def action_answer(self, answer: str | None) -> None:
        self.dismiss(answer)


WATCH_KEYS = [*[(k, w) for k, w in KEYS if k not in ("q", "d", "esc", "ctrl+z")],
              ("ctrl+z", "suspend to the shell until fg; the training goes on in its own process"),
              ("[ / ]", "samples and D outputs: previous / next logged step"),
              ("end", "samples and D outputs: follow the newest step again"),
              ("q", "quit watching; asks whether to leave the training running or stop it")]


class WatchScreen(TrainingScreen):
    # [ and ] are named on the tabs row, not the footer, which has no room for them at 80 columns.
    BINDINGS = [Binding("left_square_bracket", "scrub(-1)", "Step -", show=False),
                Binding("right_square_bracket", "scrub(1)", "Step +", show=False),
                Binding("end", "follow", "Follow", show=False)]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pinned: int | None = None  # the step the samples/histogram panes show; None = newest
        self._reader = None

    def action_help(self) -> None:
        from gan_tui.tui.screens.dialogs import HelpScreen

        self.app.push_screen(HelpScreen(WATCH_KEYS))

    def action_back(self) -> None:
        self.notify("q quits watching", timeout=2)

    def show_pane(self, index: int) -> None:
        super().show_pane(index)
        self._show_position()

    def _show_position(self) -> None:
        from rich.text import Text

        from gan_tui.tui.screens.training import PANES

        tabs = Text()
        for i, (_, name) in enumerate(PANES):
            tabs.append(f" {name} ", "reverse bold" if i == self.current else "dim")
            tabs.append(" ")
        if self.pinned is None:
            tabs.append(" tab: next pane  [ ]: step through samples", "dim")
        else:
            tabs.append(f" showing step {self.pinned:,}  ([ ] step, end: newest)", "bold yellow")
        self.query_one("#tabs", Static).update(tabs)

    def steps(self) -> list[int]:
        if self._reader is None:
            from gan_tui.store.reader import RunReader

            self._reader = RunReader(self.app.run_dir)
        return sorted(set(self._reader.sample_steps()) | set(self._reader.histogram_steps()))

    def action_scrub(self, direction: int) -> None:
        steps = self.steps()
        if not steps:
            self.notify("no samples or histograms logged yet", severity="warning")
            return
        here = self.pinned
        if here is None:
            here = self.model.samples.step if self.model.samples is not None else steps[-1]
        i = bisect.bisect_left(steps, here)
        if direction < 0:
            i = max(i - 1, 0)
        else:
            i = bisect.bisect_right(steps, here)
            if i >= len(steps):
                if self.model.active:
                    self.action_follow()
                    return
                i = len(steps) - 1
        self.show_step(steps[i])

    def show_step(self, step: int) -> None:
        """Samples and D outputs as they were at `step` (the last logged at or before it)."""
        reader = self._reader
        if reader is None:
            self.steps()
            reader = self._reader
        self.pinned = step
        self.app.pinned = step
        for logged, read, as_event in ((reader.sample_steps(), reader.samples, samples_event),
                                       (reader.histogram_steps(), reader.histogram, histograms_event)):
            i = bisect.bisect_right(logged, step)
            found = read(logged[i - 1]) if i else None
            if found is not None:
                self.model.apply(as_event(found))
        self.show_pane(self.current)
        self.redraw(force=True)
        self.notify(f"showing step {step:,}", timeout=1.5)

    def action_follow(self) -> None:
        self.pinned = None
        self.app.pinned = None
        latest = self.app.latest
        for event in latest.values():
            self.model.apply(event)
        self.show_pane(self.current)
        self.redraw(force=True)
        self.notify("following the newest step", timeout=1.5)

    def on_unmount(self) -> None:
        if self._reader is not None:
            self._reader.close()


class WatchApp(DashboardApp):
    """The dashboard on a run directory: `gan-tui watch RUN`."""

    def __init__(self, run_dir: Path, depth: str = "truecolor", fps: float = DEFAULT_FPS, poll_s: float = POLL_S):
        super().__init__(depth=depth, fps=fps)
        self.run_dir = Path(run_dir)
        self.poll_s = poll_s
        self.pinned: int | None = None
        self.latest: dict = {}  # the newest Samples/Histograms, kept while the panes show a pinned step

    # Textual calls the handlers of every base class too: prevent_default() keeps DashboardApp's
    # (picker, trainer, stop on unmount) out of watching.

    def on_mount(self, event) -> None:
        import asyncio
        import signal

        event.prevent_default()
        loop = asyncio.get_running_loop()
        for sig, handler in ((signal.SIGTERM, self.exit), (signal.SIGHUP, lambda: os._exit(129))):
            try:
                loop.add_signal_handler(sig, handler)
            except (NotImplementedError, RuntimeError, ValueError):
                pass
        self.model = RunModel()
        self.sink = DashboardSink(self)
        self.training = RemoteRun(self.run_dir, self.sink, self.model, self.poll_s)
        try:
            name = load_meta(self.run_dir)[0].get("profile", "?")
        except BadRun:
            name = "?"
        self.push_screen(WatchScreen(self.model, name, self.depth, self.fps))
        self.run_worker(self.training.work, thread=True, exit_on_error=False, group="watch",
                        name=f"watch {self.run_dir.name}")

    def on_unmount(self, event) -> None:
        event.prevent_default()
        if self.training is not None:
            self.training.stop()  # stops watching only

    def on_events_ready(self, message) -> None:
        message.prevent_default()
        sink = self.sink
        if sink is None:
            return
        for event in sink.drain():
            if isinstance(event, (ev.Samples, ev.Histograms)):
                self.latest[type(event).__name__] = event
                if self.pinned is not None:
                    continue
            self.model.apply(event)
            self.announce(event)

    def announce(self, event) -> None:
        if isinstance(event, ev.StatusChanged) and event.status == "paused":
            self.notify(f"training paused at step {event.step:,}", timeout=4)
        super().announce(event)

    def training_active(self) -> bool:
        return self.training is not None and not self.training.done.is_set() and self.model.active

    def action_detach(self) -> None:
        self.notify("this run already trains in its own process: q leaves it running", timeout=4)

    async def action_quit(self) -> None:
        if self.quitting or not self.training_active():
            self.exit()
            return
        if isinstance(self.screen, WatchQuit):
            return

        def answered(choice: str | None) -> None:
            if choice == "leave":
                self.exit()
            elif choice == "stop" and self.training.stop_training():
                self.quitting = True
                for screen in self.screen_stack:
                    if isinstance(screen, TrainingScreen):
                        screen.query_one("#status").stopping = True
                self.notify("the trainer is saving a checkpoint and stopping...", timeout=30)
                self.run_worker(self._exit_when_stopped(), group="quit")

        self.push_screen(WatchQuit(), answered)


def watch(run_dir: Path, depth: str = "truecolor", fps: float = DEFAULT_FPS) -> WatchApp:
    app = WatchApp(run_dir, depth=depth, fps=fps)
    app.run()
    return app
