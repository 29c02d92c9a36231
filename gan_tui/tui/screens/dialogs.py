"""Modal dialogs: the key help and the quit confirmation. Keyboard only, no mouse needed."""

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


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
        width = max(len(key) for key, _ in self.keys)
        text = Text("Keys (esc closes)\n", "bold")
        for key, what in self.keys:
            text.append(f"\n{key.ljust(width)}  ", "bold")
            text.append(what)
        with Vertical():
            yield Static(text)

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
