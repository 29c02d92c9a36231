"""End-to-end: `gan-tui` run as a subprocess, as a user would."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from conftest import REPO, needs_fashion, only_run, run_cli

QUICK = ["--set", "train.steps=120", "--set", "log.every=20", "--set", "log.samples_every=60",
         "--set", "log.histograms_every=40", "--set", "checkpoint.every=50", "--set", "checkpoint.keep=2",
         "--set", "train.device=cpu"]


def scalar_steps(run_dir, name):
    with sqlite3.connect(run_dir / "metrics.sqlite") as db:
        return [r[0] for r in db.execute("SELECT step FROM scalars WHERE name = ? ORDER BY step", (name,))]


def test_run_ring8_writes_a_complete_run_directory(runs_dir):
    result = run_cli("run", "ring8", "--runs-dir", str(runs_dir), *QUICK)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    run = only_run(runs_dir)
    meta = json.loads((run / "meta.json").read_text())
    assert meta["status"] == "finished" and meta["step"] == 120 and meta["device"] == "cpu"
    assert {"id", "start_time", "end_time", "host", "torch_version", "device_name"} <= set(meta)
    assert "steps = 120" in (run / "profile.toml").read_text()
    for name in ("d_loss", "g_loss", "d_real", "d_fake"):
        assert scalar_steps(run, name) == [20, 40, 60, 80, 100, 120]
    with sqlite3.connect(run / "metrics.sqlite") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert [r[0] for r in db.execute("SELECT step FROM histograms")] == [40, 80, 120]
    assert sorted(p.name for p in (run / "samples").glob("*.png")) == [
        "step-0000000.png", "step-0000060.png", "step-0000120.png"]
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["step-0000100", "step-0000120"]
    assert {p.name for p in (run / "checkpoints" / "step-0000120").iterdir()} == {"model.safetensors", "state.pt"}


def test_json_lines_on_stdout(runs_dir):
    result = run_cli("run", "ring8", "--json", "--runs-dir", str(runs_dir), *QUICK)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows[0]["event"] == "started" and rows[-1] == {**rows[-1], "event": "status", "status": "finished"}
    scalars = [r for r in rows if r["event"] == "scalars"]
    assert [r["step"] for r in scalars] == [20, 40, 60, 80, 100, 120]
    assert {"d_loss", "g_loss", "d_real", "d_fake", "it_per_s"} <= set(scalars[-1])


def test_quiet_prints_nothing_but_errors(runs_dir):
    result = run_cli("run", "ring8", "--quiet", "--runs-dir", str(runs_dir), *QUICK[:2])
    assert result.returncode == 0 and result.stdout == "" and result.stderr == ""


def wait_for(predicate, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def start_long_run(runs_dir, *extra):
    args = [sys.executable, "-m", "gan_tui", "run", "ring8", "--quiet", "--runs-dir", str(runs_dir),
            "--set", "train.steps=100000", "--set", "log.every=10", "--set", "checkpoint.every=50",
            "--set", "train.device=cpu", "--set", "data.batch_size=64", *extra]
    return subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=os.environ.copy())


def test_sigkill_then_resume_continues_without_gaps_or_duplicates(runs_dir):
    # Checkpoints far apart, so that the kill lands between two of them whatever the machine's speed
    # (with checkpoints every 50 steps, a run at 150 once raced the kill to its next checkpoint).
    proc = start_long_run(runs_dir, "--set", "checkpoint.every=500")
    try:
        wait_for(lambda: runs_dir.is_dir() and any(runs_dir.glob("*/checkpoints/step-0000500"))
                 and max(scalar_steps(only_run(runs_dir), "d_loss") or [0]) >= 520)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    run = only_run(runs_dir)
    killed_at = max(scalar_steps(run, "d_loss"))
    last_ckpt = max(int(p.name[5:]) for p in (run / "checkpoints").glob("step-*"))
    assert killed_at > last_ckpt  # some logged steps after the checkpoint are replayed
    result = run_cli("run", "--resume", run.name, "--quiet", "--runs-dir", str(runs_dir),
                     "--set", f"train.steps={killed_at + 100}")
    assert result.returncode == 0, result.stderr
    steps = scalar_steps(run, "d_loss")
    assert steps == list(range(10, killed_at + 101, 10))
    meta = json.loads((run / "meta.json").read_text())
    assert meta["status"] == "finished" and meta["step"] == killed_at + 100
    again = run_cli("run", "--resume", run.name, "--runs-dir", str(runs_dir))  # a job script resuming until done
    assert again.returncode == 0 and scalar_steps(run, "d_loss") == steps
    assert f"already trained all its {killed_at + 100:,} steps" in again.stderr, again.stderr


def test_ctrl_c_saves_a_checkpoint_and_exits_130(runs_dir):
    proc = start_long_run(runs_dir)
    wait_for(lambda: runs_dir.is_dir() and any(runs_dir.glob("*/checkpoints/step-0000050")))
    proc.send_signal(signal.SIGINT)
    proc.wait(60)
    assert proc.returncode == 130, proc.stderr.read()
    run = only_run(runs_dir)
    meta = json.loads((run / "meta.json").read_text())
    assert meta["status"] == "interrupted"
    assert meta["step"] >= 50
    assert int(sorted((run / "checkpoints").glob("step-*"))[-1].name[5:]) == meta["step"]


def test_resuming_a_run_that_still_trains_is_refused_and_leaves_it_alone(runs_dir):
    proc = start_long_run(runs_dir)
    try:
        wait_for(lambda: runs_dir.is_dir() and any(runs_dir.glob("*/checkpoints/step-0000050")))
        run = only_run(runs_dir)
        result = run_cli("run", "--resume", run.name, "--quiet", "--runs-dir", str(runs_dir))
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith(f"error: run {run.name} is still running (pid {proc.pid} on ")
        assert f"gan-tui watch {run.name}" in result.stderr and f"kill -INT {proc.pid}" in result.stderr
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        step = json.loads((run / "meta.json").read_text())["step"]
        wait_for(lambda: json.loads((run / "meta.json").read_text())["step"] > step)  # still training, alone
    finally:
        proc.send_signal(signal.SIGINT)
    assert proc.wait(60) == 130
    steps = scalar_steps(run, "d_loss")
    assert steps == sorted(set(steps))  # one writer: no step logged twice


def test_ctrl_c_during_an_evaluation_waits_for_it_and_exits_130(runs_dir):
    # The evaluation thread is still inside torch when the run ends: the process must wait for it
    # rather than tear it down at exit, which aborted with a C++ "terminate called" (exit 134).
    proc = start_long_run(runs_dir, "--set", "eval.every=50", "--set", "eval.n=10000")
    wait_for(lambda: runs_dir.is_dir() and any(runs_dir.glob("*/checkpoints/step-0000050"))
             and max(scalar_steps(only_run(runs_dir), "d_loss") or [0]) >= 60)
    proc.send_signal(signal.SIGINT)
    proc.wait(120)
    stderr = proc.stderr.read()
    assert proc.returncode == 130, stderr
    assert "terminate called" not in stderr and "Traceback" not in stderr
    assert "waiting for the evaluation of step 50 to finish" in stderr
    meta = json.loads((only_run(runs_dir) / "meta.json").read_text())
    assert meta["status"] == "interrupted"


def long_run_args(runs_dir, *extra):
    return [sys.executable, "-m", "gan_tui", "run", "ring8", "--runs-dir", str(runs_dir),
            "--set", "train.steps=100000", "--set", "log.every=10", "--set", "checkpoint.every=50",
            "--set", "train.device=cpu", "--set", "eval.every=0", *extra]


def stopped_cleanly(runs_dir):
    run = only_run(runs_dir)
    meta = json.loads((run / "meta.json").read_text())
    assert meta["status"] == "interrupted" and not (run / "error.log").exists(), meta
    assert meta["step"] == meta["last_checkpoint"] >= 50


def test_a_closed_terminal_checkpoints_and_exits_129_rather_than_failing(runs_dir):
    """An SSH connection drops: the terminal's hang-up (SIGHUP) stops the run, and the progress bar's
    last lines then go to a terminal that is gone (EIO), which once marked the run failed."""
    import pty
    import threading

    master, slave = pty.openpty()
    # As sshd or a terminal emulator does: a new session whose controlling terminal is the pty.
    as_terminal = ("import os, sys; fd = os.open(sys.argv[1], os.O_RDWR); [os.dup2(fd, n) for n in (0, 1, 2)]; "
                   "os.execv(sys.executable, [sys.executable, *sys.argv[2:]])")
    proc = subprocess.Popen([sys.executable, "-c", as_terminal, os.ttyname(slave), *long_run_args(runs_dir)[1:]],
                            cwd=REPO, start_new_session=True, env={**os.environ, "TERM": "xterm-256color"})
    shown = bytearray()  # (the slave stays open here too until the end: without it, reads fail until the child opens it)

    def drain():  # as the terminal would, so that the progress bar never blocks on a full pty
        try:
            while chunk := os.read(master, 4096):
                shown.extend(chunk)
        except OSError:
            pass

    threading.Thread(target=drain, daemon=True).start()
    try:
        wait_for(lambda: runs_dir.is_dir() and any(runs_dir.glob("*/checkpoints/step-0000050")) and b"it/s" in shown)
    finally:
        os.close(master)  # the terminal goes away
        os.close(slave)
    assert proc.wait(60) == 129
    stopped_cleanly(runs_dir)


def test_a_reader_of_json_lines_that_goes_away_checkpoints_and_exits_141(runs_dir):
    proc = subprocess.Popen(long_run_args(runs_dir, "--json"), cwd=REPO, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ.copy())
    first = json.loads(proc.stdout.readline())
    assert first["event"] == "started"
    wait_for(lambda: any(runs_dir.glob("*/checkpoints/step-0000050")))
    proc.stdout.close()  # `gan-tui run --json | head -1`
    assert proc.wait(60) == 141, proc.stderr.read()
    stderr = proc.stderr.read().decode()
    assert "Traceback" not in stderr and "failed" not in stderr, stderr
    stopped_cleanly(runs_dir)


@pytest.mark.parametrize("args, sentence", [
    (["run", "nope"], 'error: profile "nope" not found'),
    (["run", "ring8", "--set", "train.stesp=5"], 'did you mean "train.steps"?'),
    (["run", "ring8", "--set", "model.architecture=gpt"], 'names unknown "gpt"; known: cyclegan, dcgan, mlp'),
    (["run", "ring8", "--set", "data.name=mnist"], 'error: --set data.name=mnist: dataset "mnist" (key "data.name") '
                                                   "not found in"),
    (["run", "ring8", "--set", "train.device=cuda:7"], 'error: --set train.device=cuda:7: key "train.device" is "cuda:7"'),
    (["run", "dcgan-fashion", "--data", "/nonexistent"], 'error: --data /nonexistent: dataset "fashion-mnist" is not in'),
    (["run", "--resume", "no-such-run"], 'run "no-such-run" not found'),
    (["profiles", "show", "ring9"], 'did you mean "ring8"?'),
    (["comapre", "RUN_A", "RUN_B"], '"comapre" is neither a command nor a profile; did you mean `gan-tui compare`?'),
    (["rung8"], 'profile "rung8" not found'),  # closer to a profile than to `run`: the profile's sentence
])
def test_bad_input_exits_2_with_one_sentence(runs_dir, args, sentence):
    result = run_cli(*args, "--runs-dir", str(runs_dir)) if args[0] == "run" else run_cli(*args)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and sentence in lines[0], result.stderr
    assert not runs_dir.exists() or not any(runs_dir.iterdir())  # no half-made run left behind


def test_a_runs_folder_that_is_a_file_or_cannot_be_made_is_one_sentence(tmp_path):
    a_file = tmp_path / "runs.txt"
    a_file.write_text("keep me")
    for args, where, why in ((["run", "ring8"], a_file, "is a file, not a folder"),
                             (["run", "ring8", "--detach"], a_file, "is a file, not a folder"),
                             (["runs"], a_file, "is a file, not a folder"),
                             (["run", "ring8"], a_file / "runs", "cannot be made (Not a directory)")):
        result = run_cli(*args, "--runs-dir", str(where))
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.strip() == (f"error: runs folder {where} {why}; give a folder you can write to "
                                         "with --runs-dir DIR or $GAN_TUI_RUNS_DIR."), result.stderr
    assert a_file.read_text() == "keep me"


def test_help_lists_every_command_in_panels_in_the_order_a_user_meets_them():
    shown = run_cli("--help", env={"COLUMNS": "100"}).stdout
    panels = [line.strip("╭─ ").split(" ")[0] for line in shown.splitlines() if line.startswith("╭─")]
    assert panels == ["Options", "Train", "Runs", "Evaluate"], shown
    names = [line[2:].split()[0] for line in shown.splitlines() if line.startswith("│ ") and line[2] not in " -"]
    # `runs` first in its panel: typer alone lists groups after every command
    assert names == ["run", "profiles", "runs", "watch", "compare", "sample", "export", "eval", "fid",
                     "evaluator"], shown


def test_profiles_list_and_show():
    listed = run_cli("profiles", "list", "--format", "json")
    assert listed.returncode == 0
    rows = {r["name"]: r for r in json.loads(listed.stdout)}
    assert {"ring8", "grid25", "dcgan-fashion"} <= set(rows)
    assert all(r["description"] for r in rows.values())
    table = run_cli("profiles", "list")
    assert "ring8" in table.stdout and "dcgan-fashion" in table.stdout
    bare = run_cli("profiles")  # as bare `gan-tui runs` lists runs; it used to say "Missing command"
    assert bare.returncode == 0 and bare.stdout == table.stdout
    shown = run_cli("profiles", "show", "grid25", "--set", "train.steps=9")
    assert shown.returncode == 0
    assert 'name = "grid25"' in shown.stdout and "steps = 9" in shown.stdout and "architecture = \"mlp\"" in shown.stdout


@needs_fashion
def test_dcgan_fashion_trains_on_the_real_dataset(runs_dir):
    result = run_cli("run", "dcgan-fashion", "--quiet", "--runs-dir", str(runs_dir),
                     "--set", "train.steps=20", "--set", "data.limit=2000", "--set", "data.batch_size=32",
                     "--set", "log.every=10", "--set", "model.g_width=16", "--set", "model.d_width=16",
                     "--set", "train.device=cpu", "--set", "eval.every=0")
    assert result.returncode == 0, result.stderr
    run = only_run(runs_dir)
    assert scalar_steps(run, "g_loss") == [10, 20]
    from PIL import Image

    with Image.open(run / "samples" / "step-0000020.png") as grid:
        assert grid.size == (8 * 33 + 1, 8 * 33 + 1)  # 8x8 grid of 32 px images, 1 px apart


def _every_command(command, path=()):
    yield path, command
    if hasattr(command, "commands"):  # a group (typer vendors its own click)
        for name, sub in command.commands.items():
            yield from _every_command(sub, (*path, name))


def test_no_help_text_loses_words_to_rich_markup():
    """Typer renders help through rich markup, which swallows "[last]" or "[one per class ...]" whole."""
    import typer
    from rich.markup import render

    from gan_tui.cli import app

    texts = []
    for path, command in _every_command(typer.main.get_command(app)):
        texts += [(path, "docstring", command.help or "")]
        texts += [(path, param.name, getattr(param, "help", None) or "") for param in command.params]
    assert len(texts) > 40
    eaten = [(path, name, text) for path, name, text in texts if render(text).plain != text]
    assert not eaten, eaten


def test_sample_and_export_take_dash_o_for_out(runs_dir):
    for command in ("sample", "export"):
        shown = run_cli(command, "--help", env={"COLUMNS": "120"}).stdout
        assert "-o,--out" in shown.replace(" ", "") or "--out-o" in shown.replace(" ", ""), shown
