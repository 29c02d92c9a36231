"""Resize storms and tiny terminals (down to 40x10 and below) never crash the dashboard (issue 8).

The scripted trainer (gan_tui.tui.fake) feeds the same events as a real run; the storm
resizes between seeded random sizes, sometimes without letting a frame pass, while new
events keep arriving, on every screen: training (toy and images), picker, help, quit dialog.
"""

import random
import types

import numpy as np
import pytest

from gan_tui.train import events as ev
from gan_tui.tui.app import DashboardApp
from gan_tui.tui.fake import FakeFactory, screen_text, scripted_events, wait_until
from gan_tui.tui.screens.picker import PickerScreen

TINY = [(40, 10), (41, 11), (40, 24), (80, 10), (20, 6), (10, 3), (1, 1), (40, 10)]


def sizes(seed: int, n: int = 16) -> list[tuple[int, int]]:
    rng = random.Random(seed)
    out = [(rng.randint(40, 220), rng.randint(10, 70)) for _ in range(n)]
    return out[: n // 2] + TINY + out[n // 2:] + [(40, 10)]


async def storm(pilot, seed: int, feed=None, n: int = 16) -> None:
    app = pilot.app
    rng = random.Random(seed)
    for i, (width, height) in enumerate(sizes(seed, n)):
        await pilot.resize_terminal(width, height)
        if feed is not None:
            feed(i)
        if rng.random() < 0.5:  # half the time no frame passes before the next resize
            await pilot.pause()
        assert app.is_running and app._exception is None, (width, height, app._exception)
    await pilot.pause()
    if hasattr(app.screen, "redraw"):
        app.screen.redraw(force=True)
        await pilot.pause()
    assert app._exception is None and app.is_running
    assert screen_text(app).strip()  # something is drawn at 40x10


def make_app(tmp_path, kind: str):
    run_dir = tmp_path / "run"
    run_dir.mkdir(exist_ok=True)
    factory = FakeFactory(scripted_events(kind, run_dir=str(run_dir)), run_dir)
    return DashboardApp(profile=types.SimpleNamespace(name="ring8"), session_factory=factory), factory


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["points", "images"])
async def test_resize_storm_while_training_never_crashes(tmp_path, kind):
    app, factory = make_app(tmp_path, kind)
    rng = np.random.default_rng(0)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: factory.sessions and factory.sessions[0].trainer.emitted.is_set())
        await wait_until(pilot, lambda: app.model.samples is not None)
        step = [1000]

        def feed(i: int) -> None:  # the run goes on during the storm: scalars, histograms, samples, banners
            step[0] += 50
            s = step[0]
            app.sink.handle(ev.Scalars(s, {"d_loss": 1.0 + rng.normal(0, 0.1), "g_loss": float(rng.normal(1, 0.1)),
                                           "d_real": 0.6, "d_fake": 0.4}, 0.0))
            app.sink.handle(ev.Progress(s, 100_000, 40.0, 10240.0, s / 40, 100.0))
            if i % 4 == 0:
                app.sink.handle(ev.Histograms(s, "probability", rng.random(256).astype(np.float32),
                                              rng.random(256).astype(np.float32)))
            if i == 10:
                app.sink.handle(ev.StatusChanged("running", s, "training diverged at step 1500: d_loss is not "
                                                 "finite; rolled back to the checkpoint at step 1000 with the "
                                                 "learning rates x0.5 (rollback 1 of 3)",
                                                 {"rollback": {"count": 1, "from_step": 1500, "to_step": 1000,
                                                               "lr_scale": 0.5}}))
            if i == 20:
                app.sink.handle(ev.CollapseAlarm(s, "modes_lost", "mode collapse: 4/8 modes " * 6, s - 100))

        for seed, key in enumerate(("tab", "l")):  # another pane each round, and the keys still work
            await storm(pilot, seed=seed, feed=feed)
            await pilot.press(key)
        await pilot.press("question_mark")  # help at 40x10
        await storm(pilot, seed=7, n=4)
        await pilot.press("escape")
        await pilot.press("q")  # the quit dialog at tiny sizes
        await storm(pilot, seed=8, n=4)
        await pilot.press("y")
        await wait_until(pilot, lambda: not app.is_running, timeout=30)
    assert factory.sessions[0].trainer.received[-1].value == "stop"


async def test_resize_storm_on_the_profile_picker(tmp_path):
    factory = FakeFactory(scripted_events(run_dir=str(tmp_path)), tmp_path)
    app = DashboardApp(session_factory=factory)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
        await storm(pilot, seed=5, n=8)
        await pilot.press("down")
        assert isinstance(app.screen, PickerScreen)


async def test_a_failed_run_banner_fits_a_tiny_terminal(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    factory = FakeFactory(scripted_events(run_dir=str(run_dir)), run_dir, fail_with=RuntimeError("boom " * 40))
    app = DashboardApp(profile=types.SimpleNamespace(name="ring8"), session_factory=factory)
    async with app.run_test(size=(40, 10)) as pilot:
        await wait_until(pilot, lambda: app.model is not None and app.model.status == "failed")
        await storm(pilot, seed=3, n=4)


async def test_the_status_bar_wraps_rather_than_crops_on_a_narrow_terminal(tmp_path):
    run_id = "20260101-000000-a-long-user-profile-name-for-sweeps-abcd"
    factory = FakeFactory(scripted_events("points", run_id=run_id, run_dir=str(tmp_path)), tmp_path)
    app = DashboardApp(profile=types.SimpleNamespace(name="ring8"), session_factory=factory)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.model is not None and app.model.samples is not None)
        bar = app.screen.query_one("#status")
        await wait_until(pilot, lambda: bar.size.height == 3)  # the second line needs two rows at 80 columns
        top = screen_text(app).splitlines()[:3]
        assert run_id in top[1] and "no ckpt yet" in top[2], top
        await pilot.resize_terminal(160, 40)
        await wait_until(pilot, lambda: bar.size.height == 2)
        assert "no ckpt yet" in screen_text(app).splitlines()[1]
