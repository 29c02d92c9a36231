"""Faults a long run must survive (issue 8): kills at any moment, stop signals, a full disk,
NaN/Inf, CUDA out of memory, two writers and a reader at once, damaged run files.

Command lines run as real processes forked from a warm interpreter (tests/faultlib.py), so
the kill storm costs seconds; the rest runs in this process with the CLI's own failure path.
"""

import errno
import json
import math
import os
import signal
import sqlite3
import threading
import time

import pytest
import torch
import typer
from typer.testing import CliRunner

from faultlib import STORM, Child, check_run, cli, kill_storm, run_dirs, scalar_rows, wait_for
from gan_tui.cli import _record_failure, app
from gan_tui.errors import TrainingDiverged
from gan_tui.profile import load_profile
from gan_tui.train import events as ev
from gan_tui.train.checkpoint import latest_good_checkpoint, list_checkpoints
from gan_tui.train.session import new_session, resume_session
from test_trainer import FAST, Recorder

CPU = torch.device("cpu")


pytestmark = pytest.mark.usefixtures("one_thread")  # conftest.py: tiny networks train on one thread


def meta_of(run_dir) -> dict:
    return json.loads((run_dir / "meta.json").read_text())


def in_process(*args: str):
    """`gan-tui ARGS` in this process (stdout and stderr apart)."""
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


def one_line_error(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in text, text
    return lines[0]


def run_failing_like_the_cli(session, capsys) -> str:
    """Train a session that fails, handling the failure as `gan-tui run` does: exit 1 and one line
    on stderr, which is returned."""
    with pytest.raises(typer.Exit) as exit_info:
        try:
            session.trainer.run()
        except Exception as exc:
            _record_failure(session, exc)
    session.close()
    assert exit_info.value.exit_code == 1
    return one_line_error(capsys.readouterr().err)


# ---------------------------------------------------------------------------
# Kills and stop signals


@pytest.mark.slow
def test_sigkill_storm_keeps_every_logged_step_up_to_the_last_checkpoint(tmp_path):
    result = kill_storm(tmp_path, runs=2, kills_per_run=6, seed=0)
    assert result.problems == [], "\n".join(result.problems)
    assert result.faults == 12 and result.runs == result.survived == 2
    assert result.lost_steps == 0 and result.duplicated_rows == 0
    assert result.torn_checkpoints >= 1  # some kills landed inside a checkpoint write


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_save_a_checkpoint_and_mark_the_run_interrupted(tmp_path, signum, code):
    runs = tmp_path / "runs"
    child = Child(["run", "ring8", *STORM, "--set", "train.steps=1000000", "--quiet", "--runs-dir", runs],
                  tmp_path / "out.txt")
    wait_for(lambda: any(list_checkpoints(p / "checkpoints") for p in run_dirs(runs)) or not child.alive())
    child.signal(signum)
    assert child.wait(60) == code, child.output()
    assert child.output() == ""
    (run,) = run_dirs(runs)
    meta = meta_of(run)
    assert meta["status"] == "interrupted" and meta["message"] == "stopped by request"
    assert meta["step"] == meta["last_checkpoint"] == int(list_checkpoints(run / "checkpoints")[-1].name[5:])
    check = check_run(run, 5)
    assert check.checkpoint == meta["step"] and not check.lost and not check.problems


# ---------------------------------------------------------------------------
# A full disk (a file size limit: every file of the process stops growing at N bytes)

TINY = ["--set", "train.device=cpu", "--set", "log.samples=64", "--set", "eval.every=0", "--set", "train.steps=2000"]


def test_full_disk_under_the_database_fails_in_one_sentence_and_resumes_later(tmp_path):
    runs = tmp_path / "runs"
    argv = ["run", "ring8", *TINY, "--set", "model.g_width=8", "--set", "model.d_width=8", "--set", "log.every=1",
            "--set", "log.histograms_every=1", "--set", "checkpoint.every=5", "--quiet", "--runs-dir", runs]
    code, out = cli(argv, tmp_path / "full.txt", fsize=200_000)
    (run,) = run_dirs(runs)
    line = one_line_error(out)
    assert code == 1 and f"cannot write {run / 'metrics.sqlite'}" in line and "file size limit" in line
    assert f"gan-tui run --resume {run.name}" in line and "error.log" in line
    meta = meta_of(run)
    assert meta["status"] == "failed" and "cannot write" in meta["message"]
    check = check_run(run, 1)  # earlier files intact: the database opens, the last checkpoint loads
    assert check.checkpoint >= 5 and not check.lost and not check.problems
    # Space again: the run goes on from its last checkpoint.
    code, out = cli(["run", "--resume", run.name, "--quiet", "--runs-dir", runs, "--set", "train.steps=40"],
                    tmp_path / "resume.txt")
    assert code == 0, out
    assert sorted({s for s, _ in scalar_rows(run)}) == list(range(1, 41)) and meta_of(run)["status"] == "finished"


def test_full_disk_during_a_checkpoint_leaves_no_half_checkpoint(tmp_path):
    runs = tmp_path / "runs"
    argv = ["run", "ring8", *TINY, "--set", "log.every=10", "--set", "checkpoint.every=20", "--quiet",
            "--runs-dir", runs]
    code, out = cli(argv, tmp_path / "full.txt", fsize=150_000)  # the weights file is ~220 kB
    (run,) = run_dirs(runs)
    line = one_line_error(out)
    assert code == 1 and f"cannot write {run / 'checkpoints' / 'step-0000020' / 'model.safetensors'}" in line
    assert "file size limit was reached" in line
    assert meta_of(run)["status"] == "failed"
    assert list((run / "checkpoints").iterdir()) == []  # the temporary folder went too
    check = check_run(run, 10)
    assert not check.problems and not check.lost


def test_when_meta_json_cannot_be_written_either_the_user_is_told(runs_dir, monkeypatch, capsys):
    from gan_tui.store import writer

    session = new_session(load_profile("ring8", [*FAST, "checkpoint.every=10"]), runs_dir)
    trainer = session.trainer
    step = trainer.train_step

    def full_disk_at_15():
        if trainer.step == 15:  # from here on nothing can be written: not the database, not meta.json
            def no_space(*args, **kwargs):
                raise OSError(errno.ENOSPC, "No space left on device")

            def database_full(*args, **kwargs):
                raise sqlite3.OperationalError("database or disk is full")

            monkeypatch.setattr(writer, "write_json_atomic", no_space)
            monkeypatch.setattr(writer.RunStore, "_event", database_full)
            monkeypatch.setattr(writer.RunStore, "_on_Scalars", database_full)
        step()

    trainer.train_step = full_disk_at_15
    line = run_failing_like_the_cli(session, capsys)
    assert f"cannot write {session.run_dir / 'metrics.sqlite'} (no space left on the device)" in line
    assert "could not be marked failed either" in line and "shows it as interrupted" in line
    meta = meta_of(session.run_dir)  # the last good meta.json, whole
    assert meta["status"] == "running" and meta["step"] == 10
    assert not check_run(session.run_dir, 10).problems


# ---------------------------------------------------------------------------
# NaN and Inf in losses and weights


def poisoned_session(runs_dir, overrides=(), network="G", value=math.nan, at=25, times=1):
    """A ring8 session whose `network` gets `value` in one weight when the step reaches `at`
    (`times` times at most: after rollbacks too)."""
    rec = Recorder()
    session = new_session(load_profile("ring8", [*FAST, *overrides]), runs_dir, [rec])
    trainer = session.trainer
    fired = []

    def poison(step):
        if step == at and len(fired) < times:
            fired.append(step)
            net = {"G": trainer.G, "D": trainer.D, "G_ema": trainer.G_ema}[network]
            with torch.no_grad():
                next(net.parameters()).view(-1)[0] = value

    trainer._step_hooks.append(poison)
    return session, rec


@pytest.mark.parametrize("network, value", [("G", math.nan), ("D", math.inf), ("G_ema", math.nan)])
def test_a_non_finite_weight_is_caught_within_one_log_interval(runs_dir, network, value):
    # G_ema is in no loss at all: only the weight check can see it.
    session, rec = poisoned_session(runs_dir, network=network, value=value)
    with pytest.raises(TrainingDiverged) as info:
        session.trainer.run()
    session.close()
    assert info.value.step == 30  # poisoned during step 26, caught at the next log step
    assert network in str(info.value).split(": ")[1] and str(info.value).endswith("not finite")
    assert rec.events[-1].status == "diverged" and meta_of(session.run_dir)["status"] == "diverged"
    assert meta_of(session.run_dir)["step"] == 30


def test_non_finite_weights_are_never_checkpointed(runs_dir):
    # Checkpoints every 5 steps, logs every 10: the checkpoint at 25 would hold the NaN of step 23.
    session, _ = poisoned_session(runs_dir, ["checkpoint.every=5"], network="G_ema", at=22)
    with pytest.raises(TrainingDiverged) as info:
        session.trainer.run()
    session.close()
    assert info.value.step == 25 and "G_ema" in str(info.value)
    assert [p.name for p in list_checkpoints(session.run_dir / "checkpoints")][-1] == "step-0000020"


def test_rollback_goes_back_to_the_last_checkpoint_with_lower_learning_rates(runs_dir):
    session, rec = poisoned_session(runs_dir, ["train.on_divergence=rollback", "train.rollback_lr_factor=0.25"])
    t = session.trainer
    assert t.run() == "finished"
    session.close()
    rolled = [e for e in rec.of(ev.StatusChanged) if e.extra.get("rollback")]
    assert len(rolled) == 1 and rolled[0].step == 20
    assert rolled[0].extra["rollback"] == {"count": 1, "from_step": 30, "to_step": 20, "lr_scale": 0.25}
    assert rolled[0].message == ("training diverged at step 30: weights of G, D and G_ema are not finite; rolled "
                                 "back to the checkpoint at step 20 with the learning rates x0.25 (rollback 1 of 3)")
    assert t.opt_g.param_groups[0]["lr"] == pytest.approx(0.25 * t.profile.optim.g.lr)
    assert t.opt_d.param_groups[0]["lr"] == pytest.approx(0.25 * t.profile.optim.d.lr)
    rows = scalar_rows(session.run_dir)
    assert sorted({s for s, _ in rows}) == [10, 20, 30, 40] and len(rows) == len(set(rows)) == 16
    meta = meta_of(session.run_dir)
    assert meta["status"] == "finished" and meta["rollbacks"] == 1
    with sqlite3.connect(session.run_dir / "metrics.sqlite") as db:
        events = db.execute("SELECT step, message FROM events WHERE message LIKE '%rolled back%'").fetchall()
    assert events == [(20, "running: " + rolled[0].message)]
    # The scale is part of the run: a resume keeps it, and applies --set learning rates.
    _, _, state = latest_good_checkpoint(session.run_dir / "checkpoints", CPU)
    assert state["lr_scale"] == 0.25 and state["rollbacks"] == 1
    resumed = resume_session(lambda p: load_profile(str(p), ["train.steps=50", "optim.g.lr=0.001"]), runs_dir,
                             session.run_dir.name)
    assert resumed.trainer.opt_g.param_groups[0]["lr"] == pytest.approx(0.25 * 0.001)
    resumed.close()


def test_rollbacks_run_out_and_then_the_run_is_marked_diverged(runs_dir):
    session, rec = poisoned_session(runs_dir, ["train.on_divergence=rollback", "train.max_rollbacks=2"], times=99)
    with pytest.raises(TrainingDiverged):
        session.trainer.run()
    session.close()
    statuses = [(e.status, e.extra.get("rollback", {}).get("count")) for e in rec.of(ev.StatusChanged)]
    assert statuses == [("running", 1), ("running", 2), ("diverged", None)]
    assert meta_of(session.run_dir)["status"] == "diverged"


def test_no_checkpoint_to_roll_back_to_means_diverged(runs_dir):
    session, rec = poisoned_session(runs_dir, ["train.on_divergence=rollback", "checkpoint.every=1000"], at=5)
    with pytest.raises(TrainingDiverged) as info:
        session.trainer.run()
    session.close()
    assert info.value.step == 10 and rec.events[-1].status == "diverged"


def test_a_rollback_shows_in_the_dashboard_and_on_the_console():
    from rich.console import Console

    from gan_tui.console import ConsoleProgress
    from gan_tui.tui.model import RunModel
    from gan_tui.tui.widgets.banner import Banner

    model = RunModel()
    model.apply(ev.RunStarted("r", "/tmp/r", "ring8", 100, 0, "cpu", "points", "probability", 64))
    for step in (10, 20, 30):
        model.apply(ev.Scalars(step, {"d_loss": 1.0, "g_loss": 1.0}, 0.0))
    message = "training diverged at step 30: a weight of G is not finite; rolled back to the checkpoint at step 20"
    rollback = ev.StatusChanged("running", 20, message, {"rollback": {"count": 1, "from_step": 30, "to_step": 20,
                                                                     "lr_scale": 0.5}})
    model.apply(rollback)
    assert model.series["d_loss"].steps.view().tolist() == [10, 20] and model.step == 20
    assert message in Banner(model).text().plain
    console = Console(record=True, width=300)
    progress = ConsoleProgress(console)
    progress.handle(ev.RunStarted("r", "/tmp/r", "ring8", 100, 0, "cpu", "points", "probability", 64))
    progress.handle(rollback)
    progress.close()
    assert f"warning: {message}" in console.export_text()
    model.apply(ev.StatusChanged("paused", 25))
    model.apply(ev.StatusChanged("running", 25))
    assert not Banner(model).text().plain  # the banner clears once the run moves on


# ---------------------------------------------------------------------------
# The reader of the console output goes away (end to end in test_cli.py)


def test_output_whose_reader_left_goes_to_devnull_and_says_so_once():
    from gan_tui.console import OutputStream

    read_end, write_end = os.pipe()
    stream = os.fdopen(write_end, "w")
    lost = []
    out = OutputStream(stream, lost.append)
    out.write("first\n")
    out.flush()
    assert os.read(read_end, 100) == b"first\n"
    os.close(read_end)  # `gan-tui run --json | head -1` once head has its line
    for _ in range(3):
        out.write("later\n")
        out.flush()  # no BrokenPipeError: the descriptor is /dev/null now
    assert len(lost) == 1 and isinstance(lost[0], BrokenPipeError)
    assert os.path.samefile(f"/proc/self/fd/{stream.fileno()}", os.devnull)
    stream.close()


# ---------------------------------------------------------------------------
# CUDA out of memory

OOM_TEXT = ("CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 79.10 GiB of which "
            "1.25 GiB is free. Including non-PyTorch memory, this process has 77.8 GiB memory in use.")


def test_cuda_out_of_memory_is_one_sentence_with_the_batch_size_and_memory(runs_dir, capsys):
    session = new_session(load_profile("ring8", FAST), runs_dir)
    trainer = session.trainer
    step = trainer.train_step

    def out_of_memory():
        if trainer.step == 25:
            raise torch.OutOfMemoryError(OOM_TEXT)
        step()

    trainer.train_step = out_of_memory
    line = run_failing_like_the_cli(session, capsys)
    assert line.startswith("error: training failed: CUDA ran out of memory at step 25 (data.batch_size = 64; it "
                           "tried to allocate 2.00 GiB; 1.25 GiB free of 79.10 GiB); lower data.batch_size (try 32)")
    assert 'train.precision = "bf16"' in line and "error.log" in line
    meta = meta_of(session.run_dir)
    assert meta["status"] == "failed" and meta["message"].startswith("CUDA ran out of memory at step 25")
    check = check_run(session.run_dir, 10)  # nothing corrupted: the checkpoint at 20 loads, all rows there
    assert check.checkpoint == 20 and not check.lost and not check.problems


def test_out_of_memory_reads_the_live_cuda_figures(monkeypatch):
    from gan_tui.train.failures import out_of_memory_message

    gib = 1024 ** 3
    for name, value in (("is_available", True), ("mem_get_info", (1.5 * gib, 80 * gib)),
                        ("memory_allocated", 70 * gib), ("memory_reserved", 76 * gib),
                        ("max_memory_allocated", 78 * gib)):
        monkeypatch.setattr(torch.cuda, name, lambda *a, v=value: v)
    text = out_of_memory_message(torch.OutOfMemoryError(OOM_TEXT), 512, "cuda:0", 1200)
    assert text == ("CUDA ran out of memory at step 1,200 (data.batch_size = 512; it tried to allocate 2.00 GiB; "
                    "70.00 GiB allocated by PyTorch, 76.00 GiB reserved, 1.50 GiB free of 80.00 GiB on cuda:0, "
                    "peak 78.00 GiB); lower data.batch_size (try 256) or the model widths (model.g_width, "
                    'model.d_width), or set train.precision = "bf16"')


# ---------------------------------------------------------------------------
# Two writers and readers in one runs directory


@pytest.mark.slow
def test_two_runs_and_readers_share_a_runs_directory_without_lock_errors(tmp_path):
    from gan_tui.store import RunReader
    from gan_tui.store.runs import list_runs

    runs = tmp_path / "runs"
    argv = ["run", "ring8", *STORM, "--set", "train.steps=200", "--quiet", "--runs-dir", runs]
    children = [Child([*argv, "--set", f"train.seed={seed}"], tmp_path / f"w{seed}.txt") for seed in (1, 2)]
    problems, reads = [], 0
    while any(c.alive() for c in children):
        found = list_runs(runs, on_bad=problems.append)
        for summary in found:
            try:
                reader = RunReader(summary.dir)
                try:
                    steps, _ = reader.scalars("d_loss")
                    reader.last_scalars(("d_loss",))
                    reader.histogram()
                    reader.samples()
                finally:
                    reader.close()
            except Exception as exc:  # noqa: BLE001 - a lock error, a half-written file: all wrong
                problems.append(f"{summary.dir.name}: {type(exc).__name__}: {exc}")
                continue
            if steps.tolist() != list(range(5, 5 * len(steps) + 1, 5)):
                problems.append(f"{summary.dir.name}: a gap in {steps.tolist()}")
            reads += 1
        listed = in_process("runs", "--format", "json", "--runs-dir", runs)
        if listed.exit_code or listed.stderr:
            problems.append(listed.stderr)
    assert [c.wait() for c in children] == [0, 0], [c.output() for c in children]
    assert problems == [] and reads > 10
    # No mixed data: each run is exactly what it trains alone.
    code, out = cli([*argv, "--set", "train.seed=1", "--runs-dir", tmp_path / "alone"], tmp_path / "alone.txt")
    assert code == 0, out

    def curves(run):
        with sqlite3.connect(run / "metrics.sqlite") as db:
            return db.execute("SELECT step, name, value FROM scalars ORDER BY step, name").fetchall()

    by_seed = {load_profile(str(run / "profile.toml")).train.seed: curves(run) for run in run_dirs(runs)}
    (alone,) = run_dirs(tmp_path / "alone")
    assert sorted(by_seed) == [1, 2] and by_seed[1] == curves(alone) != by_seed[2]
    assert len(by_seed[1]) == 4 * 40


# ---------------------------------------------------------------------------
# Damaged run directories and data files


@pytest.fixture
def finished_run(tmp_path):
    """A short ring8 run with checkpoints at 10, 20, 30 and 40, trained by the real command line."""
    runs = tmp_path / "runs"
    code, out = cli(["run", "ring8", *STORM, "--set", "train.steps=40", "--set", "checkpoint.every=10",
                     "--set", "checkpoint.keep=4", "--quiet", "--runs-dir", runs], tmp_path / "train.txt")
    assert code == 0, out
    (run,) = run_dirs(runs)
    return run


def truncate(path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def test_resume_names_a_damaged_checkpoint_and_database_and_goes_on(finished_run, tmp_path):
    run = finished_run
    truncate(run / "checkpoints" / "step-0000040" / "model.safetensors")
    (run / "checkpoints" / "step-0000030" / "state.pt").write_bytes(b"not a torch file")
    truncate(run / "metrics.sqlite", 0.3)
    code, out = cli(["run", "--resume", run.name, "--quiet", "--runs-dir", run.parent, "--set", "train.steps=50"],
                    tmp_path / "resume.txt")
    assert code == 0, out
    warnings = out.strip().splitlines()
    assert len(warnings) == 4 and all(w.startswith("warning: ") for w in warnings), out
    assert f"{run / 'metrics.sqlite'}: cannot be read" in warnings[0] and "moved to metrics.sqlite.damaged-" in out
    assert f"{run / 'checkpoints' / 'step-0000040'}: checkpoint cannot be read (model.safetensors" in warnings[1]
    assert f"{run / 'checkpoints' / 'step-0000030'}: checkpoint cannot be read (state.pt" in warnings[2]
    assert "resuming from the checkpoint at step 20" in warnings[3]
    assert sorted({s for s, _ in scalar_rows(run)}) == list(range(25, 51, 5))  # a new database from step 20 on
    assert meta_of(run)["status"] == "finished" and list(run.glob("metrics.sqlite.damaged-*"))


def test_resume_refuses_a_damaged_meta_json_naming_it(finished_run, tmp_path):
    (finished_run / "meta.json").write_text('{"id": "x", "sta')
    code, out = cli(["run", "--resume", str(finished_run), "--quiet"], tmp_path / "resume.txt")
    assert code == 2 and f"{finished_run / 'meta.json'}: cannot be read" in one_line_error(out)


def test_eval_sample_and_export_fall_back_to_an_older_checkpoint(finished_run, tmp_path):
    run = finished_run
    truncate(run / "checkpoints" / "step-0000040" / "model.safetensors")
    result = in_process("eval", run, "--n", "200", "--device", "cpu", "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout)["step"] == 30
    assert result.stderr.splitlines()[0] == (f"warning: {run / 'checkpoints' / 'step-0000040'}: checkpoint cannot "
                                             "be read (model.safetensors: SafetensorError: Error while "
                                             "deserializing header: incomplete metadata, file not fully covered); "
                                             "using an older checkpoint.")
    result = in_process("sample", run, "--out", tmp_path / "s.png", "-n", "16", "--device", "cpu")
    assert result.exit_code == 0 and "at step 30" in result.stdout and "step-0000040" in result.stderr
    result = in_process("export", run, "--out", tmp_path / "export", "--no-tensorboard")
    assert result.exit_code == 0 and "G at step 30)" in result.stdout
    assert "step-0000040/model.safetensors: cannot be read" in result.stderr
    # Asked for by step, a damaged checkpoint is an error naming it; so is a damaged meta.json.
    result = in_process("eval", run, "--step", "40", "--n", "200", "--device", "cpu")
    assert result.exit_code == 2 and "step-0000040: checkpoint cannot be read" in one_line_error(result.stderr)
    (run / "meta.json").write_text("")
    result = in_process("eval", run, "--n", "200", "--device", "cpu")
    assert result.exit_code == 2 and f"{run / 'meta.json'}: cannot be read" in one_line_error(result.stderr)


def test_runs_and_compare_name_a_truncated_database_and_profile(finished_run, tmp_path):
    run = finished_run
    code, out = cli(["run", "ring8", *STORM, "--set", "train.steps=10", "--quiet", "--runs-dir", run.parent],
                    tmp_path / "other.txt")
    assert code == 0, out
    other = next(p for p in run_dirs(run.parent) if p != run)
    truncate(other / "metrics.sqlite", 0.4)
    (other / "profile.toml").write_text("[train\n")
    listed = in_process("runs", "--format", "json", "--runs-dir", run.parent)
    assert listed.exit_code == 0 and len(json.loads(listed.stdout)) == 2 and listed.stderr == ""
    compared = in_process("compare", run, other, "--format", "json")
    assert compared.exit_code == 0, compared.stderr
    warnings = compared.stderr.strip().splitlines()
    assert len(warnings) == 2 and "Traceback" not in compared.stderr
    assert f"{other / 'profile.toml'}: cannot be read" in warnings[0]
    assert f"{other / 'metrics.sqlite'}: cannot be read" in warnings[1]
    assert json.loads(compared.stdout)["rows"]["final D loss"][1] is None


@pytest.mark.parametrize("damage", ["truncated", "truncated-gz", "corrupt-gz"])
def test_a_damaged_idx_file_exits_2_naming_it(tmp_path, damage):
    from test_data import fake_mnist

    folder = tmp_path / "mnist"
    fake_mnist(folder, n=64, compress=damage != "truncated")
    name = "train-images-idx3-ubyte" + ("" if damage == "truncated" else ".gz")
    path = folder / name
    if damage == "corrupt-gz":
        data = bytearray(path.read_bytes())
        data[len(data) // 2: len(data) // 2 + 64] = b"\x00" * 64
        path.write_bytes(bytes(data))
    else:
        truncate(path, 0.7)
    code, out = cli(["run", "dcgan-fashion", "--set", "data.name=mnist", "--data", folder, "--set", "train.device=cpu",
                     "--quiet", "--runs-dir", tmp_path / "runs"], tmp_path / "out.txt")
    line = one_line_error(out)
    assert code == 2 and f"{path}:" in line and ("truncated" in line or "cannot be read" in line), line
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").iterdir())


def test_no_reader_ever_sees_a_half_created_run_directory(tmp_path):
    """Run directories appear whole (meta.json, profile.toml, tables) or not at all."""
    from gan_tui.store import RunStore
    from gan_tui.store.runs import list_runs

    runs = tmp_path / "runs"
    profile = load_profile("ring8")
    stop, problems, created = threading.Event(), [], []

    def create():
        while not stop.is_set():
            created.append(RunStore.create(runs, profile))
            created[-1].close()

    writer = threading.Thread(target=create)
    writer.start()
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        for summary in list_runs(runs, on_bad=problems.append):
            with sqlite3.connect(summary.dir / "metrics.sqlite") as db:
                db.execute("SELECT COUNT(*) FROM scalars").fetchone()
    stop.set()
    writer.join()
    assert problems == [] and len(created) > 5
    assert len({s.meta["id"] for s in created}) == len(created) == len(run_dirs(runs))
