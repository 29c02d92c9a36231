"""Pilot tests: every key of the training screen, driven with a scripted event stream.

The scripted trainer (gan_tui.tui.fake) goes through the same sink and command
queue as the real one and answers commands the same way, so these tests check
the whole path key -> command -> event -> screen without training anything.
"""

from pathlib import Path

import pytest
from textual.app import App

from gan_tui.train.control import Command
from gan_tui.tui.fake import screen_text, scripted_app, scripted_events, wait_until
from gan_tui.tui.fake import started as scripted_run_started
from gan_tui.tui.screens.dialogs import ConfirmQuit, HelpScreen
from gan_tui.tui.screens.picker import PickerScreen
from gan_tui.tui.screens.training import KEYS, PANES, TrainingScreen
from gan_tui.tui.watch import WATCH_KEYS
from gan_tui.tui.widgets.losses import LossesPane


def make_app(tmp_path: Path, kind: str = "points", hold: bool = True, **kwargs):
    run_dir = tmp_path / "run"
    return scripted_app(run_dir, scripted_events(kind, run_dir=str(run_dir)), hold, **kwargs)


async def started(pilot, factory):
    trainer = await scripted_run_started(pilot, factory)
    pilot.app.screen.redraw(force=True)
    await pilot.pause()
    return trainer


def said(app, text: str) -> bool:
    return any(text in note for note in app.notes)


async def test_space_pauses_and_resumes(tmp_path):
    app, factory = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        trainer = await started(pilot, factory)
        await pilot.press("space")
        await wait_until(pilot, lambda: app.model.status == "paused")
        app.screen.redraw(force=True)
        await pilot.pause()
        assert "paused" in screen_text(app)
        await pilot.press("space")
        await wait_until(pilot, lambda: app.model.status == "running")
        assert trainer.received == [Command.PAUSE, Command.RESUME]


async def test_c_saves_a_checkpoint_and_says_where(tmp_path):
    app, factory = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        trainer = await started(pilot, factory)
        await pilot.press("c")
        await wait_until(pilot, lambda: said(app, "checkpoint saved at step 1,000"))
        assert trainer.received == [Command.CHECKPOINT]
        assert said(app, str(tmp_path / "run" / "checkpoints" / "step-0001000"))
        app.screen.redraw(force=True)
        await pilot.pause()
        assert "ckpt 1,000" in screen_text(app)


async def test_f_asks_for_an_evaluation(tmp_path):
    app, factory = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        trainer = await started(pilot, factory)
        await pilot.press("f")
        assert said(app, "evaluation requested at step 1,000")
        await wait_until(pilot, lambda: said(app, "evaluation at step 1,000 done"))
        assert trainer.received == [Command.EVALUATE]  # more in tests/test_tui_evaluation.py


@pytest.mark.parametrize("kind", ["points", "images"])
async def test_s_saves_the_sample_grid_as_png(tmp_path, kind):
    from PIL import Image

    app, factory = make_app(tmp_path, kind=kind)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, factory)
        await pilot.press("s")
        await pilot.pause()
        path = tmp_path / "run" / "exports" / "samples-step-0001000.png"
        assert path.is_file() and Image.open(path).format == "PNG"
        assert said(app, str(path))


async def test_plus_and_minus_change_the_smoothing(tmp_path):
    app, factory = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, factory)
        before = app.model.smoothing
        await pilot.press("plus")
        assert app.model.smoothing > before
        await pilot.press("minus", "minus")
        assert app.model.smoothing < before
        app.screen.redraw(force=True)
        await pilot.pause()
        assert f"EMA {app.model.smoothing:g}" in screen_text(app)
        for _ in range(10):
            await pilot.press("minus")
        app.screen.redraw(force=True)
        await pilot.pause()
        assert app.model.smoothing == 0 and "raw" in screen_text(app)


async def test_l_toggles_log_scale(tmp_path):
    app, factory = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, factory)
        losses = app.screen.query_one(LossesPane)
        await pilot.press("l")
        app.screen.redraw(force=True)
        await pilot.pause()
        assert losses.logy and "· log" in screen_text(app)
        await pilot.press("l")
        assert not losses.logy


async def test_tab_moves_between_panes_at_80x24(tmp_path):
    app, factory = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, factory)
        screen = app.screen
        assert not screen.wide
        seen = []
        for _ in PANES:
            visible = [p.id for p in screen.panes if p.display]
            assert len(visible) == 1 and app.focused is screen.panes[screen.current]
            seen.append(visible[0])
            await pilot.press("tab")
        assert seen == [pane_id for pane_id, _ in PANES]
        assert screen.current == 0  # wrapped around
        await pilot.press("shift+tab")
        assert screen.panes[screen.current].id == "fid"


async def test_wide_terminal_shows_every_pane_and_tab_moves_focus(tmp_path):
    app, factory = make_app(tmp_path)
    async with app.run_test(size=(200, 60)) as pilot:
        await started(pilot, factory)
        screen = app.screen
        assert screen.wide and all(p.display for p in screen.panes)
        assert all(p.size.width > 20 and p.size.height > 5 for p in screen.panes)
        await pilot.press("tab")
        assert app.focused.id == "doutputs"


async def test_resize_switches_layout_at_any_time(tmp_path):
    app, factory = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, factory)
        await pilot.resize_terminal(160, 50)
        await pilot.pause()
        assert app.screen.wide and all(p.display for p in app.screen.panes)
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        app.screen.redraw(force=True)
        await pilot.pause()
        assert not app.screen.wide
        assert sum(p.display for p in app.screen.panes) == 1
        assert "Losses" in screen_text(app)


async def test_question_mark_lists_every_key(tmp_path):
    app, factory = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, factory)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        assert "Keys" in text
        for key, _ in KEYS:
            assert key in text
        for binding in TrainingScreen.BINDINGS:  # every bound key is documented
            assert binding.action.split("(")[0].replace("app.", "") in {
                "toggle_pause", "checkpoint", "evaluate", "save_samples", "smoothing", "log_scale", "pane", "help",
                "quit", "back", "detach"}
        await pilot.press("escape")
        assert isinstance(app.screen, TrainingScreen)


class HelpOnly(App):
    def __init__(self, keys):
        super().__init__()
        self.keys = keys

    def on_mount(self):
        self.push_screen(HelpScreen(self.keys))


@pytest.mark.parametrize("keys", [KEYS, WATCH_KEYS], ids=["training", "watch"])
async def test_help_shows_every_word_of_every_key_at_80x24(keys):
    """A description longer than the screen wraps under itself; it was cut at the border once."""
    app = HelpOnly(keys)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        rows = screen_text(app).splitlines()
    shown = " ".join(row.strip("│ ") for row in rows).split()
    for key, what in keys:
        assert all(word in shown for word in what.split()), f"{key}: {what!r} is not shown whole"
    description_column = 2 + max(len(key) for key, _ in keys) + 2  # border, padding, keys, gap
    continued = [row for row in rows if row.startswith("│  ") and row.strip("│ ")]
    assert continued, "at 80 columns some description is long enough to wrap"
    assert all(len(row) - len(row[1:].lstrip()) == description_column for row in continued)


async def test_q_asks_first_and_n_keeps_training(tmp_path):
    app, factory = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        trainer = await started(pilot, factory)
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmQuit)
        assert "checkpoint" in screen_text(app)
        await pilot.press("n")
        assert isinstance(app.screen, TrainingScreen)
        assert trainer.received == [] and app.is_running


async def test_q_then_y_stops_with_a_checkpoint_then_exits(tmp_path):
    app, factory = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        trainer = await started(pilot, factory)
        await pilot.press("q", "y")
        await wait_until(pilot, lambda: app.training.done.is_set())
        await wait_until(pilot, lambda: not app.is_running)
    assert trainer.received == [Command.STOP]
    assert app.training.outcome == "interrupted"
    assert (tmp_path / "run" / "checkpoints" / "step-0001000").is_dir()
    assert factory.sessions[0].closed


async def test_q_while_paused_still_stops_cleanly(tmp_path):
    app, factory = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        trainer = await started(pilot, factory)
        await pilot.press("space")
        await wait_until(pilot, lambda: app.model.status == "paused")
        await pilot.press("q", "y")
        await wait_until(pilot, lambda: not app.is_running)
    assert trainer.received == [Command.PAUSE, Command.STOP]
    assert app.training.outcome == "interrupted"


async def test_after_the_run_ends_keys_explain_and_q_quits_at_once(tmp_path):
    app, factory = make_app(tmp_path, hold=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, factory)
        await wait_until(pilot, lambda: app.training.done.is_set() and app.model.status == "finished")
        assert said(app, "training finished at step 1,000")
        await pilot.press("space", "c")
        assert said(app, "nothing to pause") and said(app, "no checkpoint to save")
        await pilot.press("escape")  # back to the picker, the app stays usable
        await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running)
    assert app.training.outcome == "finished"


async def test_escape_while_training_refuses_to_leave(tmp_path):
    app, factory = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, factory)
        await pilot.press("escape")
        assert isinstance(app.screen, TrainingScreen) and said(app, "press q to stop it first")


async def test_many_events_redraw_at_the_frame_rate_not_per_event(tmp_path):
    """A burst of events is one drain and at most one redraw per frame."""
    app, factory = make_app(tmp_path, fps=2)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, factory)
        losses = app.screen.query_one(LossesPane)
        draws = []
        original = losses.draw
        losses.draw = lambda w, h: draws.append(1) or original(w, h)
        sink = app.sink
        from gan_tui.train import events as ev

        for step in range(1001, 3001):
            sink.handle(ev.Scalars(step, {"d_loss": 1.0, "g_loss": 1.0, "d_real": 0.5, "d_fake": 0.5}, 0.0))
        await wait_until(pilot, lambda: app.model.step == 3000)
        await pilot.pause(1.5)
        assert 1 <= len(draws) <= 4  # 2000 events, at most one redraw per frame (2 fps)


async def test_ctrl_c_goes_through_the_same_confirmation(tmp_path):
    app, factory = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, factory)
        await pilot.press("ctrl+c")
        assert isinstance(app.screen, ConfirmQuit)
        await pilot.press("escape")
        assert isinstance(app.screen, TrainingScreen)


async def test_leaving_any_other_way_still_stops_the_trainer(tmp_path):
    app, factory = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        trainer = await started(pilot, factory)
        app.exit()  # as on an unexpected error: no confirmation, no q
    assert app.training.done.wait(timeout=20)  # the app's shutdown sent "stop"
    assert trainer.received == [Command.STOP] and app.training.outcome == "interrupted"
