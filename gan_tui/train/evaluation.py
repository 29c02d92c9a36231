"""Evaluations during training, off the training thread.

The trainer snapshots what an evaluation needs (a frozen copy of G, taken on
the training thread so the weights are those of one step) and hands the job
to `EvaluationWorker`, which runs jobs one at a time on its own thread. The
results come back through a queue that the training thread drains between
steps, so sinks (the SQLite store, the dashboard) are only ever called from
the training thread and never wait on an evaluation.

On CUDA the job runs on its own stream, so its kernels interleave with
training instead of queueing behind it on the default stream.
"""

import queue
import threading
from dataclasses import dataclass
from typing import Callable

import torch

from gan_tui.errors import BadInput

MAX_OUTSTANDING = 2  # one running, one waiting: more would pile up copies of G in memory


@dataclass
class Outcome:
    step: int
    on_demand: bool
    metrics: dict | None = None
    error: str = ""
    started: bool = False  # True for the "it began" notice, before the result
    bad_input: bool = False  # the profile or the machine cannot evaluate (no evaluator for the dataset, ...)


class EvaluationWorker:
    def __init__(self, device: torch.device):
        self.device = device
        self._jobs: queue.Queue = queue.Queue()
        self._outcomes: queue.SimpleQueue[Outcome] = queue.SimpleQueue()
        self._outstanding = 0  # submitted and not yet collected; touched by the training thread only
        self._thread: threading.Thread | None = None

    @property
    def outstanding(self) -> int:
        return self._outstanding

    def submit(self, step: int, job: Callable[[], dict], on_demand: bool = False) -> bool:
        """Queue `job`; False (and nothing queued) when MAX_OUTSTANDING are already waiting."""
        if self._outstanding >= MAX_OUTSTANDING:
            return False
        ready = None
        if self.device.type == "cuda":  # the snapshot was made on the training stream: wait for it
            ready = torch.cuda.Event()
            ready.record(torch.cuda.current_stream(self.device))
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="gan-tui-evaluation", daemon=True)
            self._thread.start()
        self._outstanding += 1
        self._jobs.put((step, job, on_demand, ready))
        return True

    def collect(self) -> list[Outcome]:
        """On the training thread: the notices and results that arrived since the last call."""
        out = []
        while True:
            try:
                outcome = self._outcomes.get_nowait()
            except queue.Empty:
                return out
            if not outcome.started:
                self._outstanding -= 1
            out.append(outcome)

    def wait(self, timeout: float | None = None) -> list[Outcome]:
        """Block until every submitted job has finished (the end of a run); returns what arrived."""
        out = []
        while self._outstanding:
            try:
                outcome = self._outcomes.get(timeout=timeout)
            except queue.Empty:
                break
            if not outcome.started:
                self._outstanding -= 1
            out.append(outcome)
        return out

    def close(self) -> None:
        if self._thread is not None:
            self._jobs.put(None)

    def _loop(self) -> None:
        stream = torch.cuda.Stream(self.device) if self.device.type == "cuda" else None
        while True:
            item = self._jobs.get()
            if item is None:
                return
            step, job, on_demand, ready = item
            self._outcomes.put(Outcome(step, on_demand, started=True))
            try:
                if stream is not None:
                    stream.wait_event(ready)
                    with torch.cuda.stream(stream):
                        metrics = job()
                    stream.synchronize()
                else:
                    metrics = job()
                self._outcomes.put(Outcome(step, on_demand, metrics=metrics))
            except Exception as exc:  # an evaluation must never take the training down
                text = str(exc).strip()
                message = text.splitlines()[0] if text else type(exc).__name__
                self._outcomes.put(Outcome(step, on_demand, error=message, bad_input=isinstance(exc, BadInput)))
