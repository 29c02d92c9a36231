"""What the dashboard knows about the run, built from engine events on the UI thread.

Events are applied as they arrive (cheap: appends and "latest wins"); panes
redraw later, at the screen's frame rate, when the version of what they show
has moved. Series live in growing numpy buffers so a long run costs no
per-point Python objects.
"""

import math

import numpy as np

from gan_tui.metrics.best_fid import BestFid, headline_key
from gan_tui.train import events as ev

SMOOTHING_STEPS = (0.0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999)
DEFAULT_SMOOTHING = 0.9
MEAN_NAMES = ("d_real", "d_fake")  # D's mean outputs: shown with the D outputs, not the losses




class Buffer:
    """An append-only float64 array that doubles its storage when full."""

    def __init__(self, capacity: int = 256):
        self._data = np.empty(capacity)
        self.size = 0

    def append(self, value: float) -> None:
        if self.size == len(self._data):
            self._data = np.concatenate([self._data, np.empty(len(self._data))])
        self._data[self.size] = value
        self.size += 1

    def view(self) -> np.ndarray:
        return self._data[: self.size]


class Series:
    """One scalar against step, raw and EMA-smoothed (TensorBoard's debiased EMA)."""

    def __init__(self, weight: float):
        self.steps, self.raw, self.ema = Buffer(), Buffer(), Buffer()
        self.weight = weight
        self._last, self._count = 0.0, 0

    def append(self, step: int, value: float) -> None:
        self.steps.append(step)
        self.raw.append(value)
        self.ema.append(self._smooth(value))

    def _smooth(self, value: float) -> float:
        if not math.isfinite(value):
            return value
        self._last = self._last * self.weight + (1 - self.weight) * value
        self._count += 1
        return self._last / (1 - self.weight ** self._count) if self.weight > 0 else value

    def truncate(self, step: int) -> None:
        """Forget the points after `step`."""
        keep = int(np.searchsorted(self.steps.view(), step, side="right"))
        self.steps.size = self.raw.size = keep
        self.resmooth(self.weight)

    def resmooth(self, weight: float) -> None:
        self.weight, self._last, self._count = weight, 0.0, 0
        ema = Buffer(max(self.raw.size, 1))
        for value in self.raw.view():
            ema.append(self._smooth(float(value)))
        self.ema = ema


class RunModel:
    def __init__(self):
        self.info: ev.RunStarted | None = None
        self.status = "starting"
        self.message = ""
        self.step = 0
        self.progress: ev.Progress | None = None
        self.series: dict[str, Series] = {}
        self.histograms: ev.Histograms | None = None
        self.samples: ev.Samples | None = None
        self.last_checkpoint: ev.CheckpointSaved | None = None
        self.smoothing = DEFAULT_SMOOTHING
        # Evaluations (FID & co.) and collapse alarms: only what the evaluator reported, never a guess.
        # The FID pane's series: FID, or for a translation run (CycleGAN) its A→B→A cycle error.
        self.headline: str | None = None  # which of metrics.best_fid.HEADLINE_KEYS the evaluations carry
        self.fid_steps, self.fid_values = Buffer(16), Buffer(16)
        self.best = BestFid()  # the lowest finite value of that series so far
        self.metrics: dict | None = None  # the latest Evaluated's metrics
        self.metrics_step: int | None = None
        self.evaluating: int | None = None  # step of the evaluation running now
        self.requested: int | None = None  # step at which `f` asked; cleared when the evaluator answers
        self.eval_failure: ev.EvaluationFailed | None = None  # the last failure, until a later result
        self.alarms: list[ev.CollapseAlarm] = []
        self.versions = dict.fromkeys(("info", "status", "progress", "scalars", "histograms", "samples",
                                       "checkpoint", "smoothing", "evaluation", "alarms"), 0)

    def _bump(self, *names: str) -> None:
        for name in names:
            self.versions[name] += 1

    def apply(self, event) -> None:
        if isinstance(event, ev.Scalars):
            for name, value in event.values.items():
                series = self.series.get(name)
                if series is None:
                    series = self.series[name] = Series(self.smoothing)
                series.append(event.step, float(value))
            self.step = max(self.step, event.step)
            self._bump("scalars")
        elif isinstance(event, ev.Progress):
            self.progress = event
            self.step = max(self.step, event.step)
            self._bump("progress")
        elif isinstance(event, ev.Histograms):
            self.histograms = event
            self._bump("histograms")
        elif isinstance(event, ev.Samples):
            self.samples = event
            self._bump("samples")
        elif isinstance(event, ev.CheckpointSaved):
            self.last_checkpoint = event
            self._bump("checkpoint")
        elif isinstance(event, ev.StatusChanged):
            self.status, self.message = event.status, event.message
            self.step = max(self.step, event.step)
            if event.extra.get("rollback"):  # back to a checkpoint: the later points are replayed
                self.step = event.step
                for series in self.series.values():
                    series.truncate(event.step)
                self._bump("scalars")
            self._bump("status")
        elif isinstance(event, ev.RunStarted):
            self.info = event
            self.step = event.start_step
            self.status = "running"  # the trainer sends no StatusChanged for the start itself
            self._bump("status")
            self._bump("info")
        elif isinstance(event, (ev.EvaluationStarted, ev.Evaluated, ev.EvaluationFailed)):
            self._apply_evaluation(event)
        elif isinstance(event, ev.CollapseAlarm):
            self.alarms.append(event)
            self._bump("alarms")

    def _apply_evaluation(self, event) -> None:
        if self.requested is not None and event.step >= self.requested:
            self.requested = None  # the evaluator has taken (or refused) the request
        if isinstance(event, ev.EvaluationStarted):
            self.evaluating = event.step
        else:
            # One evaluation runs at a time and reports under the step it started with; a failure at
            # another step (a request skipped because too many wait) leaves the running one be.
            if self.evaluating == event.step:
                self.evaluating = None
            if isinstance(event, ev.EvaluationFailed):
                self.eval_failure = event
            else:
                self._add_result(event)
        self._bump("evaluation")

    def _add_result(self, event: ev.Evaluated) -> None:
        self.metrics, self.metrics_step = event.metrics, event.step
        if self.eval_failure is not None and self.eval_failure.step <= event.step:
            self.eval_failure = None  # stale: a later evaluation worked
        key = headline_key(event.metrics)  # the score plotted over time
        if key is not None:
            self.headline = key
            value = float(event.metrics[key])
            self.fid_steps.append(event.step)
            self.fid_values.append(value)  # NaN kept: the plot breaks the line there
            self.best.update(event.step, event.metrics)

    @property
    def best_fid(self) -> tuple[float, int] | None:
        """(value, step) of the lowest finite FID (or cycle error, see `headline`) so far."""
        return self.best.pair

    def request_evaluation(self) -> None:
        """`f` was pressed: panes say so until the evaluator starts (or refuses)."""
        self.requested = self.step
        self._bump("evaluation")

    # -- views used by the panes ------------------------------------------

    @property
    def output_kind(self) -> str:
        if self.histograms is not None:
            return self.histograms.kind
        return self.info.output_kind if self.info else "probability"

    def loss_names(self) -> list[str]:
        """D and G loss first, then every extra term (GP, R1, ...) in arrival order."""
        names = [n for n in self.series if n not in MEAN_NAMES]
        first = [n for n in ("d_loss", "g_loss") if n in names]
        return first + [n for n in names if n not in first]

    def set_smoothing(self, weight: float) -> None:
        self.smoothing = weight
        for series in self.series.values():
            series.resmooth(weight)
        self._bump("smoothing")

    def smoothing_step(self, direction: int) -> float:
        """Move one notch along SMOOTHING_STEPS (+1 smoother, -1 rawer); returns the new weight."""
        here = min(range(len(SMOOTHING_STEPS)), key=lambda i: abs(SMOOTHING_STEPS[i] - self.smoothing))
        there = min(max(here + direction, 0), len(SMOOTHING_STEPS) - 1)
        if there != here:
            self.set_smoothing(SMOOTHING_STEPS[there])
        return self.smoothing

    @property
    def active(self) -> bool:
        """True while a trainer may still be running (it can take commands)."""
        return self.status in ("starting", "running", "paused")
