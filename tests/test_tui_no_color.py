"""Without colour (NO_COLOR, `--color none`, TERM=dumb) every screen draws: Textual then runs each
line through its monochrome filter, which needs a style on every segment."""

import pytest

from gan_tui.tui.fake import screen_text, scripted_app, scripted_events, started, wait_until
from gan_tui.tui.screens.training import PANES


@pytest.mark.parametrize("kind", ["points", "images"])
async def test_every_pane_and_dialog_draws_without_colour(tmp_path, monkeypatch, kind):
    monkeypatch.setenv("NO_COLOR", "1")  # what --color none and TERM=dumb set (gan_tui/tui/color.py)
    app, factory = scripted_app(tmp_path / "run", scripted_events(kind, run_dir=str(tmp_path / "run")),
                                depth="none")
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, factory)
        for _ in PANES:
            app.screen.redraw(force=True)
            await pilot.pause()
            assert app._exception is None and app.is_running, app._exception
            await pilot.press("tab")
        await pilot.press("question_mark")
        await pilot.pause()
        assert "space" in screen_text(app)
        await pilot.press("escape", "q")
        await pilot.pause()
        assert app._exception is None and "Quit?" in screen_text(app)
        await pilot.press("y")
        await wait_until(pilot, lambda: not app.is_running, timeout=30)
    assert app._exception is None


async def test_the_picker_watch_and_compare_draw_without_colour(runs_dir, monkeypatch):
    from rich.table import Table
    from test_compare_tui import run_with_samples

    from gan_tui.cli_compare import _run_report
    from gan_tui.tui.app import DashboardApp
    from gan_tui.tui.compare import CompareApp
    from gan_tui.tui.watch import WatchApp

    monkeypatch.setenv("NO_COLOR", "1")
    dirs = [run_with_samples(runs_dir, "0.0002"), run_with_samples(runs_dir, "0.0005")]
    picker = DashboardApp(runs_dir=runs_dir, depth="none")
    async with picker.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: "pick a profile" in screen_text(picker), timeout=10)
        await pilot.press("down", "down")
        await pilot.pause()
        assert picker._exception is None and "[data]" in screen_text(picker)
        await pilot.press("q")
    watch = WatchApp(dirs[0], depth="none", fps=8, poll_s=0.05)
    async with watch.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: watch.model.status == "finished", timeout=10)
        for _ in PANES:
            await pilot.press("tab")
            watch.screen.redraw(force=True)
            await pilot.pause()
            assert watch._exception is None, watch._exception
        await pilot.press("q")
    reports = [_run_report(d) for d in dirs]
    table = Table("", *(r["id"] for r in reports))
    compare = CompareApp(reports, table, "none")
    async with compare.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: "d_loss by step" in screen_text(compare), timeout=10)
        await pilot.press("m", "pagedown")
        await pilot.pause()
        assert compare._exception is None, compare._exception
        await pilot.press("q")
