"""Evaluations during training, off the training thread.

The trainer snapshots what an evaluation needs (a frozen copy of G, taken on
the training thread so the weights are those of one step) and hands the job
to `EvaluationWorker`, which runs jobs one at a time on its own thread. The
results come back through a queue that the training thread drains between
steps, so sinks (the SQLite store, the dashboard) are only ever called from
the training thread and never wait on an evaluation.

On CUDA the job runs on its own stream, so its kernels interleave with
training instead of queueing behind it on the default stream.

The thread lives only while there are jobs, and it is not a daemon: a process that
ends (Ctrl-C, `q` in the dashboard) while an evaluation runs waits for that one to
finish. A daemon thread would be torn down inside torch's C++ code at interpreter
exit, which aborts the process ("terminate called without an active exception")
instead of exiting with its own code.
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
        self._lock = threading.Lock()  # guards _thread and _running against the thread's own exit
        self._thread: threading.Thread | None = None
        self._running: int | None = None  # the step being evaluated now

    @property
    def outstanding(self) -> int:
        return self._outstanding

    @property
    def running_step(self) -> int | None:
        """The step whose evaluation is running now, or None."""
        return self._running

    def submit(self, step: int, job: Callable[[], dict], on_demand: bool = False) -> bool:
        """Queue `job`; False (and nothing queued) when MAX_OUTSTANDING are already waiting."""
        if self._outstanding >= MAX_OUTSTANDING:
            return False
        ready = None
        if self.device.type == "cuda":  # the snapshot was made on the training stream: wait for it
            ready = torch.cuda.Event()
            ready.record(torch.cuda.current_stream(self.device))
        self._outstanding += 1
        with self._lock:
            self._jobs.put((step, job, on_demand, ready))
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="gan-tui-evaluation")
                self._thread.start()
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

    def close(self) -> int | None:
        """Drop the jobs that have not started; the one running (its step is returned, or None)
        finishes on its own, and the process waits for it before exiting."""
        with self._lock:
            while True:
                try:
                    self._jobs.get_nowait()
                except queue.Empty:
                    break
                self._outstanding -= 1
            return self._running

    def _next_job(self):
        """The next job, or None after ending the thread's life when there is none (under the lock,
        so that submit() either sees this thread still alive or starts a new one)."""
        with self._lock:
            self._running = None
            try:
                item = self._jobs.get_nowait()
            except queue.Empty:
                self._thread = None
                return None
            self._running = item[0]
            return item

    def _loop(self) -> None:
        stream = torch.cuda.Stream(self.device) if self.device.type == "cuda" else None
        while (item := self._next_job()) is not None:
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
