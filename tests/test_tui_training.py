"""The dashboard driving the real trainer through its thread worker: a run, a stop, and every way to fail."""

import json

import pytest

from gan_tui.errors import TrainingDiverged
from gan_tui.profile import load_profile
from gan_tui.train.session import new_session
from gan_tui.tui.app import DashboardApp
from gan_tui.tui.fake import screen_text, wait_until
from gan_tui.tui.screens.picker import PickerScreen
from gan_tui.tui.screens.training import TrainingScreen

FAST = ["data.batch_size=64", "log.samples=64", "log.every=5", "log.histograms_every=5", "log.samples_every=10",
        "checkpoint.every=1000", "train.device=cpu", "eval.every=0"]


def only_run(runs_dir):
    (run,) = [p for p in runs_dir.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return run


def meta(run_dir):
    return json.loads((run_dir / "meta.json").read_text())


async def test_real_ring8_run_shows_everything_and_q_stops_with_a_checkpoint(tmp_path):
    profile = load_profile("ring8", [*FAST, "train.steps=100000"])
    app = DashboardApp(profile=profile, runs_dir=tmp_path, fps=8)
    async with app.run_test(size=(120, 40)) as pilot:
        m = app.model
        await wait_until(pilot, lambda: m.histograms is not None and m.samples is not None and m.samples.step > 0
                         and "d_loss" in m.series and m.series["d_loss"].steps.size >= 2, timeout=60)
        # Panes redraw at a bounded rate: wait for the frame that shows the data, not a fixed time.
        shown = ("running", m.info.run_id, "it/s", "D(G(z))", "generated", "not computed")
        await wait_until(pilot, lambda: all(word in screen_text(app) for word in shown), timeout=30)
        run_dir = only_run(tmp_path)
        assert meta(run_dir)["status"] == "running"
        await pilot.press("q", "y")
        await wait_until(pilot, lambda: not app.is_running, timeout=60)
    assert app.training.outcome == "interrupted"
    info = meta(run_dir)
    assert info["status"] == "interrupted" and info["step"] == info["last_checkpoint"] > 0
    assert (run_dir / "checkpoints" / f"step-{info['step']:07d}" / "model.safetensors").is_file()


def breaking_factory(exc_at_step: int, exc: Exception):
    """new_session, but the trainer's step raises `exc` once it reaches `exc_at_step`."""

    def factory(profile, runs_dir, sinks=(), commands=None, data_path=None):
        session = new_session(profile, runs_dir, sinks, commands, data_path)
        trainer = session.trainer
        step = trainer.train_step

        def train_step():
            if trainer.step >= exc_at_step:
                raise exc
            step()

        trainer.train_step = train_step
        return session

    return factory


async def test_an_exception_in_training_marks_the_run_failed_and_the_app_stays_usable(tmp_path):
    profile = load_profile("ring8", [*FAST, "train.steps=50"])
    app = DashboardApp(profile=profile, runs_dir=tmp_path, session_factory=breaking_factory(7, RuntimeError("boom")))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.training.done.is_set(), timeout=60)
        await wait_until(pilot, lambda: app.model.status == "failed")
        app.screen.redraw(force=True)
        await pilot.pause()
        text = screen_text(app)
        assert "failed" in text and "RuntimeError: boom" in text
        run_dir = only_run(tmp_path)
        info = meta(run_dir)
        assert info["status"] == "failed" and "RuntimeError: boom" in info["message"]
        assert "Traceback" in (run_dir / "error.log").read_text()
        assert info["step"] == 7
        await pilot.press("question_mark")  # still usable
        await pilot.press("escape", "tab")
        assert isinstance(app.screen, TrainingScreen)
        await pilot.press("q")  # nothing runs: no question
        await wait_until(pilot, lambda: not app.is_running)
    assert app.training.outcome == "failed"


async def test_divergence_is_marked_by_the_store_and_explained(tmp_path):
    profile = load_profile("ring8", [*FAST, "train.steps=50"])
    app = DashboardApp(profile=profile, runs_dir=tmp_path,
                       session_factory=breaking_factory(5, TrainingDiverged(5, "d_loss")))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.training.done.is_set() and app.model.status == "diverged", timeout=60)
        app.screen.redraw(force=True)
        await pilot.pause()
        text = screen_text(app)
        assert "diverged at step 5" in text and "lower the learning rates" in text
    assert meta(only_run(tmp_path))["status"] == "diverged"
    assert app.training.outcome == "diverged"


async def test_a_runs_folder_that_is_a_file_is_one_sentence_in_the_banner(tmp_path):
    a_file = tmp_path / "runs"
    a_file.write_text("")
    app = DashboardApp(profile=load_profile("ring8"), runs_dir=a_file)
    async with app.run_test(size=(120, 24)) as pilot:
        await wait_until(pilot, lambda: app.training.done.is_set() and app.model.status == "failed", timeout=60)
        app.screen.redraw(force=True)
        await pilot.pause()
        text = " ".join(line.strip() for line in screen_text(app).splitlines()[:6])
        assert (f"could not start: runs folder {a_file} is a file, not a folder; give a folder you can write to "
                "with --runs-dir DIR or $GAN_TUI_RUNS_DIR. Nothing was written.") in text, text


async def test_missing_data_is_a_readable_message_and_esc_goes_back_to_the_picker(tmp_path):
    profile = load_profile("dcgan-fashion", ["data.name=folder", "data.path=/nonexistent/fashion"])
    app = DashboardApp(profile=profile, runs_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.training.done.is_set() and app.model.status == "failed", timeout=60)
        app.screen.redraw(force=True)
        await pilot.pause()
        assert "could not start" in screen_text(app) and "/nonexistent/fashion" in app.model.message
        assert not tmp_path.exists() or not any(tmp_path.iterdir())  # nothing half-written
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
    assert app.training.outcome == "not-started"


async def test_resume_continues_a_stopped_run_on_the_screen_where_it_left_off(tmp_path, capsys):
    import sqlite3

    from gan_tui.tui.launch import dashboard_app

    first = new_session(load_profile("ring8", [*FAST, "train.steps=20", "checkpoint.every=20"]), tmp_path)
    first.trainer.run()
    first.close()
    run_dir = only_run(tmp_path)
    assert meta(run_dir)["step"] == 20
    with pytest.raises(SystemExit) as refused:  # the run brings its own profile
        dashboard_app(argv=["ring8", "--resume", run_dir.name, "--runs-dir", str(tmp_path)])
    assert refused.value.code == 2 and "drop the PROFILE argument" in capsys.readouterr().err

    profile = load_profile(str(run_dir / "profile.toml"), ["train.steps=40"])
    app = DashboardApp(profile=profile, runs_dir=tmp_path, resume=run_dir.name[16:])  # a unique part of the id
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.training.done.is_set(), timeout=60)
        await wait_until(pilot, lambda: app.model.status == "finished" and app.model.step == 40, timeout=10)
        assert app.model.info.run_id == run_dir.name
        assert list(app.model.series["d_loss"].steps.view()[:4]) == [5, 10, 15, 20]  # the first session's curve
    assert app.training.outcome == "finished" and only_run(tmp_path) == run_dir  # the same run, not a new one
    info = meta(run_dir)
    assert info["status"] == "finished" and info["step"] == 40 and info["profile"] == "ring8"
    with sqlite3.connect(run_dir / "metrics.sqlite") as db:
        steps = [s for (s,) in db.execute("SELECT step FROM scalars WHERE name = 'd_loss' ORDER BY step")]
    assert steps == list(range(5, 45, 5))  # logged every 5 steps, none lost or repeated across the resume


def test_a_resumed_runs_history_shows_the_checkpoint_it_started_from(tmp_path):
    """What the dashboard's panes and status bar start with on `gan-tui --resume` (runner.py)."""
    from gan_tui.train import events as ev
    from gan_tui.train.session import resume_session
    from gan_tui.tui.model import RunModel
    from gan_tui.tui.watch import history_events

    first = new_session(load_profile("ring8", [*FAST, "train.steps=20", "checkpoint.every=20"]), tmp_path)
    first.trainer.run()
    first.close()
    run_dir = only_run(tmp_path)
    again = resume_session(lambda path: load_profile(str(path), ["train.steps=40"]), tmp_path, run_dir.name)
    try:
        m = RunModel()
        for event in history_events(run_dir):
            m.apply(event)
        m.apply(ev.RunStarted(run_dir.name, str(run_dir), "ring8", 40, 20, "cpu", "points", "probability", 64))
        assert (m.last_checkpoint.step, m.last_checkpoint.path) == (20, str(run_dir / "checkpoints" / "step-0000020"))
        assert list(m.series["d_loss"].steps.view()) == [5, 10, 15, 20]
        m.apply(ev.CheckpointSaved(40, str(run_dir / "checkpoints" / "step-0000040")))
        assert m.last_checkpoint.step == 40
    finally:
        again.close()
