"""Status bar: run id, profile, status, step/total, it/s, images/s, ETA, elapsed, device, GPU memory.

It changes at nearly every frame (step, it/s, elapsed), so it is drawn the
cheap way: rows of Strips through Textual's Line API, which repaint only these
rows. A Static of height auto asked for a layout of the whole screen at every
update, and that layout cost the UI thread more than the bar itself (py-spy,
2026-12-02). The height changes (a layout) only when the text wraps onto more
or fewer rows, on a narrow terminal.
"""

import math

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip
from textual.widget import Widget

from gan_tui.tui.model import RunModel

STATUS_STYLES = {"running": "bold green", "paused": "bold yellow", "finished": "bold cyan",
                 "interrupted": "bold yellow", "failed": "bold red", "diverged": "bold red",
                 "starting": "bold", "stopping": "bold yellow"}


def duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "-"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def rate(value: float) -> str:
    if value >= 10000:
        return f"{value / 1000:.1f}k"
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def gigabytes(n: int) -> str:
    return f"{n / 2**30:.2f}G" if n >= 2**28 else f"{n / 2**20:.0f}M"


class StatusBar(Widget):
    DEFAULT_CSS = "StatusBar { height: 2; background: $boost; padding: 0 1; }"

    def __init__(self, model: RunModel, profile_name: str, **kwargs):
        super().__init__(**kwargs)
        self.model = model
        self.profile_name = profile_name
        self.stopping = False
        self._key = None
        self._rows: list[Strip] = []
        self._fill = Style()  # the bar's background, for the cells right of the text

    def sync(self) -> None:
        v = self.model.versions
        width = self.size.width
        key = (v["info"], v["status"], v["progress"], v["checkpoint"], v["scalars"], self.stopping, width)
        if key == self._key:
            return
        self._key = key
        console, base = self.app.console, self.rich_style  # the bar's own colours under the text's
        self._fill = Style(bgcolor=base.bgcolor)
        lines = self.text().wrap(console, width) if width > 0 else self.text().split("\n")
        self._rows = [Strip(Segment.apply_style(line.render(console), base)) for line in lines]
        if len(self._rows) != self.size.height and width > 0:  # a narrow terminal: the bar grows a row
            self.styles.height = len(self._rows)  # a layout, only when the number of rows changes
        self.refresh()

    def on_resize(self) -> None:
        self.sync()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y < len(self._rows):
            return self._rows[y].crop_extend(0, width, self._fill)
        return Strip.blank(width, self._fill)

    def text(self) -> Text:
        m, p = self.model, self.model.progress
        status = "stopping" if self.stopping and m.active else m.status
        total = m.info.total_steps if m.info else (p.total if p else 0)
        step = max(m.step, p.step if p else 0)
        line = Text()
        line.append(f"● {status}", STATUS_STYLES.get(status, "bold"))
        parts = [f"step {step:,}/{total:,}" if total else f"step {step:,}"]
        if p is not None:
            parts += [f"{rate(p.it_per_s)} it/s", f"{rate(p.images_per_s)} img/s",
                      f"ETA {duration(p.eta) if m.active else '-'}", f"elapsed {duration(p.elapsed)}"]
        else:
            parts += ["- it/s", "- img/s", "ETA -", "elapsed -"]
        line.append("  " + "  ".join(parts))
        line.append("\n")
        run_id = m.info.run_id if m.info else "(no run yet)"
        device = m.info.where if m.info else "-"
        gpu = "GPU n/a" if not device.startswith("cuda") else (
            f"GPU {gigabytes(p.gpu_mem)} peak {gigabytes(p.gpu_peak)}" if p else "GPU -")
        ckpt = f"ckpt {m.last_checkpoint.step:,}" if m.last_checkpoint else "no ckpt yet"
        line.append(f"{run_id}  ", "bold")
        line.append("  ".join([self.profile_name, device, gpu, ckpt]), "dim")
        return line
