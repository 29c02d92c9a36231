"""Pilot tests of the profile picker: listing, resolved settings, Enter to start, e to edit."""

import os
import stat
from pathlib import Path

from gan_tui.tui.app import DashboardApp
from gan_tui.tui.fake import FakeFactory, screen_text, scripted_events, wait_until
from gan_tui.tui.screens.picker import PickerScreen
from gan_tui.tui.screens.training import TrainingScreen


def make_app(tmp_path, **kwargs):
    factory = FakeFactory(scripted_events(run_dir=str(tmp_path)), tmp_path)
    app = DashboardApp(session_factory=factory, **kwargs)
    app.notes = []
    notify = app.notify
    app.notify = lambda message, **kw: (app.notes.append(message), notify(message, **kw))[1]
    return app, factory


def user_profiles() -> Path:
    return Path(os.environ["GAN_TUI_PROFILES"])


async def highlight(pilot, name: str) -> None:
    """Move the highlight to `name` with the arrow keys, as a person would."""
    options = pilot.app.screen.query_one("#profiles")
    names = [options.get_option_at_index(i).id for i in range(options.option_count)]
    key = "down" if names.index(name) > options.highlighted else "up"
    while pilot.app.screen.highlighted != name:
        await pilot.press(key)


async def test_lists_shipped_profiles_with_descriptions_and_settings(tmp_path):
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
        await pilot.pause()
        text = screen_text(app)
        options = app.screen.query_one("#profiles")
        listed = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert {"ring8", "grid25", "dcgan-fashion"} <= set(listed) and listed == sorted(listed)
        # the default profile (quick, nothing to download) is highlighted, its settings resolved
        assert app.screen.highlighted == "ring8" and "# ring8:" in text
        prompt = options.get_option("ring8").prompt
        assert "8 Gaussians in a ring" in str(prompt)
        await highlight(pilot, "grid25")
        await pilot.pause()
        assert "# grid25" in screen_text(app)
        assert 'name = "grid25"' in screen_text(app)  # extends ring8, resolved


async def test_at_80x24_each_profile_takes_two_rows_so_most_of_the_list_shows(tmp_path):
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
        await pilot.press("home")
        await pilot.pause()
        rows = screen_text(app).splitlines()
    names = [row.split("│")[1].split()[0] for row in rows if row.endswith("│") and "  shipped" in row]
    assert len(names) >= 9, names  # four, when each description wrapped over three to five rows
    assert any("…" in row.split("│")[1] for row in rows if "│" in row)  # a cut description says so


async def test_overrides_show_in_the_resolved_settings(tmp_path):
    app, _ = make_app(tmp_path, overrides=["train.steps=123"])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
        await pilot.pause()
        settings = str(app.screen.query_one("#settings").content)
        assert "steps = 123" in settings and "--set train.steps=123" in settings


async def test_enter_starts_the_highlighted_profile(tmp_path):
    app, factory = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
        await highlight(pilot, "ring8")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, TrainingScreen))
        await wait_until(pilot, lambda: bool(factory.sessions))
        assert app.training.profile.name == "ring8"
        await pilot.press("q", "y")
        await wait_until(pilot, lambda: not app.is_running)


async def test_a_broken_user_profile_says_why_and_cannot_start(tmp_path):
    user_profiles().mkdir(parents=True, exist_ok=True)
    (user_profiles() / "broken.toml").write_text('description = "typo inside"\n[train]\nstepz = 5\n')
    app, factory = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
        await highlight(pilot, "broken")
        await pilot.pause()
        assert "cannot be used" in screen_text(app) and "stepz" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen) and not factory.sessions
        assert any("stepz" in note for note in app.notes)


async def test_e_copies_a_shipped_profile_and_opens_it_in_the_editor(tmp_path, monkeypatch):
    editor = tmp_path / "editor.sh"
    editor.write_text(f'#!/bin/sh\necho "# edited by test" >> "$1"\necho "$1" > {tmp_path}/edited\n')
    editor.chmod(editor.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("EDITOR", str(editor))
    monkeypatch.delenv("VISUAL", raising=False)
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
        await highlight(pilot, "ring8")
        await pilot.press("e")
        await pilot.pause()
        copy = user_profiles() / "ring8.toml"
        assert (tmp_path / "edited").read_text().strip() == str(copy)
        assert copy.read_text().endswith("# edited by test\n")
        assert any(str(copy) in note for note in app.notes)
        assert "user" in screen_text(app)  # the list now shows the user's copy
        assert app.screen.highlighted == "ring8"


async def test_e_without_an_editor_says_how_to_set_one(tmp_path, monkeypatch):
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.delenv("VISUAL", raising=False)
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
        await pilot.press("e")
        await pilot.pause()
        assert any("$EDITOR" in note for note in app.notes)


async def test_q_on_the_picker_quits_at_once(tmp_path):
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running)


async def test_after_a_failed_start_of_gan_tui_profile_the_list_opens_on_that_profile(tmp_path):
    """`gan-tui grid25` that cannot start: esc leads to the picker with grid25 highlighted, ready for `e`."""
    from gan_tui.errors import BadInput
    from gan_tui.profile import load_profile

    factory = FakeFactory(scripted_events(run_dir=str(tmp_path)), tmp_path,
                          fail_with=BadInput("grid25.toml: key \"data.path\" is wrong; fix it."))
    app = DashboardApp(load_profile("grid25"), session_factory=factory)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, TrainingScreen) and app.model.status == "failed")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
        await pilot.pause()
        assert app.screen.highlighted == "grid25" and "# grid25" in screen_text(app)
        await pilot.press("q")
