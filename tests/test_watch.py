"""Issue 6: `gan-tui watch` (live and replay), the control socket, and `run --detach` surviving SIGHUP."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np

from conftest import REPO, only_run, visible_runs
from gan_tui.profile import load_profile
from gan_tui.store import RunStore
from gan_tui.train import events as ev
from gan_tui.train.control import Commands
from gan_tui.train.control_server import ControlServer, send_command, socket_path
from gan_tui.tui.fake import screen_text, wait_until
from gan_tui.tui.watch import WatchApp

FAST = ["train.device=cpu", "eval.every=0", "data.batch_size=64", "log.samples=64", "log.every=5",
        "log.histograms_every=5", "log.samples_every=10", "checkpoint.every=100000"]


def sets(*items):
    return [arg for item in items for arg in ("--set", item)]


def meta(run_dir):
    return json.loads((run_dir / "meta.json").read_text())


def wait_for(predicate, timeout=60.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def start_training(runs_dir, steps, *more):
    return subprocess.Popen([sys.executable, "-m", "gan_tui", "run", "ring8", "--quiet", "--runs-dir", str(runs_dir),
                             *sets(*FAST, f"train.steps={steps}", *more)], cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def test_control_server_long_run_dir_uses_a_short_socket_and_cleans_up(tmp_path):
    run_dir = tmp_path / ("x" * 90) / "run"
    run_dir.mkdir(parents=True)
    recorded = {}
    commands = Commands()
    server = ControlServer(run_dir, commands, step=lambda: 42, on_meta=lambda c: recorded.update(control=c))
    try:
        path = socket_path(run_dir, recorded)
        assert path.is_absolute() and len(str(path)) < 100 and oct(path.stat().st_mode & 0o777) == "0o600"
        assert send_command(run_dir, "checkpoint", recorded) == {"ok": True, "step": 42}
        assert commands.poll().value == "checkpoint"
    finally:
        server.close()
    assert recorded["control"] is None and not path.exists()


async def test_watch_a_run_another_process_trains_and_steer_it(tmp_path):
    runs_dir = tmp_path / "runs"
    proc = start_training(runs_dir, 1_000_000)
    try:
        run_dir = wait_for(lambda: visible_runs(runs_dir) and only_run(runs_dir), 60, "run dir")
        wait_for(lambda: meta(run_dir).get("control") and meta(run_dir)["status"] == "running", 60, "control socket")
        sock = socket_path(run_dir, meta(run_dir))  # RUN/control.sock, or a short temp path (tmp_path is long)
        assert sock.exists()
        app = WatchApp(run_dir, fps=8, poll_s=0.2)
        async with app.run_test(size=(120, 40)) as pilot:
            m = app.model
            await wait_until(pilot, lambda: m.info is not None and m.step > 0 and m.samples is not None, timeout=30)
            first = m.step
            await wait_until(pilot, lambda: m.step > first + 10, timeout=30)  # rows keep arriving
            try:
                await wait_until(pilot, lambda: m.info.run_id in screen_text(app) and "running" in screen_text(app),
                                 timeout=10)
            except AssertionError:
                raise AssertionError(screen_text(app)) from None
            await pilot.press("c")
            await wait_until(pilot, lambda: m.last_checkpoint is not None, timeout=30)
            assert meta(run_dir)["last_checkpoint"] == m.last_checkpoint.step
            await pilot.press("space")
            await wait_until(pilot, lambda: m.status == "paused", timeout=30)
            assert meta(run_dir)["status"] == "paused"
            paused_at = meta(run_dir)["step"]
            await pilot.press("space")
            await wait_until(pilot, lambda: m.status == "running" and m.step > paused_at, timeout=30)
            await pilot.press("q", "s")  # quit and stop the training
            await wait_until(pilot, lambda: not app.is_running, timeout=60)
        assert proc.wait(timeout=60) == 130
        info = meta(run_dir)
        assert info["status"] == "interrupted" and info["step"] == info["last_checkpoint"]
        assert "control" not in info and not sock.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


async def test_watch_a_finished_run_replays_and_the_slider_moves_the_samples_step(tmp_path):
    store = RunStore.create(tmp_path, load_profile("ring8", ["train.steps=30"]))
    store.handle(ev.RunStarted(store.meta["id"], str(store.run_dir), "ring8", 30, 0, "cpu", "points", "probability", 64))
    rng = np.random.default_rng(0)
    for step in (10, 20, 30):
        store.handle(ev.Progress(step, 30, 10.0, 640.0, step / 10, 0.0))
        store.handle(ev.Scalars(step, {"d_loss": 1.0, "g_loss": 0.7, "d_real": 0.6, "d_fake": 0.4}, time.time()))
        store.handle(ev.Histograms(step, "probability", rng.random(64), rng.random(64)))
        store.handle(ev.Samples(step, points=rng.normal(size=(64, 2)) + step, real_points=rng.normal(size=(64, 2)),
                                surface=rng.random((8, 8)), extent=3.0))
    store.handle(ev.StatusChanged("finished", 30))
    store.close()
    app = WatchApp(store.run_dir, fps=8, poll_s=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        m = app.model
        await wait_until(pilot, lambda: app.training.done.is_set() and m.status == "finished", timeout=10)
        assert m.samples.step == 30 and m.series["d_loss"].steps.size == 3 and m.progress.step == 30
        await wait_until(pilot, lambda: "Quit" in screen_text(app).splitlines()[-1], timeout=5)
        footer = screen_text(app).splitlines()[-1]
        assert footer.rstrip().endswith("q Quit"), footer  # the whole footer fits at 80 columns
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert m.samples.step == 20 and m.histograms.step == 20
        assert abs(m.samples.points.mean() - 20) < 1  # the step-20 points, read back from the npz
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert m.samples.step == 10
        await pilot.press("right_square_bracket")
        assert m.samples.step == 20
        assert "showing step 20" in screen_text(app)
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running, timeout=10)


def test_detached_run_survives_its_terminal_hanging_up(tmp_path):
    runs_dir = tmp_path / "runs"
    # The "terminal": a shell in its own session whose process group gets the SIGHUP.
    script = (f"{sys.executable} -m gan_tui run --detach ring8 --runs-dir {runs_dir} "
              + " ".join(sets(*FAST, "train.steps=200", "log.samples_every=100")) + "; sleep 600")
    # One thread: two OpenMP threads on a busy 2-core machine make tiny MLPs many times slower.
    terminal = subprocess.Popen(["bash", "-c", script], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, start_new_session=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        run_id = terminal.stdout.readline().strip()
        assert run_id, terminal.stderr.read()
        run_dir = runs_dir / run_id
        pid = meta(run_dir)["pid"]
        os.killpg(terminal.pid, signal.SIGHUP)  # the SSH connection drops
        assert terminal.wait(timeout=10) != 0
        wait_for(lambda: meta(run_dir)["status"] == "finished", 90, "the detached run to finish")
        wait_for(lambda: "control" not in meta(run_dir), 20, "the trainer to close its control socket")
        assert meta(run_dir)["pid"] == pid and meta(run_dir)["step"] == 200
        log = (run_dir / "console.log").read_text()  # for `tail -f`: where it got to, and how it ended
        assert "ring8 step 200/200 (100%)" in log and "finished at step 200" in log, log
    finally:
        if terminal.poll() is None:
            os.killpg(terminal.pid, signal.SIGKILL)


async def test_d_in_the_dashboard_continues_the_run_in_a_detached_process(tmp_path):
    from gan_tui.tui.app import DashboardApp

    runs_dir = tmp_path / "runs"
    profile = load_profile("ring8", [*FAST, "train.steps=1000000"])
    app = DashboardApp(profile=profile, runs_dir=runs_dir, fps=8)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.model.step >= 10, timeout=60)
        await pilot.press("d")
        await wait_until(pilot, lambda: not app.is_running, timeout=90)
    kind, run_dir = app.return_value
    assert kind == "watch" and app.training.outcome == "interrupted"
    stopped_at = app.model.step
    info = wait_for(lambda: (m := meta(run_dir))["pid"] != os.getpid() and m["status"] == "running"
                    and m["step"] > stopped_at and m, 60, "the detached process to go on")
    assert (run_dir / "console.log").is_file()
    assert send_command(run_dir, "stop")["ok"]
    wait_for(lambda: meta(run_dir)["status"] == "interrupted", 60, "the detached run to stop")
    assert info["pid"] != os.getpid()


def test_watch_names_a_damaged_meta_or_database_and_exits_2(runs_dir):
    from gan_tui.store import RunStore

    for damaged, name in ((lambda d: (d / "meta.json").write_text('{"id": broken'), "meta.json"),
                          (lambda d: (d / "metrics.sqlite").write_bytes(b"SQLite format 3\x00" + b"\x00" * 90),
                           "metrics.sqlite")):
        run = RunStore.create(runs_dir, load_profile("ring8", FAST))
        run.close()
        for extra in run.run_dir.glob("metrics.sqlite-*"):
            extra.unlink()
        damaged(run.run_dir)
        result = subprocess.run([sys.executable, "-m", "gan_tui", "watch", run.run_dir.name, "--runs-dir",
                                 str(runs_dir)], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2 and len(lines) == 1, result.stderr
        assert str(run.run_dir / name) in lines[0] and "cannot be read" in lines[0]


def test_a_bare_watch_opens_the_newest_run_still_training_else_the_newest(runs_dir):
    from gan_tui.store.runs import newest_run

    result = subprocess.run([sys.executable, "-m", "gan_tui", "watch", "--runs-dir", str(runs_dir)],
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 2 and f"no runs in {runs_dir} yet" in result.stderr
    dirs = []
    for start, status in (("2026-01-01T00:00:00+00:00", "running"), ("2026-01-02T00:00:00+00:00", "finished")):
        run = RunStore.create(runs_dir, load_profile("ring8", FAST))
        run.close()
        data = meta(run.run_dir) | {"start_time": start, "status": status, "pid": os.getpid()}
        (run.run_dir / "meta.json").write_text(json.dumps(data))
        dirs.append(run.run_dir)
    assert newest_run(runs_dir) == dirs[0]  # the older one still trains
    (dirs[0] / "meta.json").write_text(json.dumps(meta(dirs[0]) | {"status": "finished"}))
    assert newest_run(runs_dir) == dirs[1]
