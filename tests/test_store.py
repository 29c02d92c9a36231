import subprocess
import sys

import numpy as np
import pytest
import torch

from gan_tui.errors import BadInput
from gan_tui.store import RunReader
from gan_tui.train.checkpoint import latest_good_checkpoint, list_checkpoints, load_checkpoint, save_checkpoint
from test_trainer import train


def test_reader_rebuilds_what_the_trainer_emitted(runs_dir):
    _, rec, session = train(runs_dir)
    from gan_tui.train import events as ev

    reader = RunReader(session.run_dir)
    steps, values = reader.scalars("g_loss")
    emitted = rec.of(ev.Scalars)
    assert steps.tolist() == [e.step for e in emitted]
    assert np.allclose(values, [e.values["g_loss"] for e in emitted])
    step, kind, real, fake = reader.histogram()
    last = rec.of(ev.Histograms)[-1]
    assert step == 40 and kind == "probability" and np.allclose(real, last.real) and np.allclose(fake, last.fake)
    sample = reader.samples()
    assert sample["step"] == 40 and np.allclose(sample["points"], rec.of(ev.Samples)[-1].points)
    assert reader.sample_steps() == [0, 20, 40]
    assert [c.name for c in reader.checkpoints()] == ["step-0000020", "step-0000040"]
    assert reader.meta()["status"] == "finished"
    assert reader.profile()["train"]["steps"] == 40


def test_checkpoints_keep_the_last_k_and_ignore_half_written_ones(tmp_path):
    weights = {"w": torch.arange(4.0)}
    for step in (10, 20, 30):
        save_checkpoint(tmp_path, step, weights, {"step": step}, keep=2)
    (tmp_path / ".tmp-step-0000040-123").mkdir()  # a write killed before its rename
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step-0000020", "step-0000030"]
    w, state = load_checkpoint(tmp_path / "step-0000030", torch.device("cpu"))
    assert torch.equal(w["w"], weights["w"]) and state == {"step": 30}


def test_corrupt_checkpoint_is_named_and_an_older_one_used(tmp_path):
    for step in (10, 20):
        save_checkpoint(tmp_path, step, {"w": torch.ones(2)}, {"step": step}, keep=3)
    (tmp_path / "step-0000020" / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(BadInput, match="step-0000020: checkpoint cannot be read"):
        load_checkpoint(tmp_path / "step-0000020", torch.device("cpu"))
    path, _, state = latest_good_checkpoint(tmp_path, torch.device("cpu"))
    assert path.name == "step-0000010" and state["step"] == 10


def test_checkpoint_state_refuses_pickled_code(tmp_path):
    save_checkpoint(tmp_path, 1, {"w": torch.ones(1)}, {"step": 1}, keep=1)
    torch.save({"step": 1, "evil": subprocess.Popen}, tmp_path / "step-0000001" / "state.pt")  # not weights-only
    with pytest.raises(BadInput, match="checkpoint cannot be read"):
        load_checkpoint(tmp_path / "step-0000001", torch.device("cpu"))


def test_engine_never_imports_the_ui():
    code = ("import sys, gan_tui.train.session, gan_tui.cli, gan_tui.console;"
            "bad = [m for m in sys.modules if m.split('.')[0] == 'textual' or m.startswith('gan_tui.tui')];"
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    engine = ("import sys, gan_tui.train.session;"
              "sys.exit(1 if any(m.split('.')[0] in ('rich', 'textual') for m in sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", engine]).returncode == 0


def test_image_samples_keep_their_grid_layout_for_replays_and_old_runs_still_read(runs_dir):
    from gan_tui.profile import load_profile
    from gan_tui.store import RunStore
    from gan_tui.train import events as ev
    from gan_tui.tui.watch import samples_event

    store = RunStore.create(runs_dir, load_profile("cgan-fashion"))
    images = np.arange(12 * 4, dtype=np.uint8).reshape(12, 1, 2, 2)
    store.handle(ev.Samples(5, images=images, labels=np.arange(12) % 3))
    store.handle(ev.Samples(9, images=images, columns=6, caption="A → B → A | B → A → B"))
    reader = RunReader(store.run_dir)
    conditional, cycle = reader.samples(5), reader.samples(9)
    assert np.array_equal(conditional["images"], images) and conditional["labels"].tolist() == [0, 1, 2] * 4
    assert cycle["columns"] == 6 and cycle["caption"] == "A → B → A | B → A → B" and cycle["labels"] is None
    replay = samples_event(cycle)  # what `watch` draws: the same six columns under the caption
    assert (replay.columns, replay.caption) == (6, "A → B → A | B → A → B")
    # A run written before the layout was saved: images alone, drawn as a square grid.
    np.save(store.run_dir / "samples" / "step-0000001.npy", images)
    with store.db:
        store.db.execute("INSERT INTO samples VALUES (1, 'step-0000001.png', 'step-0000001.npy')")
    old = reader.samples(1)
    assert np.array_equal(old["images"], images) and (old["columns"], old["caption"], old["labels"]) == (0, "", None)
    reader.close()
    store.close()


def test_a_resumed_runs_duration_is_its_sessions_not_the_calendar_since_it_began(runs_dir):
    """Trained 40 steps, resumed a day later for 20 more: `gan-tui runs` once said "1d00h"."""
    import json

    from gan_tui.profile import load_profile
    from gan_tui.store.runs import summarize
    from gan_tui.train.session import resume_session
    from test_trainer import FAST

    _, _, session = train(runs_dir)
    meta_path = session.run_dir / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta.update(start_time="2026-01-01T00:00:00+00:00", end_time="2026-01-01T00:00:30+00:00")  # 30 s, long ago
    meta_path.write_text(json.dumps(meta))
    resumed = resume_session(lambda path: load_profile(str(path), [*FAST, "train.steps=60"]), runs_dir,
                             session.run_dir.name)
    assert resumed.trainer.run() == "finished"
    resumed.close()
    summary = summarize(session.run_dir)
    assert summary.step == 60 and 30 <= summary.duration_s < 30 + 120  # 30 s before, this session's seconds
    assert summary.start_time == "2026-01-01T00:00:00+00:00"  # still when it began


def test_the_last_progress_row_holds_the_runs_mean_rate_as_meta_json_does(runs_dir):
    _, recorder, session = train(runs_dir, ["train.steps=200"])
    from gan_tui.train import events as ev

    last = recorder.of(ev.Progress)[-1]
    reader = RunReader(session.run_dir)
    step, rate, images, elapsed = reader.db.execute(
        "SELECT step, it_per_s, images_per_s, elapsed FROM progress ORDER BY step DESC LIMIT 1").fetchone()
    assert (step, rate, images, elapsed) == (200, last.it_per_s, last.images_per_s, last.elapsed)
    assert reader.meta()["it_per_s"] == rate
