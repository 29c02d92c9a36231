"""Panes whose numbers come from the evaluation feature, not built yet.

They say plainly that nothing was computed; a made-up number would be worse
than none.
"""

from rich.style import Style

from gan_tui.tui.widgets.base import Pane

NOTE = Style(italic=True)


class NotComputedPane(Pane):
    LINES: tuple[str, ...] = ()

    def draw(self, width, height):
        return self.text_rows(list(self.LINES), width, NOTE)


class DiversityPane(NotComputedPane):
    TITLE = "Diversity and collapse"
    LINES = ("not computed",
             "Mode coverage, sample diversity and the collapse alarm arrive with the evaluation feature.")


class FidPane(NotComputedPane):
    TITLE = "FID"
    LINES = ("not computed",
             "No evaluation has run: FID/KID need the evaluation feature (key f).")
