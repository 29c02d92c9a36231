"""Issue 6: the in-terminal compare screen (curves overlaid by step or wall time, the table, sample grids)."""

import time

import numpy as np
from rich.table import Table

from gan_tui.cli_compare import _run_report
from gan_tui.profile import load_profile
from gan_tui.store import RunStore
from gan_tui.train import events as ev
from gan_tui.tui.compare import CompareApp, CurvesPane, thinned_scalars
from gan_tui.tui.fake import screen_text, wait_until
from gan_tui.tui.widgets.samples import SamplesPane


def run_with_samples(runs_dir, lr: str, steps: int = 50, fids: dict | None = None):
    store = RunStore.create(runs_dir, load_profile("ring8", [f"train.steps={steps}", f"optim.g.lr={lr}"]))
    store.handle(ev.RunStarted(store.meta["id"], str(store.run_dir), "ring8", steps, 0, "cpu", "points",
                               "probability", 64))
    rng = np.random.default_rng(0)
    for step in range(10, steps + 1, 10):
        store.handle(ev.Scalars(step, {"d_loss": 1.0 + step / 100, "g_loss": 0.7, "d_real": 0.6, "d_fake": 0.4},
                                time.time() + step))
    store.handle(ev.Samples(steps, points=rng.normal(size=(64, 2)), real_points=rng.normal(size=(64, 2)),
                            surface=rng.random((8, 8)), extent=3.0))
    for step, fid in (fids or {}).items():
        store.handle(ev.Evaluated(step, {"fid": fid, "labels": {"fid": "FID (points)"}}))
    store.handle(ev.StatusChanged("finished", steps))
    store.close()
    return store.run_dir


async def test_compare_screen_overlays_curves_and_shows_grids_and_table(runs_dir):
    dirs = [run_with_samples(runs_dir, "0.0002"), run_with_samples(runs_dir, "0.0005")]
    reports = [_run_report(d) for d in dirs]
    table = Table("", *(r["id"] for r in reports))
    table.add_row("profile differences", "optim.g.lr", "")
    app = CompareApp(reports, table)
    async with app.run_test(size=(120, 50)) as pilot:
        curves = app.query_one(CurvesPane)
        await wait_until(pilot, lambda: "d_loss by step" in screen_text(app), timeout=10)
        text = screen_text(app)
        assert all(d.name in text for d in dirs) and "profile differences" in text
        assert len(app.query(SamplesPane)) == 2 and all(p.model.samples.step == 50 for p in app.query(SamplesPane))
        await pilot.press("w")
        assert curves.by_wall
        await wait_until(pilot, lambda: "d_loss by wall time" in screen_text(app), timeout=5)
        await pilot.press("m")
        await wait_until(pilot, lambda: "g_loss by wall time" in screen_text(app), timeout=5)
        await pilot.press("q")


async def test_at_80x24_runs_go_by_short_names_and_pgdn_reaches_the_table(runs_dir):
    from gan_tui.store.runs import short_run_labels

    dirs = [run_with_samples(runs_dir, lr) for lr in ("0.0001", "0.0002", "0.0003", "0.0004")]
    reports = [_run_report(d) for d in dirs]
    labels = short_run_labels([r["id"] for r in reports])
    assert all(label == d.name[16:] and label.startswith("ring8-") for label, d in zip(labels, dirs))
    table = Table("", *labels)
    table.add_row("profile differences", "optim.g.lr", "", "", "")
    app = CompareApp(reports, table)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: "d_loss by step" in screen_text(app), timeout=10)
        await wait_until(pilot, lambda: "PgDn More below" in screen_text(app), timeout=5)
        assert "profile differences" not in screen_text(app)
        await pilot.press("pagedown")
        await wait_until(pilot, lambda: "profile differences" in screen_text(app), timeout=5)
        assert all(label in screen_text(app) for label in labels)  # every grid's title, whole
        await pilot.press("q")


def test_short_labels_fall_back_to_whole_ids_when_they_would_collide():
    from gan_tui.store.runs import short_run_labels

    assert short_run_labels(["20261123-101010-ring8-aaaa", "20261124-090909-ring8-aaaa"]) == \
        ["20261123-101010-ring8-aaaa", "20261124-090909-ring8-aaaa"]
    assert short_run_labels(["20261123-101010-ring8-aaaa", "my-own-name"]) == ["ring8-aaaa", "my-own-name"]


def test_thinned_scalars_reads_a_few_thousand_points_of_a_long_run(tmp_path):
    store = RunStore.create(tmp_path, load_profile("ring8", ["train.steps=1000000"]))
    with store.db:
        store.db.executemany("INSERT INTO scalars VALUES (?, ?, ?, ?)",
                             [(s, name, s * 0.5, float(s)) for s in range(10, 1_000_001, 10)
                              for name in ("d_loss", "g_loss")])
        store.db.execute("INSERT INTO scalars VALUES (1000003, 'd_loss', 1.0, 0.0)")
    steps, values, walls = thinned_scalars(store.db, "d_loss", 10, 1_000_003)
    assert 1000 <= len(steps) <= 2001 and steps[-1] == 1_000_003 and np.all(np.diff(steps) > 0)
    assert values[0] == steps[0] * 0.5
    store.close()


async def test_the_score_curve_is_each_runs_headline_by_step_and_by_wall_time(runs_dir):
    """`m` reaches the evaluations' headline score (FID here, a CycleGAN's cycle error there), by step
    and, from the time each evaluation was written, by wall time."""
    dirs = [run_with_samples(runs_dir, "0.0002", fids={25: 0.8, 50: 0.4}),
            run_with_samples(runs_dir, "0.0005", fids={25: 0.4, 50: 0.2})]
    app = CompareApp([_run_report(d) for d in dirs], Table(""))
    async with app.run_test(size=(120, 50)) as pilot:
        curves = app.query_one(CurvesPane)
        await wait_until(pilot, lambda: "d_loss by step" in screen_text(app), timeout=10)
        for _ in range(4):
            await pilot.press("m")
        await wait_until(pilot, lambda: "FID (points) by step" in screen_text(app), timeout=5)
        steps, values, walls = curves.runs[0].curves["score"]
        assert list(steps) == [25, 50] and list(values) == [0.8, 0.4] and np.isfinite(walls).all()
        await pilot.press("w")
        await wait_until(pilot, lambda: "FID (points) by wall time" in screen_text(app), timeout=5)
        assert "no FID (points) logged" not in screen_text(app)
        await pilot.press("q")


def test_a_translation_runs_score_is_its_cycle_error():
    from gan_tui.tui.compare import RunSeries

    series = RunSeries.__new__(RunSeries)
    series.curves, series.score_name = {}, ""
    series._read_scores([(100, {"cycle_error_a": 0.12, "cycle_error_b": 0.2}, 5.0),
                         (200, {"cycle_error_a": 0.09, "cycle_error_b": 0.1}, None)])
    assert series.score_name == "cycle error A→B→A"
    steps, values, walls = series.curves["score"]
    assert list(steps) == [100, 200] and list(values) == [0.12, 0.09] and walls[0] == 5.0 and np.isnan(walls[1])
    pane = CurvesPane([series])
    pane.metric = "score"
    assert pane.metric_name() == "cycle error A→B→A"


async def test_a_run_still_training_is_followed_until_it_ends(runs_dir, monkeypatch):
    import gan_tui.tui.compare as compare_screen
    from gan_tui.cli_compare import rich_table, table_rereader

    monkeypatch.setattr(compare_screen, "RELOAD_S", 0.2)
    done = run_with_samples(runs_dir, "0.0002")
    live = RunStore.create(runs_dir, load_profile("ring8", ["train.steps=100"]))  # this process trains it
    live.handle(ev.RunStarted(live.meta["id"], str(live.run_dir), "ring8", 100, 0, "cpu", "points", "probability", 64))

    def log(step):
        live.handle(ev.Scalars(step, {"d_loss": 5.0, "g_loss": 0.7, "d_real": 0.6, "d_fake": 0.4}, time.time()))
        live.handle(ev.Progress(step, 100, 10.0, 640.0, 1.0, 0.0))

    log(10)
    dirs = [done, live.run_dir]

    reports = [_run_report(d) for d in dirs]
    app = CompareApp(reports, rich_table(reports, True), reread_table=table_rereader(reports, True))
    async with app.run_test(size=(120, 50)) as pilot:
        following = app.runs[1]
        await wait_until(pilot, lambda: "d_loss by step" in screen_text(app), timeout=10)
        assert following.live and not app.runs[0].live and "(live)" in screen_text(app)
        assert following.curves["d_loss"][0][-1] == 10
        for step in (20, 30):
            log(step)
        await wait_until(pilot, lambda: following.curves["d_loss"][0][-1] == 30, timeout=10)
        await wait_until(pilot, lambda: "30/100" in screen_text(app), timeout=10)  # the table too
        live.handle(ev.StatusChanged("finished", 30))
        live.close()
        await wait_until(pilot, lambda: not following.live, timeout=10)
        await wait_until(pilot, lambda: "(live)" not in screen_text(app), timeout=10)
        reads = []
        monkeypatch.setattr(following, "read", lambda: reads.append(1))
        await pilot.pause(1.0)  # five reload periods
        assert not reads  # an ended run is not read again
        await pilot.press("q")
