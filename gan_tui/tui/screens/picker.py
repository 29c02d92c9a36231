"""The profile picker: shipped and user profiles, the resolved settings of the highlighted one.

Enter starts training; `e` opens the file in $VISUAL/$EDITOR. A shipped profile
is first copied into the user profiles folder (where it shadows the shipped
one), so an upgrade never overwrites the edit and the package stays pristine.
"""

import os
import shlex
import shutil
import subprocess

import tomli_w
from rich.text import Text
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from gan_tui import paths
from gan_tui.errors import BadInput


class PickerScreen(Screen):
    BINDINGS = [
        Binding("enter", "start", "Start", show=True),
        Binding("e", "edit", "Edit in $EDITOR"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, overrides=(), highlight: str | None = None):
        super().__init__()
        self.overrides = list(overrides)
        self.highlight = highlight  # the profile to start on (the one just run), else the default
        self.found = {}

    def compose(self) -> ComposeResult:
        yield Static("[b]gan-tui[/b]: pick a profile, Enter to train, e to edit", id="picker-title")
        with Horizontal(id="picker-body"):
            yield OptionList(id="profiles")
            with VerticalScroll(id="settings-box"):
                yield Static(id="settings")
        yield Footer()

    def on_mount(self) -> None:
        self.reload(keep=self.highlight)

    def reload(self, keep: str | None = None) -> None:
        from gan_tui.profile import DEFAULT_PROFILE, available_profiles, describe

        self.found = available_profiles()
        user_dir = paths.user_profiles_dir()
        options = self.query_one("#profiles", OptionList)
        options.clear_options()
        for name, path in self.found.items():
            origin = "user" if path.parent == user_dir else "shipped"
            prompt = Text.assemble((name, "bold"), (f"  {origin}\n", "dim"), (describe(path), "italic"))
            options.add_option(Option(prompt, id=name))
        if not self.found:
            self.query_one("#settings", Static).update(f"No profiles found in {user_dir} or the shipped folder.")
            return
        names = list(self.found)
        # The default profile first: it trains in a minute on a CPU with nothing to download.
        start = keep if keep in names else DEFAULT_PROFILE if DEFAULT_PROFILE in names else names[0]
        options.highlighted = names.index(start)
        options.focus()
        self.show_settings(start)

    @property
    def highlighted(self) -> str | None:
        options = self.query_one("#profiles", OptionList)
        if options.highlighted is None:
            return None
        return options.get_option_at_index(options.highlighted).id

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.show_settings(event.option.id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.start(event.option.id)

    def show_settings(self, name: str) -> None:
        from gan_tui.profile import load_profile

        settings = self.query_one("#settings", Static)
        try:
            profile = load_profile(str(self.found[name]), self.overrides)
        except BadInput as exc:
            settings.update(Text(f"This profile cannot be used:\n{exc}", "bold red"))
            return
        head = f"# {name}: {profile.source}\n"
        if self.overrides:
            head += "# with " + " ".join(f"--set {o}" for o in self.overrides) + "\n"
        settings.update(Text(head, "dim") + Text(tomli_w.dumps(profile.to_dict())))

    def action_start(self) -> None:
        if self.highlighted:
            self.start(self.highlighted)

    def start(self, name: str) -> None:
        from gan_tui.profile import load_profile

        try:
            profile = load_profile(str(self.found[name]), self.overrides)
        except BadInput as exc:
            self.notify(str(exc), severity="error", timeout=10)
            return
        profile.name = name
        self.app.start_training(profile)

    def action_edit(self) -> None:
        name = self.highlighted
        if name is None:
            return
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
        path = self.found[name]
        user_dir = paths.user_profiles_dir()
        if not editor:
            self.notify(f"set $EDITOR (for example export EDITOR=nano) to edit profiles; the file is {path}",
                        severity="warning", timeout=10)
            return
        if path.parent != user_dir:
            user_dir.mkdir(parents=True, exist_ok=True)
            copy = user_dir / path.name
            shutil.copyfile(path, copy)
            self.notify(f"copied the shipped profile to {copy}; your copy now shadows it", timeout=8)
            path = copy
        code = self.run_editor([*shlex.split(editor), str(path)])
        if code != 0:
            self.notify(f"the editor exited with status {code}", severity="warning")
        self.reload(keep=name)

    def run_editor(self, command: list[str]) -> int:
        try:
            with self.app.suspend():
                return subprocess.call(command)
        except SuspendNotSupported:  # headless (tests): nothing to hand the terminal back to
            return subprocess.call(command, stdin=subprocess.DEVNULL)
        except FileNotFoundError:
            self.notify(f"editor not found: {command[0]}; check $EDITOR", severity="error")
            return 127
