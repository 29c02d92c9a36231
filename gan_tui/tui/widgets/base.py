"""Pane: a bordered, focusable area that redraws from the run model only when needed.

Panes use Textual's Line API: `draw` returns rows of rich Segments, kept as
Strips until the data they show or the pane's size changes. The screen's
frame timer calls `sync`; a pane whose data version has not moved does nothing,
so an idle dashboard writes nothing to the terminal.
"""

import time

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from gan_tui.tui.model import RunModel

DIM = Style(dim=True)
# The style of text drawn without one. Never None: without colour (NO_COLOR, --color none,
# TERM=dumb) Textual runs every line through a monochrome filter that reads each segment's style.
PLAIN = Style()


def styled(row: list[Segment]) -> list[Segment]:
    """`row` with PLAIN where a segment has no style."""
    return [seg if seg.style is not None else Segment(seg.text, PLAIN, seg.control) for seg in row]


class Pane(Widget, can_focus=True):
    DEFAULT_CSS = """
    Pane { border: round $panel-lighten-2; border-title-color: $text-muted; }
    Pane:focus { border: round $accent; border-title-color: $text; }
    """
    TITLE = ""
    # At most one data-driven redraw per MIN_INTERVAL seconds (a resize or a key redraws at once): a
    # pane costs 5-25 KB of escape codes and Textual's repaint of every row per redraw, and a fast
    # GPU run changes data every frame.
    MIN_INTERVAL = 1.0

    def __init__(self, model: RunModel, *, id: str | None = None, classes: str | None = None):
        super().__init__(id=id, classes=classes)
        self.model = model
        self.border_title = self.TITLE
        self._key = None
        self._drawn_at = -1e9
        self._strips: list[Strip] = []

    # -- what subclasses provide -----------------------------------------

    def data_key(self) -> tuple:
        """Everything the drawing depends on besides the size (model versions, toggles)."""
        return ()

    def draw(self, width: int, height: int) -> list[list[Segment]]:
        return []

    # -- redrawing ---------------------------------------------------------

    def sync(self, force: bool = False) -> bool:
        """Redraw if the data or the size moved; True when it did."""
        width, height = self.size
        key = (width, height, *self.data_key())
        if key == self._key and not force:
            return False
        now = time.monotonic()
        resized = self._key is None or key[:2] != self._key[:2]
        if not (force or resized) and now - self._drawn_at < self.MIN_INTERVAL:
            return False  # the screen's next frame asks again
        self._key, self._drawn_at = key, now
        rows = self.draw(width, height) if width > 0 and height > 0 else []
        self._strips = [Strip(styled(row)).adjust_cell_length(width, PLAIN) for row in rows[:height]]
        self.refresh()
        return True

    def on_resize(self) -> None:
        self.sync()

    def render_line(self, y: int) -> Strip:
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(self.size.width, PLAIN)

    def text_rows(self, lines: list[str], width: int, style: Style | None = None) -> list[list[Segment]]:
        """Plain text wrapped to `width`, one row per line."""
        out = []
        for line in lines:
            while len(line) > width > 0:
                cut = line.rfind(" ", 0, width + 1)
                cut = cut if cut > 0 else width
                out.append([Segment(line[:cut], style)])
                line = line[cut:].lstrip()
            out.append([Segment(line, style)])
        return out

    def part_rows(self, parts: list[str], width: int, sep: str = " · ") -> list[list[Segment]]:
        """Parts joined by `sep`, a new row started where the next part would not fit, so a label
        stays on the row of its value; a part wider than the pane wraps at its spaces."""
        lines = []
        for part in parts:
            if lines and len(lines[-1]) + len(sep) + len(part) <= width:
                lines[-1] += sep + part
            else:
                lines.append(part)
        return self.text_rows(lines, width)


def centred(rows: list[list[Segment]], width: int) -> list[list[Segment]]:
    """Pad rows on the left so the block sits in the middle of `width` cells."""
    if not rows:
        return rows
    block = max(sum(len(s.text) for s in row) for row in rows)
    left = max((width - block) // 2, 0)
    return [[Segment(" " * left), *row] for row in rows] if left else rows
