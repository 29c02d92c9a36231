"""Headless sinks: a rich progress bar on stderr, or JSON lines on stdout."""

import json
import math
import os
import sys
import time

from rich.console import Console
from rich.progress import BarColumn, Progress
from rich.table import Table
from rich.text import Text

from gan_tui.metrics.best_fid import BestFid, headline_key, headline_name
from gan_tui.metrics.classes import weakest_class
from gan_tui.store.meta import jsonable
from gan_tui.store.runs import format_duration
from gan_tui.train import events as ev


class OutputStream:
    """stdout or stderr as a sink writes to it, surviving the loss of whoever reads it.

    When the terminal closes (an SSH connection drops: EIO) or the reader of a pipe goes away
    (`--json | head`: EPIPE), a write raises OSError; uncaught, that failed the run. Instead the
    descriptor is pointed at /dev/null, so that later writes (the rich refresh thread's, the last
    notices, the interpreter's flush at exit) cannot fail, and `on_lost` is called once, so the
    run can checkpoint and stop as a hang-up would."""

    def __init__(self, stream, on_lost=None):
        self.stream = stream
        self.on_lost = on_lost
        self.lost: OSError | None = None

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except OSError as exc:
            self._lose(exc)
            return len(text)

    def flush(self) -> None:
        try:
            self.stream.flush()
        except OSError as exc:
            self._lose(exc)

    def _lose(self, exc: OSError) -> None:
        if self.lost is not None:
            return
        self.lost = exc
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, self.stream.fileno())
            os.close(null)
        except (OSError, ValueError):  # not a real file (a test's StringIO): nothing to redirect
            pass
        if self.on_lost is not None:
            self.on_lost(exc)

    def __getattr__(self, name):  # isatty, fileno, encoding, ... for rich's terminal detection
        return getattr(self.stream, name)


def _fmt(value) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.3f}"


def evaluation_line(step: int, metrics: dict, best: tuple[float, int] | None) -> str:
    """One line per evaluation: FID (or cycle error) with its label, best so far, and the collapse signals."""
    labels = metrics.get("labels", {})
    parts = []
    headline = headline_key(metrics)
    if headline is not None:
        parts.append(f"{headline_name(metrics, headline)} {metrics[headline]:.3f}")
        if best is not None:
            parts.append(f"best {best[0]:.3f} at step {best[1]:,}")
    if "modes_captured" in metrics:
        parts.append(f"modes {metrics['modes_captured']}/{metrics['modes_total']}, "
                     f"high quality {metrics['high_quality']:.0%}")
    if "classes_covered" in metrics:
        parts.append(f"classes {metrics['classes_covered']}/{metrics['classes_total']}")
    if metrics.get("diversity") is not None:
        parts.append(f"diversity {metrics['diversity']:.2f}")
    for key, label in labels.items():  # anything else a trainer measured (CycleGAN: cycle error, ...)
        if key not in (headline, "fid", "kid", "is", "precision", "recall", "density", "coverage", "diversity",
                       "near_duplicates", "modes_captured", "high_quality", "classes_covered", "class_kl"):
            if isinstance(metrics.get(key), (int, float)):
                parts.append(f"{label} {metrics[key]:.1%}" if "accuracy" in key else f"{label} {metrics[key]:.3g}")
    weakest = weakest_class(metrics)  # a conditional G: the class the mean hides
    if weakest:
        parts.append(f"lowest class {weakest[0]} {weakest[1]:.1%}")
    seconds = metrics.get("seconds")
    return f"evaluation at step {step:,}: " + ", ".join(parts) + (f" ({seconds:.1f} s)" if seconds else "")


# The parts of the live progress line, left to right, and which go first where the terminal is too
# narrow for all of them: whole parts are left out, never each one cut to "1527/…".
LINE_PARTS = ("name", "bar", "steps", "rate", "losses", "outputs", "eta")
KEPT_FIRST = ("steps", "rate", "eta", "name", "losses", "outputs", "bar")
BAR_WIDTHS = (10, 20)  # the bar only where at least 10 columns are left; 20 at most


def line_parts(task, width: int) -> list:
    """The renderables of one task's progress line that fit in `width` columns, in line order."""
    total = f"{int(task.total):,}" if task.total is not None else "?"
    texts = {"name": Text(task.description, style="bold"), "steps": Text(f"{int(task.completed):,}/{total}"),
             "rate": Text(f"{task.fields['rate']} it/s"), "losses": Text(task.fields["losses"]),
             "outputs": Text(task.fields["outputs"]), "eta": Text(f"ETA {task.fields['eta']}")}
    kept, used = set(), -1  # one space between parts
    for key in KEPT_FIRST:
        need = BAR_WIDTHS[0] if key == "bar" else texts[key].cell_len
        if need and used + 1 + need <= width:
            kept.add(key)
            used += 1 + need
    if "bar" in kept:  # the columns left over widen it
        texts["bar"] = BarColumn(bar_width=min(BAR_WIDTHS[1], BAR_WIDTHS[0] + width - used)).render(task)
    return [texts[key] for key in LINE_PARTS if key in kept]


class FittedProgress(Progress):
    """rich's Progress with its line fitted to the terminal (line_parts)."""

    def make_tasks_table(self, tasks) -> Table:
        table = Table.grid(padding=(0, 1))
        for task in tasks:
            if task.visible:
                table.add_row(*line_parts(task, self.console.width))
        return table


LINE_PERIOD_S = 30.0  # without a terminal (a log file, nohup, --detach): one progress line this often


class ConsoleProgress:
    """step/total, it/s, D and G loss, D(x), D(G(z)) and ETA, redrawn a few times a second.

    Where stderr is no terminal (`2> log`, nohup, the console.log of `run --detach`) a live bar
    draws nothing until the run ends, so a plain line goes out instead every LINE_PERIOD_S
    seconds (the first at once), unwrapped, for `tail -f`."""

    def __init__(self, console: Console | None = None, on_lost=None, clock=time.monotonic):
        self.console = console or Console(file=OutputStream(sys.stderr, on_lost))
        self.plain = not self.console.is_terminal
        if self.plain:
            self.console.soft_wrap = True  # a log line is not cut at 80 columns
        self.progress = FittedProgress(console=self.console, refresh_per_second=4, transient=False)
        self.task = None
        self.best = BestFid()
        self.notes_said: set[str] = set()
        self.clock = clock
        self.name, self.losses, self.run_id = "", "", ""
        self.last_line: float | None = None  # when the last plain line went out
        self.unsaid: ev.Progress | None = None  # the newest progress not yet in a plain line

    def handle(self, event) -> None:
        if isinstance(event, ev.RunStarted):
            self.console.print(f"run [bold]{event.run_id}[/] on {event.where}: {event.run_dir}")
            self.name, self.run_id = event.profile_name, event.run_id
            if not self.plain:
                self.progress.start()
            self.task = self.progress.add_task(event.profile_name, total=event.total_steps,
                                               completed=event.start_step, rate="-", losses="", outputs="", eta="-")
        elif self.task is None:
            return
        elif isinstance(event, ev.Scalars):
            v = event.values
            losses = f"D {_fmt(v['d_loss'])} G {_fmt(v['g_loss'])}"
            outputs = f"D(x) {_fmt(v['d_real'])} D(G(z)) {_fmt(v['d_fake'])}"
            self.losses = f"{losses} {outputs}"
            self.progress.update(self.task, losses=losses, outputs=outputs)
        elif isinstance(event, ev.Progress):
            self.progress.update(self.task, completed=event.step, rate=f"{event.it_per_s:.1f}",
                                 eta=format_duration(event.eta))
            if self.plain:
                self.unsaid = event
                if self.last_line is None or self.clock() - self.last_line >= LINE_PERIOD_S:
                    self._say_progress()
        elif isinstance(event, ev.Evaluated):
            for note in event.metrics.get("notes", []):  # e.g. no Inception weights: said once
                if note not in self.notes_said:
                    self.notes_said.add(note)
                    self.console.print(f"note: {note}", style="yellow", markup=False, highlight=False)
            self.best.update(event.step, event.metrics)
            self.console.print(evaluation_line(event.step, event.metrics, self.best.pair),
                               markup=False, highlight=False)
        elif isinstance(event, ev.EvaluationFailed):
            self.console.print(f"evaluation at step {event.step:,} failed: {event.message}", style="yellow",
                               markup=False, highlight=False)
        elif isinstance(event, ev.CollapseAlarm):
            self.console.print(f"COLLAPSE ALARM at step {event.step:,}: {event.reason}", style="bold red",
                               markup=False, highlight=False)
        elif isinstance(event, ev.StatusChanged) and event.extra.get("rollback"):  # train.on_divergence
            self.progress.update(self.task, completed=event.step)
            self.console.print(f"warning: {event.message}", style="yellow", markup=False, highlight=False)
        elif isinstance(event, ev.StatusChanged) and event.status not in ("running", "paused"):
            if self.plain and self.unsaid is not None:
                self._say_progress()  # where it ended
            self._stop_bar()
            again = f"; continue it with `gan-tui run --resume {self.run_id}`" if event.status == "interrupted" else ""
            self.console.print(f"{event.status} at step {event.step:,}" + (f": {event.message}" if event.message else "")
                               + again, markup=False, highlight=False)

    def _say_progress(self) -> None:
        p, self.unsaid, self.last_line = self.unsaid, None, self.clock()
        share = f" ({100 * p.step / p.total:.0f}%)" if p.total else ""
        parts = [f"{self.name} step {p.step:,}/{p.total:,}{share}", f"{p.it_per_s:.1f} it/s", self.losses,
                 f"ETA {format_duration(p.eta)}"]
        self.console.print("  ".join(part for part in parts if part), markup=False, highlight=False)

    def _stop_bar(self) -> None:
        if not self.plain:  # a bar never started still prints an empty line on stop
            self.progress.stop()

    def close(self) -> None:
        self._stop_bar()


class JsonLines:
    """One JSON object per log interval (and one per status change) on stdout."""

    def __init__(self, stream=None, on_lost=None):
        self.stream = OutputStream(stream or sys.stdout, on_lost)
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
        elif isinstance(event, ev.Evaluated):
            self._write({"event": "evaluation", "run_id": self.run_id, "step": event.step,
                         **jsonable(event.metrics)})
        elif isinstance(event, ev.EvaluationFailed):
            self._write({"event": "evaluation_failed", "run_id": self.run_id, "step": event.step,
                         "message": event.message})
        elif isinstance(event, ev.CollapseAlarm):
            self._write({"event": "alarm", "run_id": self.run_id, "step": event.step, "rule": event.rule,
                         "reason": event.reason, "since": event.since})
        elif isinstance(event, ev.StatusChanged):
            self._write({"event": "status", "run_id": self.run_id, "status": event.status,
                         "step": event.step, "message": event.message})

    def close(self) -> None:
        pass
