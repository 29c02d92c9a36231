"""`gan-tui runs`, `runs rm`, `compare`, `export` and `sample` (issue 6's headless commands)."""

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from conftest import REPO, only_run, visible_runs
from gan_tui.cli import app
from gan_tui.profile import load_profile
from gan_tui.store import RunStore
from gan_tui.store.runs import summarize
from gan_tui.train import events as ev


def cli(*args: str, input: str | None = None):
    """`gan-tui ARGS` in this process (CliRunner keeps stdout and stderr apart)."""
    return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)


def fake_run(runs_dir, profile="ring8", overrides=(), status="finished", steps=100, fid=None,
             fid_label="FID (points)", images_per_s=1000.0, last_images_per_s=None, extra_metrics=None):
    """A run directory written through the real RunStore from hand-made events (no training)."""
    store = RunStore.create(runs_dir, load_profile(profile, [f"train.steps={steps}", *overrides]))
    store.handle(ev.RunStarted(store.meta["id"], str(store.run_dir), profile, steps, 0, "cpu", "points",
                               "probability", 64))
    for step in range(10, steps + 1, 10):
        rate = last_images_per_s if step == steps and last_images_per_s is not None else images_per_s
        store.handle(ev.Progress(step, steps, rate / 100, rate, step / 10, 0.0))
        store.handle(ev.Scalars(step, {"d_loss": 1.0 + step / 1000, "g_loss": 0.7, "d_real": 0.6, "d_fake": 0.4},
                                time.time()))
    if fid is not None:
        for step, value in ((steps // 2, fid), (steps, fid * 2)):
            store.handle(ev.Evaluated(step, {"fid": value, "kid_mean": 0.01, "kid_std": 0.001, "precision": 0.9,
                                             "recall": 0.8, "modes_captured": 7, "modes_total": 8, "high_quality": 0.95,
                                             "labels": {"fid": fid_label, "kid": "KID (points)"},
                                             **(extra_metrics or {})}))
    if status != "running":
        store.handle(ev.StatusChanged(status, steps))
    store.close()
    return store.run_dir


def listed(runs_dir, *args):
    result = cli("runs", "--format", "json", "--runs-dir", str(runs_dir), *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_runs_lists_with_filters_table_and_json(runs_dir):
    a = fake_run(runs_dir, fid=0.5)
    b = fake_run(runs_dir, "grid25", status="failed", steps=30)
    c = fake_run(runs_dir, status="diverged", steps=50)
    rows = listed(runs_dir)
    assert [r["id"] for r in rows] == sorted([a.name, b.name, c.name], key=lambda n: (n[:15], n))  # oldest first
    first = next(r for r in rows if r["id"] == a.name)
    assert (first["profile"], first["status"], first["step"], first["total_steps"]) == ("ring8", "finished", 100, 100)
    assert (first["best_fid"], first["best_fid_step"], first["best_fid_label"]) == (0.5, 50, "FID (points)")
    assert first["duration_s"] is not None and first["start_time"] and first["lost"] is False

    def ids(*args):
        return {r["id"] for r in listed(runs_dir, *args)}

    assert ids("--profile", "ring8") == {a.name, c.name}
    assert ids("--profile", "grid*") == {b.name}
    assert ids("--status", "failed", "--status", "diverged") == {b.name, c.name}
    assert ids("--profile", "ring8", "--status", "failed") == set()

    table = cli("runs", "--runs-dir", str(runs_dir))
    assert table.exit_code == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["run", "profile", "status", "steps", "best", "duration", "started"]
    line_a = next(line for line in lines if a.name in line)
    assert "FID (points) 0.5 @ 50" in line_a and "100/100" in line_a and "finished" in line_a
    long = fake_run(runs_dir, fid=0.5, steps=3000)  # its best at step 1,500, written as the dashboard writes it
    assert "FID (points) 0.5 @ 1,500" in next(line for line in cli("runs", "--runs-dir", str(runs_dir)).stdout.splitlines()
                                              if long.name in line)
    line_b = next(line for line in lines if b.name in line)
    assert "grid25" in line_b and "failed" in line_b and "30/30" in line_b

    bad = cli("runs", "--status", "runing", "--runs-dir", str(runs_dir))
    assert bad.exit_code == 2 and 'did you mean "running"?' in bad.stderr
    assert cli("runs", "--format", "yaml").exit_code == 2


def test_dead_processes_are_not_listed_as_running(runs_dir):
    live = fake_run(runs_dir, status="running")
    assert summarize(live).status == "running"  # written by this very process, which is alive

    gone = fake_run(runs_dir, status="running")
    meta = json.loads((gone / "meta.json").read_text())
    sleeper = subprocess.Popen([sys.executable, "-c", "pass"])
    sleeper.wait()  # a pid that no longer exists
    (gone / "meta.json").write_text(json.dumps({**meta, "pid": sleeper.pid}))
    s = summarize(gone)
    assert (s.status, s.recorded_status, s.lost) == ("interrupted", "running", True)
    assert f"process {sleeper.pid} is gone" in s.note

    # The pid is alive, but that process started after the run last wrote meta.json: a reused pid.
    reused = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (gone / "meta.json").write_text(json.dumps({**meta, "pid": reused.pid}))
        then = time.time() - 120
        os.utime(gone / "meta.json", (then, then))
        s = summarize(gone)
        assert s.status == "interrupted" and "newer process" in s.note
    finally:
        reused.kill()
        reused.wait()

    # Another host: meta.json's mtime is the heartbeat.
    (gone / "meta.json").write_text(json.dumps({**meta, "host": "elsewhere", "pid": 1}))
    assert summarize(gone).status == "running"
    os.utime(gone / "meta.json", (time.time() - 3600, time.time() - 3600))
    s = summarize(gone)
    assert s.status == "interrupted" and "no heartbeat from elsewhere" in s.note

    # Paused elsewhere: alive while its minute heartbeat keeps meta.json fresh; older writers had none.
    for extra, expected in (({"heartbeat": "2026-11-23T10:00:00"}, "interrupted"), ({}, "paused")):
        (gone / "meta.json").write_text(json.dumps({**meta, "host": "elsewhere", "pid": 1, "status": "paused", **extra}))
        assert summarize(gone).status == "paused"
        os.utime(gone / "meta.json", (time.time() - 3600, time.time() - 3600))
        assert summarize(gone).status == expected


def test_a_sigkilled_run_is_listed_as_interrupted_and_can_then_be_removed(runs_dir):
    proc = subprocess.Popen([sys.executable, "-m", "gan_tui", "run", "ring8", "--quiet", "--runs-dir", str(runs_dir),
                             "--set", "train.steps=1000000", "--set", "log.every=10", "--set", "train.device=cpu",
                             "--set", "eval.every=0", "--set", "data.batch_size=32"],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ.copy())
    try:
        deadline = time.monotonic() + 120
        while not (visible_runs(runs_dir)
                   and json.loads((only_run(runs_dir) / "meta.json").read_text() or "{}").get("status") == "running"):
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
            time.sleep(0.1)
        run = only_run(runs_dir)
        assert [r["status"] for r in listed(runs_dir)] == ["running"]
        refused = cli("runs", "rm", run.name, "--yes", "--runs-dir", str(runs_dir))
        assert refused.exit_code == 2 and "is running" in refused.stderr and f"kill -INT {proc.pid}" in refused.stderr
        assert run.is_dir()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert json.loads((run / "meta.json").read_text())["status"] == "running"  # nobody said otherwise
    [row] = listed(runs_dir)
    assert (row["status"], row["recorded_status"], row["lost"]) == ("interrupted", "running", True)
    assert listed(runs_dir, "--status", "running") == []
    table = cli("runs", "--runs-dir", str(runs_dir)).stdout
    assert "interrupted*" in table and "gan-tui run --resume RUN" in table
    removed = cli("runs", "rm", run.name[-4:], "--yes", "--runs-dir", str(runs_dir))
    assert removed.exit_code == 0, removed.stderr
    assert not run.exists() and list(runs_dir.iterdir()) == []


def test_runs_rm_asks_first(runs_dir):
    keep, other = fake_run(runs_dir), fake_run(runs_dir, "grid25")
    no = cli("runs", "rm", keep.name, "--runs-dir", str(runs_dir), input="n\n")
    assert no.exit_code == 1 and "nothing deleted" in no.stderr and keep.is_dir()
    assert "Delete this run?" in no.stderr and keep.name in no.stderr
    eof = cli("runs", "rm", keep.name, "--runs-dir", str(runs_dir), input="")
    assert eof.exit_code == 1 and keep.is_dir()
    yes = cli("runs", "rm", keep.name, "--runs-dir", str(runs_dir), input="y\n")
    assert yes.exit_code == 0 and f"deleted {keep.name}" in yes.stdout and not keep.exists()
    assert other.is_dir() and not [p for p in runs_dir.iterdir() if p.name.startswith(".")]
    missing = cli("runs", "rm", "no-such-run", "--yes", "--runs-dir", str(runs_dir))
    assert missing.exit_code == 2 and 'run "no-such-run" not found' in missing.stderr


def test_compare_shows_metrics_and_exactly_the_differing_profile_keys(runs_dir):
    a = fake_run(runs_dir, fid=0.4, overrides=["optim.d.lr=0.001"])
    b = fake_run(runs_dir, fid=0.2, overrides=["train.seed=7", "tricks.label_smoothing.real=0.9"],
                 images_per_s=2000.0, last_images_per_s=50.0)  # a short, slow last window
    result = cli("compare", a.name, b.name, "--format", "json", "--runs-dir", str(runs_dir))
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert set(out["differences"]) == {"optim.d.lr", "train.seed", "tricks.label_smoothing.real"}
    assert out["differences"]["optim.d.lr"] == {a.name: 0.001, b.name: 0.002}
    assert out["differences"]["tricks.label_smoothing.real"] == {a.name: None, b.name: 0.9}
    rows = out["rows"]
    assert rows["final D loss"] == [1.1, 1.1] and rows["final D(G(z))"] == [0.4, 0.4]
    assert rows["best FID (points)"] == [0.4, 0.2] and rows["best FID step"] == [50, 50]
    assert rows["last FID (points)"] == [0.8, 0.4] and rows["last KID (points)"] == [0.01, 0.01]
    assert rows["last modes captured"] == ["7/8", "7/8"] and rows["images/s (median)"] == [1000.0, 2000.0]
    assert rows["it/s (median)"] == [10.0, 20.0]

    table = cli("compare", a.name, b.name, "--runs-dir", str(runs_dir)).stdout
    assert "best FID (points)" in table and "profile differences" in table and "optim.d.lr" in table
    markdown = cli("compare", a.name, b.name, "--format", "markdown", "--runs-dir", str(runs_dir)).stdout
    assert markdown.splitlines()[0] == f"| metric | {a.name} | {b.name} |"
    assert "| `train.seed` | 0 | 7 |" in markdown
    assert "| last high-quality samples | 95.0% | 95.0% |" in markdown and rows["last high-quality samples"] == [0.95] * 2
    rows = list(csv.reader(io.StringIO(cli("compare", a.name, b.name, "--format", "csv",
                                           "--runs-dir", str(runs_dir)).stdout)))
    assert rows[0] == ["metric", a.name, b.name]
    assert ["tricks.label_smoothing.real", "", "0.9"] in rows and ["final G loss", "0.7", "0.7"] in rows

    same = cli("compare", a.name, a.name, "--runs-dir", str(runs_dir))
    assert same.exit_code == 0 and same.stdout.splitlines()[-1].split() == ["profile", "differences", "none"]
    assert cli("compare", a.name, "--runs-dir", str(runs_dir)).exit_code == 2


def test_compare_shows_the_scores_of_a_translation_run(runs_dir):
    """A CycleGAN has no FID: its cycle errors and translation accuracies are its rows."""
    from gan_tui.metrics.translation import LABELS

    runs = []
    for error in (0.12, 0.09):
        store = RunStore.create(runs_dir, load_profile("cyclegan-fashion", ["train.steps=100"]))
        store.handle(ev.RunStarted(store.meta["id"], str(store.run_dir), "cyclegan-fashion", 100, 0, "cpu",
                                   "images", "score", 8))
        store.handle(ev.Evaluated(100, {"cycle_error_a": error, "cycle_error_b": 0.15, "translation_accuracy_ab": 0.9,
                                        "labels": {k: LABELS[k] for k in ("cycle_error_a", "cycle_error_b",
                                                                          "translation_accuracy_ab")}}))
        store.handle(ev.StatusChanged("finished", 100))
        store.close()
        runs.append(store.run_dir.name)
    out = json.loads(cli("compare", *runs, "--format", "json", "--runs-dir", str(runs_dir)).stdout)
    assert out["rows"][f"last {LABELS['cycle_error_a']}"] == [0.12, 0.09]
    assert out["rows"][f"last {LABELS['translation_accuracy_ab']}"] == [0.9, 0.9]
    table = cli("compare", *runs, "--format", "markdown", "--runs-dir", str(runs_dir)).stdout
    assert f"| last {LABELS['translation_accuracy_ab']} | 90.0% | 90.0% |" in table  # as `gan-tui eval` writes it
    assert f"| last {LABELS['cycle_error_a']} | 0.12 | 0.09 |" in table
    scores = [k for k in out["rows"] if k.startswith("last ") and not k.endswith(" step")]
    assert scores == [f"last {LABELS[k]}" for k in (
        "cycle_error_a", "cycle_error_b", "translation_accuracy_ab")]
    # its headline score is the A→B→A cycle error, best lowest, in compare and in `gan-tui runs`
    assert out["rows"]["best cycle error A→B→A"] == [0.12, 0.09] and out["rows"]["best score step"] == [100, 100]
    listed = cli("runs", "--runs-dir", str(runs_dir)).stdout
    assert listed.splitlines()[0].split()[4] == "best"
    # both runs start in the same second, so the listing order is the ids' random suffixes: key by run id
    best = {line.split()[0]: line.split("100/100")[1].split("  ")[1] for line in listed.splitlines()[1:]}
    assert best == {runs[0]: "cycle error A→B→A 0.12 @ 100", runs[1]: "cycle error A→B→A 0.09 @ 100"}, listed


def test_corrupt_run_directories_are_named_and_skipped(runs_dir):
    good = fake_run(runs_dir, fid=0.3)
    bad_meta = fake_run(runs_dir)
    (bad_meta / "meta.json").write_text('{"id": "x", "status": "runn')  # truncated by a full disk
    empty_meta = fake_run(runs_dir)
    (empty_meta / "meta.json").write_text("")
    no_meta = runs_dir / "not-a-run"
    no_meta.mkdir()
    bad_db = fake_run(runs_dir, "grid25")
    (bad_db / "metrics.sqlite").write_bytes(b"this is not a database" * 100)
    for wal in bad_db.glob("metrics.sqlite-*"):
        wal.unlink()
    no_db = fake_run(runs_dir)
    (no_db / "metrics.sqlite").unlink()

    result = cli("runs", "--format", "json", "--runs-dir", str(runs_dir))
    assert result.exit_code == 0
    assert {r["id"] for r in json.loads(result.stdout)} == {good.name, bad_db.name, no_db.name}
    warnings = result.stderr.strip().splitlines()  # one line each, in no promised order
    assert len(warnings) == 3, warnings
    assert any(f"{bad_meta / 'meta.json'}: cannot be read (JSONDecodeError" in w for w in warnings)
    assert any(f"{empty_meta / 'meta.json'}: cannot be read" in w for w in warnings)
    assert any(f"{no_meta / 'meta.json'}: missing" in w for w in warnings)
    assert all(w.startswith("warning: ") and w.endswith("skipped.") for w in warnings)

    result = cli("compare", good.name, bad_meta.name, bad_db.name, no_db.name, "--format", "json",
                 "--runs-dir", str(runs_dir))
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert [r["id"] for r in out["runs"]] == [good.name, bad_db.name, no_db.name]
    assert out["rows"]["final D loss"] == [1.1, None, None]
    assert out["rows"]["best FID (points)"] == [0.3, None, None]
    warnings = result.stderr.strip().splitlines()
    assert len(warnings) == 3, warnings
    assert f"{bad_meta / 'meta.json'}: cannot be read" in warnings[0]
    assert f"{bad_db / 'metrics.sqlite'}: cannot be read" in warnings[1]
    assert f"{no_db / 'metrics.sqlite'}: missing" in warnings[2]
    assert "Traceback" not in result.stderr

    for args, ending in ((["export", bad_meta.name, "--out", str(runs_dir.parent / "out")],
                          "the run cannot be exported without it."),
                         (["sample", bad_meta.name, "--out", str(runs_dir.parent / "grid.png")],
                          "no samples can be drawn from the run without it.")):
        result = cli(*args, "--runs-dir", str(runs_dir))
        assert result.exit_code == 2 and result.stderr.startswith(f"error: {bad_meta / 'meta.json'}: cannot be read")
        assert result.stderr.strip().endswith(ending), result.stderr


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One short real ring8 run (EMA on, checkpoints, samples, an evaluation) for export and sample,
    trained in this process (a subprocess would pay torch's import again)."""
    from gan_tui.train.session import new_session

    root = tmp_path_factory.mktemp("trained")
    overrides = ["train.steps=40", "log.every=10", "log.samples_every=20", "log.samples=64", "checkpoint.every=20",
                 "train.device=cpu", "eval.every=40", "eval.n=500", "data.batch_size=64"]
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GAN_TUI_OFFLINE", "1")
        env.setenv("GAN_TUI_CACHE", str(root / "cache"))
        session = new_session(load_profile("ring8", overrides), root / "runs")
        try:
            assert session.trainer.run() == "finished"
        finally:
            session.close()
    return session.run_dir


def test_export_writes_pngs_with_provenance_csv_and_weights(trained, tmp_path):
    out = tmp_path / "export"
    result = cli("export", str(trained), "--out", str(out))
    assert result.exit_code == 0, result.stderr
    meta = json.loads((trained / "meta.json").read_text())
    pngs = sorted((out / "samples").glob("*.png"))
    assert [p.name for p in pngs] == ["step-0000000.png", "step-0000020.png", "step-0000040.png"]
    with Image.open(pngs[-1]) as image:
        assert image.text["tool"] == "gan-tui" and image.text["run_id"] == meta["id"]
        assert image.text["step"] == "40" and image.text["profile_digest"] == meta["profile_digest"]
        assert image.text["version"] and image.text["profile"] == "ring8"
    with open(out / "scalars.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["name"] for r in rows} == {"d_loss", "g_loss", "d_real", "d_fake"}
    assert sorted({int(r["step"]) for r in rows}) == [10, 20, 30, 40]
    with open(out / "evaluations.csv") as fh:
        [evaluation] = list(csv.DictReader(fh))
    assert evaluation["step"] == "40" and evaluation["fid_label"] == "FID (points)" and float(evaluation["fid"]) >= 0
    assert (out / "profile.toml").is_file() and (out / "progress.csv").is_file()

    from safetensors import safe_open

    with safe_open(str(out / "generator.safetensors"), "pt") as fh:
        assert fh.metadata()["weights"] == "ema" and fh.metadata()["run_id"] == meta["id"]
        assert fh.metadata()["step"] == "40"
        assert fh.keys() and not any(k.startswith(("G.", "D.", "G_ema.")) for k in fh.keys())
    try:
        import torch.utils.tensorboard  # noqa: F401
    except ImportError:
        assert "note: tensorboard cannot be imported" in result.stderr
    else:
        assert list((out / "tensorboard").glob("events.out.tfevents.*"))

    wide = cli("export", trained.name[-4:], "--out", str(tmp_path / "wide"), "--scalars", "wide", "--no-tensorboard",
               "--runs-dir", str(trained.parent))
    assert wide.exit_code == 0, wide.stderr
    with open(tmp_path / "wide" / "scalars.csv") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["step", "d_fake", "d_loss", "d_real", "g_loss"] and [r[0] for r in rows[1:]] == ["10", "20", "30", "40"]
    inside = cli("export", str(trained), "--out", str(trained / "x"))
    assert inside.exit_code == 2 and "inside the run directory" in inside.stderr
    (tmp_path / "a-file").write_text("")
    unmakeable = cli("export", str(trained), "--out", str(tmp_path / "a-file" / "export"))
    assert unmakeable.exit_code == 2 and unmakeable.stderr.startswith(f"error: --out {tmp_path / 'a-file' / 'export'} "
                                                                      "cannot be made (")
    assert unmakeable.stderr.count("\n") == 1 and "Not a directory" in unmakeable.stderr


def test_sample_draws_a_scatter_for_2d_runs(trained, tmp_path):
    out = tmp_path / "points.png"
    result = cli("sample", str(trained), "-n", "100", "--out", str(out), "--seed", "3", "--device", "cpu")
    assert result.exit_code == 0, result.stderr
    with Image.open(out) as image:
        assert image.size == (512, 512) and image.text["seed"] == "3" and image.text["n"] == "100"
        assert image.text["step"] == "40" and image.text["run_id"] == trained.name
    again = tmp_path / "again.png"
    cli("sample", str(trained), "-n", "100", "--out", str(again), "--seed", "3", "--device", "cpu")
    assert np.array_equal(np.asarray(Image.open(out)), np.asarray(Image.open(again)))
    missing = cli("sample", str(trained), "--out", str(out), "--step", "7")
    assert missing.exit_code == 2 and "no checkpoint at step 7" in missing.stderr
    (tmp_path / "a-file").write_text("")
    unwritable = cli("sample", str(trained), "--out", str(tmp_path / "a-file" / "s.png"), "--device", "cpu")
    assert unwritable.exit_code == 2 and unwritable.stderr.count("\n") == 1
    assert unwritable.stderr.startswith(f"error: --out {tmp_path / 'a-file' / 's.png'} cannot be written")


def test_sample_draws_an_image_grid_one_column_per_class(runs_dir, tmp_path):
    from gan_tui.models import build_models
    from gan_tui.train.checkpoint import save_checkpoint

    folder = tmp_path / "images"
    for name in ("cat", "dog"):
        (folder / name).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(np.full((12, 12), 40 * i, np.uint8)).save(folder / name / f"{i}.png")
    profile = load_profile("dcgan-fashion", ["data.name=folder", f"data.path={folder}", "data.image_size=16",
                                             "model.architecture=mlp", "model.conditioning=concat",
                                             "model.g_width=16", "model.d_width=16", "model.latent_dim=8"])
    store = RunStore.create(runs_dir, profile)
    store.close()
    generator, discriminator = build_models(profile.model, (1, 16, 16), profile.tricks, num_classes=2)
    weights = {**{f"G.{k}": v for k, v in generator.state_dict().items()},
               **{f"D.{k}": v for k, v in discriminator.state_dict().items()}}
    save_checkpoint(store.run_dir / "checkpoints", 5, weights, {"step": 5}, keep=1)
    out = tmp_path / "grid.png"
    result = cli("sample", store.run_dir.name, "-n", "10", "--out", str(out), "--device", "cpu",
                 "--runs-dir", str(runs_dir))
    assert result.exit_code == 0, result.stderr
    with Image.open(out) as image:
        # 2 classes -> 2 columns of 16 px tiles, 5 rows, 1 px borders.
        assert image.size == (2 * 17 + 1, 5 * 17 + 1) and image.mode == "L"
        assert image.text["step"] == "5" and image.text["profile"] == "dcgan-fashion"
    square = cli("sample", store.run_dir.name, "-n", "9", "--columns", "3", "--out", str(out), "--device", "cpu",
                 "--runs-dir", str(runs_dir))
    assert square.exit_code == 0 and Image.open(out).size == (3 * 17 + 1, 3 * 17 + 1)

    # --class: the same noise, every tile of the class asked for. Tiles 1 and 3 were dogs already; 0 and 2 were cats.
    def tiles(*args):
        assert cli("sample", store.run_dir.name, "-n", "4", "--columns", "4", "--out", str(out), "--device", "cpu",
                   "--runs-dir", str(runs_dir), *args).exit_code == 0
        with Image.open(out) as image:
            return [np.asarray(image)[1:17, 1 + 17 * i:17 + 17 * i] for i in range(4)], image.text

    mixed, _ = tiles()
    dogs, text = tiles("--class", "Dogs")
    assert text["classes"] == "dog"
    assert np.array_equal(dogs[1], mixed[1]) and np.array_equal(dogs[3], mixed[3])
    assert not np.array_equal(dogs[0], mixed[0]) and not np.array_equal(dogs[2], mixed[2])
    assert np.array_equal(tiles("--class", "1")[0][0], dogs[0])
    wrong = cli("sample", store.run_dir.name, "--class", "cta", "--out", str(out), "--device", "cpu",
                "--runs-dir", str(runs_dir))
    assert wrong.exit_code == 2 and 'error: --class names "cta", which is not a class of dataset "folder"; did you mean "cat"?' in wrong.stderr


def test_runs_and_compare_never_import_torch(runs_dir):
    a, b = fake_run(runs_dir), fake_run(runs_dir, overrides=["train.seed=2"])
    code = ("import sys; from typer.testing import CliRunner; from gan_tui.cli import app;"
            f"r = CliRunner().invoke(app, ['runs', '--runs-dir', {str(runs_dir)!r}]); assert r.exit_code == 0, r.output;"
            f"r = CliRunner().invoke(app, ['compare', {a.name!r}, {b.name!r}, '--runs-dir', {str(runs_dir)!r}]);"
            "assert r.exit_code == 0, r.output; assert 'train.seed' in r.output;"
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr


def test_step_counts_read_as_the_dashboard_writes_them():
    from gan_tui.cli_runs import _steps_text

    assert _steps_text(2300, 100000) == "2,300/100,000"
    assert _steps_text(None, 500) == "-/500" and _steps_text(40, None) == "40/-"


def in_terminal(*args: str, columns: int = 80) -> list[str]:
    """The lines `gan-tui ARGS` writes to a terminal `columns` wide (a pty; stdin is not one)."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")} | {"NO_COLOR": "1"}
    proc = subprocess.run([sys.executable, "-m", "gan_tui", *args], stdout=slave, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, env=env, timeout=60, cwd=REPO)
    os.close(slave)
    shown = bytearray()
    try:
        while chunk := os.read(master, 65536):
            shown.extend(chunk)
    except OSError:  # EIO: everything written has been read
        pass
    os.close(master)
    assert proc.returncode == 0, proc.stderr
    return shown.decode().replace("\r\n", "\n").splitlines()


def test_runs_in_an_80_column_terminal_fits_its_rows_rather_than_wrapping_them(runs_dir):
    runs = [fake_run(runs_dir, fid=0.5, steps=3000), fake_run(runs_dir, "grid25", status="failed", steps=30)]
    shown = in_terminal("runs", "--runs-dir", str(runs_dir))
    assert all(len(line) <= 80 for line in shown), shown
    header = shown[0].split()
    left_out = [name for name in ("duration", "started") if name not in header]
    assert header == ["run", "status", "steps", "best", *(n for n in ("duration", "started") if n in header)]
    assert left_out and shown[3] == f"({' and '.join(left_out)} left out to fit; `--format json` has all)"
    # "ring8-1a2b": each id without its date and time, which find_run accepts
    assert sorted(line.split()[0] for line in shown[1:3]) == sorted(run.name[16:] for run in runs)
    # Wide enough for everything, nothing changes.
    columns = {"run": [runs[0].name], "profile": ["ring8"], "status": ["finished"], "steps": ["3,000/3,000"],
               "best": ["-"], "duration": ["1s"], "started": ["2026-12-07 22:57"]}
    from gan_tui.cli_runs import fit_columns

    assert fit_columns(dict(columns), 200) == [] and fit_columns(columns, 40) == ["duration", "started"]
    assert list(columns) == ["run", "status", "steps", "best"]


def test_compare_writes_steps_as_the_dashboard_does_and_no_row_for_an_empty_tricks_table(runs_dir):
    a = fake_run(runs_dir, fid=0.4, steps=3000)  # ring8: spectral norm and EMA
    b = fake_run(runs_dir, "dcgan-fashion", fid=0.2, steps=3000)  # no tricks at all: `tricks = {}`
    out = json.loads(cli("compare", a.name, b.name, "--format", "json", "--runs-dir", str(runs_dir)).stdout)
    assert "tricks" not in out["differences"] and out["differences"]["tricks.ema.decay"] == {a.name: 0.99, b.name: None}
    markdown = cli("compare", a.name, b.name, "--format", "markdown", "--runs-dir", str(runs_dir)).stdout
    assert "| best FID step | 1,500 | 1,500 |" in markdown and "| last evaluation step | 3,000 | 3,000 |" in markdown
    assert "| `train.steps` | 3000 | 3000 |" not in markdown  # equal, and settings stay as typed: `--set train.steps=3000`
    shown = in_terminal("compare", a.name, b.name, "--format", "table", "--runs-dir", str(runs_dir))
    assert not any("…" in line for line in shown), shown  # long keys wrap whole rather than end in "…"
    assert any(line.startswith(" tricks.spectral_no") for line in shown), shown
    import re

    assert re.sub(r"\x1b\[[0-9;]*m", "", shown[0]).split() == [a.name[16:], b.name[16:]]  # ids without date and time


def test_compare_names_each_conditional_runs_weakest_class(runs_dir):
    conditional = {"asked_class_accuracy": 0.86, "asked_class_accuracies": [0.93, 0.65, 0.99],
                   "class_names": ["T-shirt/top", "Shirt", "Bag"]}
    a = fake_run(runs_dir, fid=0.4, extra_metrics=conditional)
    b = fake_run(runs_dir, fid=0.2)  # unconditional: no class to name
    markdown = cli("compare", a.name, b.name, "--format", "markdown", "--runs-dir", str(runs_dir)).stdout
    assert "| last lowest class | Shirt 65.0% | - |" in markdown
