"""The one way to steer a running trainer: a small queue of commands."""

import queue
from enum import Enum


class Command(str, Enum):
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"  # checkpoint, then end as interrupted
    CHECKPOINT = "checkpoint"
    EVALUATE = "evaluate"


class Commands:
    """Thread-safe; the trainer polls it once per step without blocking."""

    def __init__(self):
        self._queue: queue.SimpleQueue[Command] = queue.SimpleQueue()

    def send(self, command: Command | str) -> None:
        self._queue.put(Command(command))

    def poll(self) -> Command | None:
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            return None

    def wait(self, timeout: float | None = None) -> Command | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
