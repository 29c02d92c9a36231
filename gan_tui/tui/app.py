"""DashboardApp: the picker or a profile's training screen, with the run owned by a thread worker.

Events cross from the trainer through DashboardSink (a deque plus one pending
wake-up message); the app applies them to the RunModel and the screen redraws
at its frame rate. Quitting always goes through "stop": the trainer saves a
checkpoint and ends as interrupted before the app exits.
"""

import asyncio
import signal
from pathlib import Path

from textual.app import App
from textual.binding import Binding

from gan_tui.frame_rate import DEFAULT_FPS
from gan_tui.metrics.best_fid import headline_key, headline_name
from gan_tui.train import events as ev
from gan_tui.tui.model import RunModel
from gan_tui.tui.runner import TrainingRun
from gan_tui.tui.screens.dialogs import ConfirmQuit
from gan_tui.tui.screens.picker import PickerScreen
from gan_tui.tui.screens.training import TrainingScreen, ended
from gan_tui.tui.sink import DashboardSink, EventsReady

EXIT_SIGTERM = 143


class DashboardApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "gan-tui"
    ENABLE_COMMAND_PALETTE = False
    # ctrl+c too: over SSH it is the reflex, and it must go through the same checkpoint-then-quit path.
    # ctrl+z: back to the shell as in any terminal program (Textual reads it as a key otherwise); fg returns.
    BINDINGS = [Binding("ctrl+q,ctrl+c", "quit", "Quit", show=False, priority=True),
                Binding("ctrl+z", "suspend_process", "Suspend", show=False)]

    def __init__(self, profile=None, overrides=(), runs_dir: Path | None = None, depth: str = "truecolor",
                 fps: float = DEFAULT_FPS, data_path: str | None = None, session_factory=None,
                 resume: str | None = None):
        super().__init__()
        self.start_profile = profile
        self.resume = resume  # a run id: the first run continues that run (gan-tui --resume RUN)
        self.overrides = list(overrides)
        self.runs_dir = runs_dir
        self.depth = depth
        self.fps = fps
        self.data_path = data_path
        self.session_factory = session_factory  # tests swap in a scripted trainer
        self.model: RunModel | None = None
        self.sink: DashboardSink | None = None
        self.training: TrainingRun | None = None
        self.checkpoint_requested = False
        self.quitting = False

    def on_mount(self) -> None:
        loop = asyncio.get_running_loop()
        on_term = lambda: self.stop_and_exit(EXIT_SIGTERM)  # noqa: E731  (like `gan-tui run`: 143)
        for sig, handler in ((signal.SIGTERM, on_term), (signal.SIGHUP, self.hang_up)):
            try:
                loop.add_signal_handler(sig, handler)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals here
                pass
        if self.start_profile is not None:
            self.start_training(self.start_profile, self.resume)
        else:
            self.push_screen(PickerScreen(self.overrides))

    def on_unmount(self) -> None:
        # Whatever ends the app, the trainer must not outlive it unsaved: asyncio.run waits for
        # the worker thread on the way out, and "stop" makes it checkpoint and return promptly.
        if self.training is not None:
            self.training.stop()

    # -- runs ------------------------------------------------------------

    def start_training(self, profile, resume: str | None = None) -> None:
        """Train `profile` in a new run, or (`resume`, a run id) continue that run with it."""
        from gan_tui.paths import runs_dir

        self.model = RunModel()
        self.sink = DashboardSink(self)
        self.training = TrainingRun(profile, runs_dir(self.runs_dir), self.sink, self.data_path,
                                    self.session_factory, resume)
        self.checkpoint_requested = False
        self.push_screen(TrainingScreen(self.model, profile.name, self.depth, self.fps))
        self.run_worker(self.training.work, thread=True, exit_on_error=False, group="training",
                        name=f"train {profile.name}")

    def show_picker(self) -> None:
        """Back to the profile list once a run has ended."""
        if len(self.screen_stack) >= 2 and isinstance(self.screen_stack[-2], PickerScreen):
            self.pop_screen()
        else:  # started as `gan-tui PROFILE`: the list opens on that profile, to edit it or start it again
            self.switch_screen(PickerScreen(self.overrides, highlight=self.training and self.training.profile.name))

    def on_events_ready(self, message: EventsReady) -> None:
        sink = self.sink
        if sink is None:
            return
        for event in sink.drain():
            self.model.apply(event)
            self.announce(event)

    def announce(self, event) -> None:
        """Say what the user needs to know about an event; panes show the rest (and the banner
        shows collapse alarms: a toast on top of it would only hide a pane)."""
        if isinstance(event, ev.CheckpointSaved) and self.checkpoint_requested:
            self.checkpoint_requested = False
            self.notify(f"checkpoint saved at step {event.step:,}: {event.path}", timeout=6)
        elif isinstance(event, ev.StatusChanged):
            if event.status == "finished":
                self.notify(f"training finished at step {event.step:,}", timeout=6)
            elif event.status == "interrupted":
                self.notify(f"training stopped at step {event.step:,}; checkpoint saved", timeout=6)
            elif event.status in ("failed", "diverged"):
                self.notify(event.message, title=f"training {event.status}", severity="error", timeout=15)
            elif event.extra.get("rollback"):  # train.on_divergence = "rollback"; the banner keeps it
                self.notify(event.message, title="training rolled back", severity="warning", timeout=15)
        elif isinstance(event, ev.Evaluated) and event.on_demand:  # scheduled results just fill the panes
            key = headline_key(event.metrics)  # FID, or a CycleGAN's cycle error
            what = f": {headline_name(event.metrics, key)} {event.metrics[key]:.4g}" if key else ""
            self.notify(f"evaluation at step {event.step:,} done{what}", timeout=6)
        elif isinstance(event, ev.EvaluationFailed):
            self.notify(event.message, title=f"evaluation at step {event.step:,} failed", severity="error", timeout=10)

    # -- quitting ----------------------------------------------------------

    def training_active(self) -> bool:
        return self.training is not None and not self.training.done.is_set()

    async def action_quit(self) -> None:
        if self.quitting:
            self.notify("stopping: waiting for the trainer to save a checkpoint...", timeout=3)
            return
        if not self.training_active():
            self.exit()
            return
        if isinstance(self.screen, ConfirmQuit):  # ctrl+q/ctrl+c again while it asks
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.stop_and_exit()

        self.push_screen(ConfirmQuit("Quit? Training saves a checkpoint, stops (marked interrupted) and the "
                                     "dashboard closes."), answered)

    def stop_and_exit(self, code: int = 0) -> None:
        """Send "stop", wait for the worker to finish its checkpoint, then exit with `code`."""
        if self.quitting:
            return
        self.quitting = True
        if not self.training_active():
            self.exit(return_code=code)
            return
        self.training.stop()
        for screen in self.screen_stack:
            if isinstance(screen, TrainingScreen):
                screen.query_one("#status").stopping = True
        self.notify("saving a checkpoint and stopping...", timeout=30)
        self.run_worker(self._exit_when_stopped(code), group="quit")

    def hang_up(self) -> None:
        """The terminal is gone (SSH dropped): save the run, then leave without drawing.

        Textual's writer blocks for ever once writes to a hung-up terminal fail, so
        a normal exit could hang; the run is safe once the worker is done, and
        os._exit skips only the terminal clean-up there is no terminal for."""
        import os
        import threading

        run = self.training
        if run is not None:
            run.stop()

        def leave() -> None:
            if run is not None:
                run.done.wait(timeout=600)
            os._exit(129)

        threading.Thread(target=leave, name="hang-up", daemon=True).start()

    # -- detaching (d) -----------------------------------------------------

    def action_detach(self) -> None:
        """Training goes on in its own session: the in-process trainer checkpoints and stops, a
        detached `gan-tui run --resume RUN` continues from that checkpoint, and the app exits with
        ("watch", run_dir) so that launch.py reopens the run as `gan-tui watch`."""
        if self.quitting:
            return
        if not self.training_active() or self.model is None or self.model.info is None:
            self.notify("no training is running here to detach", severity="warning")
            return
        self.quitting = True
        self.training.stop()
        for screen in self.screen_stack:
            if isinstance(screen, TrainingScreen):
                screen.query_one("#status").stopping = True
        self.notify("detaching: saving a checkpoint, then training continues in the background...", timeout=30)
        self.run_worker(self._detach_when_stopped(), group="quit")

    async def _detach_when_stopped(self) -> None:
        from gan_tui import detach
        from gan_tui.errors import BadInput

        while not self.training.done.is_set():
            await asyncio.sleep(0.05)
        run_dir = Path(self.model.info.run_dir)
        if self.training.outcome != "interrupted":  # it finished (or failed) before the stop: nothing to continue
            self.quitting = False
            self.notify(f"{ended(self.training.outcome)}: nothing to detach", severity="warning")
            return
        try:
            await asyncio.to_thread(detach.start, None, [], run_dir.parent, self.data_path, run_dir.name)
        except BadInput as exc:
            self.notify(f"could not continue in the background: {exc} (resume with gan-tui run --resume "
                        f"{run_dir.name})", severity="error", timeout=30)
            self.quitting = False
            return
        self.exit(("watch", run_dir))

    async def _exit_when_stopped(self, code: int = 0) -> None:
        while not self.training.done.is_set():
            await asyncio.sleep(0.05)
        self.exit(return_code=code)
