"""One training run started from the dashboard: session, command queue, failure handling.

`work` runs on a Textual thread worker. It builds the session there (loading a
dataset can take a while and must not freeze the screen), trains, and turns
every way training can end into a StatusChanged the dashboard shows, the same
way `gan-tui run` records them in the run directory.
"""

import threading
import traceback

from gan_tui.errors import BadInput, TrainingDiverged
from gan_tui.train.control import Commands
from gan_tui.train.events import StatusChanged


def failure_message(exc: BaseException, trainer=None, profile=None) -> str:
    """The sentence `gan-tui run` prints for the same failure (gan_tui/train/failures.py)."""
    if isinstance(exc, BadInput):
        return str(exc)
    from gan_tui.train.failures import failure_message as describe

    return describe(exc, trainer, profile)


class TrainingRun:
    def __init__(self, profile, runs_dir, sink, data_path: str | None = None, session_factory=None,
                 resume: str | None = None):
        self.profile = profile
        self.resume = resume  # a run id to continue with `profile` (its own, loaded from the run), else None
        self.runs_dir = runs_dir
        self.sink = sink
        self.data_path = data_path
        self.session_factory = session_factory
        self.commands = Commands()
        self.session = None
        self.outcome: str | None = None  # finished, interrupted, diverged, failed, not-started
        self.done = threading.Event()
        self.paused = False  # what the UI last asked for; commands alternate strictly
        self.stop_sent = False

    # -- commands from the UI thread -------------------------------------

    def toggle_pause(self) -> bool:
        """Ask for pause or resume; returns True when pause was asked for."""
        self.paused = not self.paused
        self.commands.send("pause" if self.paused else "resume")
        return self.paused

    def checkpoint(self) -> None:
        self.commands.send("checkpoint")

    def evaluate(self) -> None:
        """FID and the other scores now, on the evaluation thread (Command.EVALUATE)."""
        self.commands.send("evaluate")

    def stop(self) -> None:
        """Checkpoint and end as interrupted (works while paused too)."""
        if not self.stop_sent and not self.done.is_set():
            self.stop_sent = True
            self.commands.send("stop")

    # -- the worker thread -----------------------------------------------

    def work(self) -> str:
        try:
            self.outcome = self._work()
        finally:
            self.done.set()
        return self.outcome

    def _work(self) -> str:
        factory = self.session_factory
        if factory is None and self.resume:
            from gan_tui.train.session import resume_session

            def factory(profile, runs_dir, sinks, commands, data_path):
                return resume_session(lambda path: profile, runs_dir, self.resume, sinks, commands, data_path)
        elif factory is None:
            from gan_tui.train.session import new_session as factory
        try:
            self.session = factory(self.profile, self.runs_dir, sinks=[self.sink], commands=self.commands,
                                   data_path=self.data_path)
        except Exception as exc:  # nothing was written yet: just say why
            why = failure_message(exc, profile=self.profile)
            self.sink.handle(StatusChanged("failed", 0, f"could not start: {why}", {"started": False}))
            return "not-started"
        if self.resume:  # the curves so far, before the trainer adds to them
            from gan_tui.tui.watch import history_events

            for event in history_events(self.session.run_dir):
                self.sink.handle(event)
        from gan_tui.train.control_server import serve_session

        control = serve_session(self.session, self.commands)  # `gan-tui watch` from another terminal steers it too
        try:
            return self.session.trainer.run()
        except TrainingDiverged:
            return "diverged"  # the trainer marked the run and told every sink itself
        except Exception as exc:
            self._record_failure(exc)
            return "failed"
        finally:
            if control is not None:
                control.close()
            self.session.close()

    def _record_failure(self, exc: Exception) -> None:
        """Mark the run failed in its directory, keep the traceback there, and tell the dashboard."""
        message = failure_message(exc, self.session.trainer)
        step = getattr(self.session.trainer, "step", 0)
        log = self.session.run_dir / "error.log"
        try:
            log.write_text(traceback.format_exc())
            where = f" (traceback in {log})"
        except OSError:
            where = ""
        try:
            self.session.store.handle(StatusChanged("failed", step, message))
        except Exception:  # the store itself may be what broke; the dashboard must still hear
            pass
        self.sink.handle(StatusChanged("failed", step, message + where))
