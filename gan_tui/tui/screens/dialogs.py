"""Modal dialogs: the key help and the quit confirmation. Keyboard only, no mouse needed."""

import textwrap

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Static


class KeyList(Widget):
    """Keys and what they do, as wide as the longest line and the screen allow. A description too
    long for the screen wraps under itself, not under the keys (a plain Static cut it off)."""

    DEFAULT_CSS = "KeyList { width: auto; height: auto; max-width: 100%; }"

    def __init__(self, keys: list[tuple[str, str]]):
        super().__init__()
        self.keys = keys
        self.key_width = max(len(key) for key, _ in keys)

    def lines(self, width: int) -> list[Text]:
        indent = self.key_width + 2
        out = []
        for key, what in self.keys:
            first, *rest = textwrap.wrap(what, max(width - indent, 12)) or [""]
            out.append(Text.assemble((key.ljust(indent), "bold"), first))
            out += [Text(" " * indent + line) for line in rest]
        return out

    def get_content_width(self, container, viewport) -> int:
        return self.key_width + 2 + max(len(what) for _, what in self.keys)

    def get_content_height(self, container, viewport, width: int) -> int:
        return len(self.lines(width))

    def render(self) -> Text:
        return Text("\n").join(self.lines(self.content_size.width))


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q,enter", "dismiss", "Close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical { width: auto; max-width: 100%; height: auto; max-height: 100%;
                            border: round $accent; background: $surface; padding: 0 1; }
    HelpScreen Static { width: auto; }
    """

    def __init__(self, keys: list[tuple[str, str]]):
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("Keys (esc closes)\n", "bold"))
            yield KeyList(self.keys)

    def action_dismiss(self) -> None:
        self.dismiss(None)


class ConfirmQuit(ModalScreen[bool]):
    BINDINGS = [Binding("y,enter", "answer(True)", "Yes"), Binding("n,escape,q", "answer(False)", "No")]
    DEFAULT_CSS = """
    ConfirmQuit { align: center middle; }
    ConfirmQuit > Static { width: auto; max-width: 90%; height: auto; border: round $warning;
                           background: $surface; padding: 0 1; }
    """

    def __init__(self, question: str):
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        yield Static(f"{self.question}\n\n[b]y[/b] yes, stop and quit    [b]n[/b] no, keep training")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
