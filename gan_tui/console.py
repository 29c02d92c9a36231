"""Headless sinks: a rich progress bar on stderr, or JSON lines on stdout."""

import json
import math
import sys

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from gan_tui.train import events as ev


def _fmt(value) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.3f}"


class ConsoleProgress:
    """step/total, it/s, D and G loss, D(x), D(G(z)) and ETA, redrawn a few times a second."""

    def __init__(self, console: Console | None = None):
        self.console = console or Console(stderr=True)
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(bar_width=20), MofNCompleteColumn(),
            TextColumn("{task.fields[rate]} it/s"), TextColumn("{task.fields[losses]}"), TimeRemainingColumn(),
            console=self.console, refresh_per_second=4, transient=False)
        self.task = None
        self.values: dict[str, float] = {}

    def handle(self, event) -> None:
        if isinstance(event, ev.RunStarted):
            self.console.print(f"run [bold]{event.run_id}[/] on {event.device}: {event.run_dir}")
            self.progress.start()
            self.task = self.progress.add_task(event.profile_name, total=event.total_steps,
                                               completed=event.start_step, rate="-", losses="")
        elif self.task is None:
            return
        elif isinstance(event, ev.Scalars):
            v = event.values
            losses = (f"D {_fmt(v['d_loss'])} G {_fmt(v['g_loss'])} "
                      f"D(x) {_fmt(v['d_real'])} D(G(z)) {_fmt(v['d_fake'])}")
            self.progress.update(self.task, losses=losses)
        elif isinstance(event, ev.Progress):
            self.progress.update(self.task, completed=event.step, rate=f"{event.it_per_s:.1f}")
        elif isinstance(event, ev.StatusChanged) and event.status not in ("running", "paused"):
            self.progress.stop()
            self.console.print(f"{event.status} at step {event.step}" + (f": {event.message}" if event.message else ""))

    def close(self) -> None:
        self.progress.stop()


class JsonLines:
    """One JSON object per log interval (and one per status change) on stdout."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout
        self.last_progress: ev.Progress | None = None
        self.run_id = ""

    def _write(self, obj: dict) -> None:
        self.stream.write(json.dumps(obj) + "\n")
        self.stream.flush()

    def handle(self, event) -> None:
        if isinstance(event, ev.RunStarted):
            self.run_id = event.run_id
            self._write({"event": "started", "run_id": event.run_id, "run_dir": event.run_dir,
                         "device": event.device, "total_steps": event.total_steps, "start_step": event.start_step})
        elif isinstance(event, ev.Progress):
            self.last_progress = event
        elif isinstance(event, ev.Scalars):
            row = {"event": "scalars", "run_id": self.run_id, "step": event.step, **event.values}
            if self.last_progress:
                row.update(it_per_s=round(self.last_progress.it_per_s, 3),
                           images_per_s=round(self.last_progress.images_per_s, 1))
            self._write(row)
        elif isinstance(event, ev.StatusChanged):
            self._write({"event": "status", "run_id": self.run_id, "status": event.status,
                         "step": event.step, "message": event.message})

    def close(self) -> None:
        pass
