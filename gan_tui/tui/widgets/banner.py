"""The red banner under the status bar: a failed or diverged run, and the latest collapse alarm.

It sits outside the panes, so whichever pane or layout is showing (one pane
at a time at 80x24, the grid on wide terminals) the user sees it. It is
hidden while there is nothing to say, and rewritten only when the run's
status or its alarms change.
"""

from rich.text import Text
from textual.widgets import Static

from gan_tui.tui.model import RunModel


class Banner(Static):
    def __init__(self, model: RunModel, **kwargs):
        super().__init__(**kwargs)
        self.model = model
        self._key = None

    def sync(self) -> None:
        v = self.model.versions
        key = (v["status"], v["alarms"])
        if key == self._key:
            return
        self._key = key
        text = self.text()
        self.set_class(bool(text), "-shown")
        self.update(text)

    def text(self) -> Text:
        m = self.model
        out = Text()
        if m.status in ("failed", "diverged"):
            out.append(self.ended())
        elif m.status == "running" and m.message:  # a divergence rolled back (train.on_divergence)
            out.append(f"⚠ {m.message}", "bold")
        if m.alarms:
            if out:
                out.append("\n")
            out.append(self.alarm())
        return out

    def ended(self) -> str:
        m = self.model
        if m.status == "failed" and m.info is None:
            return f"{full_stop(m.message)} Nothing was written. Press esc for the profile list or q to quit."
        if m.status == "failed":
            return (f"Training failed at step {m.step:,}: {full_stop(m.message)} Everything written so far stays in "
                    f"{m.info.run_dir}. Press q to quit.")
        where = f"{m.info.run_dir}/checkpoints" if m.info else "the run directory"
        return (f"{m.message}: lower the learning rates (optim.g.lr, optim.d.lr) or change the loss. "
                f"Checkpoints before that step are in {where}. Press q to quit.")

    def alarm(self) -> Text:
        """The newest alarm in full; earlier ones are listed in the Diversity pane."""
        alarms = self.model.alarms
        latest = alarms[-1]
        line = Text()
        line.append(f"⚠ collapse alarm at step {latest.step:,}: ", "bold")
        line.append(latest.reason)
        if len(alarms) > 1:
            line.append(f" (+{len(alarms) - 1} earlier: see the Diversity pane)", "italic")
        return line


def full_stop(message: str) -> str:
    """The message as a sentence: one full stop at its end, whether it had one (BadInput's do) or not."""
    message = message.rstrip()
    return message if message.endswith((".", "!", "?")) else message + "."
