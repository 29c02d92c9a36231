"""The sink the trainer writes to: hands events to the app without ever waiting.

`handle` runs on the training thread. It appends to a deque and, only when no
wake-up is already pending, posts one message (`App.post_message` is
thread-safe and does not block). The app drains everything queued in one go,
so a fast trainer never builds a backlog of messages.
"""

import collections

from textual.message import Message


class EventsReady(Message):
    """Wake-up: the sink has events queued."""


class DashboardSink:
    def __init__(self, app):
        self.app = app
        self._queue: collections.deque = collections.deque()
        self._wake_pending = False

    def handle(self, event) -> None:
        self._queue.append(event)
        if not self._wake_pending:
            self._wake_pending = True
            self.app.post_message(EventsReady())

    def drain(self) -> list:
        """On the UI thread: everything queued so far, oldest first."""
        # Clear the flag before draining: an event appended after this point
        # either is drained now or posts a fresh wake-up, so none is stranded.
        self._wake_pending = False
        out = []
        while True:
            try:
                out.append(self._queue.popleft())
            except IndexError:
                return out

    def close(self) -> None:
        pass
