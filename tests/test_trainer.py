import threading

import numpy as np
import pytest
import torch

from gan_tui.errors import BadInput, TrainingDiverged
from gan_tui.profile import load_profile
from gan_tui.train import events as ev
from gan_tui.train.control import Commands
from gan_tui.train.session import new_session, resume_session

FAST = ["train.steps=40", "train.device=cpu", "log.every=10", "log.histograms_every=20", "log.samples_every=20",
        "log.samples=64", "checkpoint.every=20", "data.batch_size=64", "eval.every=0"]


class Recorder:
    def __init__(self):
        self.events = []

    def handle(self, event):
        self.events.append(event)

    def of(self, kind):
        return [e for e in self.events if isinstance(e, kind)]


def train(runs_dir, overrides=(), profile="ring8", commands=None):
    recorder = Recorder()
    session = new_session(load_profile(profile, [*FAST, *overrides]), runs_dir, [recorder], commands)
    outcome = session.trainer.run()
    session.close()
    return outcome, recorder, session


def test_events_cover_every_log_step(runs_dir):
    outcome, rec, _ = train(runs_dir)
    assert outcome == "finished"
    assert isinstance(rec.events[0], ev.RunStarted)
    assert [e.step for e in rec.of(ev.Scalars)] == [10, 20, 30, 40]
    for e in rec.of(ev.Scalars):
        assert set(e.values) == {"d_loss", "g_loss", "d_real", "d_fake"}
        assert all(np.isfinite(v) for v in e.values.values())
        assert 0 < e.values["d_real"] < 1 and 0 < e.values["d_fake"] < 1  # probabilities for BCE
    assert [e.step for e in rec.of(ev.Histograms)] == [20, 40]
    assert [e.step for e in rec.of(ev.Samples)] == [0, 20, 40]
    assert [e.step for e in rec.of(ev.CheckpointSaved)] == [20, 40]
    assert rec.events[-1] == ev.StatusChanged("finished", 40)
    sample = rec.of(ev.Samples)[-1]
    assert sample.points.shape == (64, 2) and sample.surface.shape == (64, 64) and sample.extent == 3


def test_same_seed_same_curves_other_seed_other_curves(runs_dir):
    curves = [[e.values for e in train(runs_dir, seed)[1].of(ev.Scalars)]
              for seed in (["train.seed=3"], ["train.seed=3"], ["train.seed=4"])]
    assert curves[0] == curves[1]
    assert curves[0] != curves[2]


def test_n_critic_runs_that_many_d_updates(runs_dir):
    def d_steps(n):
        _, _, session = train(runs_dir, [f"train.n_critic={n}", "train.steps=5"])
        state = session.trainer.opt_d.state_dict()["state"]
        return int(state[0]["step"])
    assert d_steps(1) == 5 and d_steps(3) == 15


def test_label_smoothing_changes_ds_real_target(runs_dir):
    _, _, plain = train(runs_dir, ["train.steps=1"])
    _, _, smooth = train(runs_dir, ["train.steps=1", "tricks.label_smoothing.real=0.9"])
    assert plain.trainer.real_target == 1.0 and smooth.trainer.real_target == 0.9


def test_images_profile_emits_uint8_grids(runs_dir, tmp_path):
    from test_data import fake_mnist

    fake_mnist(tmp_path / "m", n=64)
    _, rec, _ = train(runs_dir, ["data.name=mnist", f"data.path={tmp_path / 'm'}", "data.image_size=28",
                                 "model.g_width=8", "model.d_width=8", "model.latent_dim=16", "train.steps=20",
                                 "log.samples=16"], profile="dcgan-fashion")
    images = rec.of(ev.Samples)[-1].images
    assert images.dtype == np.uint8 and images.shape == (16, 1, 28, 28)


def test_nan_loss_marks_the_run_diverged(runs_dir, monkeypatch):
    from gan_tui.losses import NonSaturatingBCE

    monkeypatch.setattr(NonSaturatingBCE, "g_loss", lambda self, logits: logits.mean() * float("nan"))
    recorder = Recorder()
    session = new_session(load_profile("ring8", FAST), runs_dir, [recorder])
    with pytest.raises(TrainingDiverged) as info:
        session.trainer.run()
    assert info.value.step == 10  # found at the first log step
    assert recorder.events[-1].status == "diverged"
    assert session.store.meta["status"] == "diverged"


def test_pause_checkpoint_resume_stop(runs_dir):
    commands = Commands()
    recorder = Recorder()
    session = new_session(load_profile("ring8", [*FAST, "train.steps=100000"]), runs_dir, [recorder], commands)
    commands.send("pause")
    thread = threading.Thread(target=lambda: recorder.events.append(session.trainer.run()))
    thread.start()
    commands.send("pause")  # already paused: no second pause to undo
    commands.send("checkpoint")
    commands.send("resume")
    commands.send("stop")
    thread.join(30)
    statuses = [e.status for e in recorder.of(ev.StatusChanged)]
    assert statuses == ["paused", "running", "interrupted"]
    assert recorder.events[-1] == "interrupted"
    assert len(recorder.of(ev.CheckpointSaved)) == 2  # the asked one, and the one on stop
    assert session.trainer.step < 100


def test_ema_weights_trail_the_raw_weights_and_are_checkpointed(runs_dir):
    _, _, session = train(runs_dir, ["tricks.ema.decay=0.9"])
    t = session.trainer
    raw, ema = (torch.cat([p.flatten() for p in net.parameters()]) for net in (t.G, t.G_ema))
    assert not torch.allclose(raw, ema) and t.sampler is t.G_ema
    from safetensors.torch import load_file

    saved = load_file(str(session.run_dir / "checkpoints" / "step-0000040" / "model.safetensors"))
    assert any(k.startswith("G_ema.") for k in saved)
    assert torch.equal(saved["G_ema.net.0.weight"], t.G_ema.net[0].weight)


@pytest.mark.parametrize("loss, extra", [("wgan-gp", "gp"), ("r1", "r1")])
def test_penalties_are_trained_and_logged(runs_dir, loss, extra):
    _, rec, _ = train(runs_dir, [f"loss.name={loss}"])
    values = rec.of(ev.Scalars)[-1].values
    assert extra in values and np.isfinite(values[extra]) and values[extra] > 0


def test_wgan_clips_d_weights(runs_dir):
    _, rec, session = train(runs_dir, ["loss.name=wgan", "loss.clip=0.005", "optim.d.name=rmsprop",
                                       "train.n_critic=5", "train.steps=10"])
    assert max(p.abs().max().item() for p in session.trainer.D.parameters()) <= 0.005
    assert rec.of(ev.Histograms)[-1].kind == "score"


def test_conditional_profile_feeds_labels_and_shows_one_class_per_column(runs_dir, tmp_path):
    from test_data import fake_mnist

    fake_mnist(tmp_path / "m", n=64)
    _, rec, session = train(runs_dir, ["data.name=mnist", f"data.path={tmp_path / 'm'}", "data.image_size=28",
                                       "model.g_width=8", "model.d_width=8", "train.steps=2", "log.samples=20"],
                            profile="cgan-fashion")
    sample = rec.of(ev.Samples)[-1]
    assert sample.labels.tolist() == [i % 10 for i in range(20)]
    assert session.trainer.G.num_classes == 10
    from PIL import Image

    with Image.open(session.run_dir / "samples" / "step-0000002.png") as grid:
        assert grid.size == (10 * 29 + 1, 2 * 29 + 1)


def test_a_paused_run_keeps_a_heartbeat_in_meta_json(runs_dir, monkeypatch):
    import json

    from gan_tui.train import trainer as trainer_module
    from gan_tui.train.control import Command

    monkeypatch.setattr(trainer_module, "PAUSED_HEARTBEAT_S", 0.2)
    commands = Commands()
    commands.send(Command.PAUSE)  # taken at the first step
    seen = []

    class Watcher(Recorder):
        def handle(self, event):
            super().handle(event)
            if isinstance(event, ev.Heartbeat) and len(self.of(ev.Heartbeat)) == 2:
                seen.append(json.loads((session.run_dir / "meta.json").read_text()))
                commands.send(Command.RESUME)

    watcher = Watcher()
    session = new_session(load_profile("ring8", FAST), runs_dir, [watcher], commands)
    assert session.trainer.run() == "finished"
    session.close()
    assert [e.status for e in watcher.of(ev.StatusChanged)][:2] == ["paused", "running"]
    assert len(watcher.of(ev.Heartbeat)) == 2 and seen[0]["status"] == "paused" and seen[0]["heartbeat"]


def test_time_paused_is_left_out_of_elapsed_time_rates_and_eta(runs_dir):
    import threading
    import time

    from gan_tui.train.control import Command

    commands = Commands()
    commands.send(Command.PAUSE)  # taken at the first step; a timer resumes it 1.5 s into the run
    recorder = Recorder()
    session = new_session(load_profile("ring8", FAST), runs_dir, [recorder], commands)
    started = time.monotonic()
    threading.Timer(1.5, commands.send, (Command.RESUME,)).start()
    assert session.trainer.run() == "finished"
    wall = time.monotonic() - started
    session.close()
    progress = recorder.of(ev.Progress)
    assert wall >= 1.5
    assert progress[-1].elapsed <= wall - 1.2, (progress[-1].elapsed, wall)  # the training time alone
    assert session.trainer.paused_s >= 1.2
    # The window around the pause is not read as a slow stretch of training.
    assert min(p.it_per_s for p in progress) > 40 / wall, [p.it_per_s for p in progress]


def test_the_last_progress_reads_the_runs_mean_rate_not_its_last_few_steps(runs_dir, monkeypatch):
    import time

    from gan_tui.train.trainer import Trainer

    save = Trainer.checkpoint

    def slow_checkpoint(self):  # a checkpoint at the last step, inside the last (short) rate window
        time.sleep(0.5)
        return save(self)

    monkeypatch.setattr(Trainer, "checkpoint", slow_checkpoint)
    _, recorder, _ = train(runs_dir, ["train.steps=200", "checkpoint.every=200"])
    last = recorder.of(ev.Progress)[-1]
    assert last.step == 200
    assert last.it_per_s == pytest.approx(200 / last.elapsed)
    assert last.images_per_s == pytest.approx(64 * 200 / last.elapsed)


def test_resuming_with_fewer_steps_than_reached_is_refused_and_writes_nothing(runs_dir):
    _, _, session = train(runs_dir)  # finished at step 40
    run_dir = session.run_dir
    before = {p.name: p.read_bytes() for p in (run_dir / "profile.toml", run_dir / "meta.json")}
    with pytest.raises(BadInput, match=r'^key "train.steps" is 30, below step 40 that run .* has already reached; '
                                       r".*--set train.steps=80"):
        resume_session(lambda path: load_profile(str(path), ["train.steps=30"]), runs_dir, run_dir.name)
    assert {p.name: p.read_bytes() for p in (run_dir / "profile.toml", run_dir / "meta.json")} == before
