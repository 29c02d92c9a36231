"""CycleGAN: the profile trains through the CLI, resumes exactly, learns to cycle, refuses bad
domains in one sentence, and evaluates without touching the live generators.

Tiny widths, batches and step counts keep each test to seconds on a shared 2-core CPU.
"""

import json

import numpy as np
import pytest
import torch
from conftest import needs_fashion, only_run, run_cli
from test_trainer import Recorder

from gan_tui.errors import BadInput
from gan_tui.metrics.translation import translation_metrics
from gan_tui.profile import load_profile
from gan_tui.render import grid_image
from gan_tui.train import events as ev
from gan_tui.train.control import Commands
from gan_tui.train.session import new_session, resume_session

TINY = ["train.device=cpu", "data.limit=600", "data.batch_size=4", "model.g_width=4", "model.d_width=4",
        "model.depth=1", "log.every=1", "log.samples=12", "log.samples_every=1000", "eval.every=0",
        "checkpoint.every=1000"]


pytestmark = pytest.mark.usefixtures("one_thread")  # conftest.py: tiny networks train on one thread


def session(runs_dir, *overrides, sinks=(), commands=None):
    return new_session(load_profile("cyclegan-fashion", [*TINY, *overrides]), runs_dir, sinks, commands)


# -- the metrics, on translators whose answers are known ------------------------------


class Brightness:
    """A stand-in classifier: class 1 for bright images, 0 for dark ones."""

    def __call__(self, images):
        bright = images.float().mean((1, 2, 3)) > 127.5
        return None, torch.stack([~bright, bright], 1).float()


def test_translation_metrics_score_known_translators():
    dark = torch.zeros(10, 1, 8, 8, dtype=torch.uint8)
    bright = torch.full((7, 1, 8, 8), 255, dtype=torch.uint8)
    invert = lambda x: -x  # noqa: E731  dark <-> bright, and back again
    out = translation_metrics(invert, invert, dark, bright, Brightness(), (0, 1), batch_size=4)
    assert out["cycle_error_a"] == 0 and out["cycle_error_b"] == 0
    assert out["translation_accuracy_ab"] == 1 and out["translation_accuracy_ba"] == 1
    assert out["real_accuracy_a"] == 1 and out["real_accuracy_b"] == 1
    assert (out["n_a"], out["n_b"], out["features"]) == (10, 7, "domain")
    assert set(out["labels"]) == {k for k in out if "error" in k or "accuracy" in k}

    keep = lambda x: x  # noqa: E731  a perfect round trip that translates nothing
    out = translation_metrics(keep, keep, dark, bright, Brightness(), (0, 1))
    assert out["cycle_error_a"] == 0 and out["translation_accuracy_ab"] == 0 and out["translation_accuracy_ba"] == 0

    grey = lambda x: torch.zeros_like(x)  # noqa: E731  everything to mid-grey: A (at -1) is 1 away
    out = translation_metrics(grey, grey, dark, bright)
    assert out["cycle_error_a"] == pytest.approx(1.0) and out["cycle_error_b"] == pytest.approx(1.0)
    assert "translation_accuracy_ab" not in out and out["features"] == "none"


# -- the sample grid -------------------------------------------------------------------


def test_grid_honours_columns_and_caption():
    images = np.zeros((12, 1, 28, 28), np.uint8)
    plain = grid_image(images, 6)
    assert plain.size == (6 * 29 + 1, 2 * 29 + 1)
    captioned = grid_image(images, 6, "A → B → A | B → A → B")
    assert captioned.width == plain.width and captioned.height > plain.height
    assert np.asarray(captioned)[:12].max() > 200  # the caption's white text sits above the grid


def test_samples_pane_shows_whole_rows_under_the_caption():
    from gan_tui.tui.model import RunModel
    from gan_tui.tui.widgets.samples import SamplesPane, grid_rows

    assert grid_rows(48, 6, 28, 200, 100) == 8  # room for every row
    assert grid_rows(48, 6, 28, 200, 40) < 8  # fewer whole rows, each still legible
    assert grid_rows(48, 6, 28, 10, 3) == 1  # at least one
    pane = SamplesPane(RunModel(), "256")
    header, picture = pane.images(np.zeros((48, 1, 28, 28), np.uint8), 120, 30, 6, "A → B → A")
    assert header[0].text == "A → B → A" and picture


# -- training --------------------------------------------------------------------------


@needs_fashion
def test_profile_trains_through_the_cli_and_leaves_a_six_column_grid(tmp_path):
    runs = tmp_path / "runs"
    proc = run_cli("run", "cyclegan-fashion", "--json", "--runs-dir", str(runs), *[a for o in TINY for a in ("--set", o)],
                   "--set", "train.steps=4", "--set", "log.samples_every=4", "--set", "checkpoint.every=4")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    scalars = [r for r in rows if r["event"] == "scalars"]
    assert [r["step"] for r in scalars] == [1, 2, 3, 4]
    for r in scalars:
        assert {"d_loss", "g_loss", "d_real", "d_fake", "cycle", "identity"} <= set(r)
        assert all(np.isfinite(r[k]) for k in ("d_loss", "g_loss", "d_real", "d_fake", "cycle", "identity"))
    run = only_run(runs)
    images = np.load(run / "samples" / "step-0000004.npz")["images"]
    assert images.shape == (12, 1, 28, 28) and images.dtype == np.uint8  # 2 rows of 6
    from PIL import Image

    with Image.open(run / "samples" / "step-0000004.png") as png:
        assert png.width == 6 * 29 + 1
    assert (run / "checkpoints" / "step-0000004").is_dir()

    # `gan-tui sample` translates test images the run never trained on, picked by --seed.
    def sample(seed):
        out = tmp_path / f"translated-{seed}.png"
        done = run_cli("sample", run.name, "-n", "18", "--seed", str(seed), "-o", str(out), "--device", "cpu",
                       "--runs-dir", str(runs))
        assert done.returncode == 0, done.stderr
        assert "3 Sneaker and 3 Ankle boot test images translated and back" in done.stdout
        with Image.open(out) as png:
            assert png.width == 6 * 29 + 1 and png.text["run_id"] == run.name
            return np.asarray(png)[-(3 * 29 + 1):]  # the 3 rows under the caption

    first = sample(0)
    assert np.array_equal(first, sample(0)) and not np.array_equal(first, sample(1))
    from gan_tui.data.idx import load_idx_split

    images, labels = load_idx_split("fashion-mnist", None, "test", split="t10k")
    tile = first[1:29, 1:29]  # row 0, column A: a test sneaker as it is
    assert any(np.array_equal(tile, image[0]) for image in images[labels == 7])


@needs_fashion
def test_rows_read_a_then_its_translations_then_b(runs_dir):
    rec = Recorder()
    s = session(runs_dir, "train.steps=1", "log.samples=18", sinks=[rec])
    s.trainer.run()
    sample = rec.of(ev.Samples)[-1]
    assert sample.columns == 6 and sample.caption.startswith("A → B → A | B → A → B")
    assert "Sneaker" in sample.caption and "Ankle boot" in sample.caption
    rows = sample.images.reshape(3, 6, 1, 28, 28)
    from gan_tui.metrics.features import quantize

    a, b = s.trainer.fixed_a, s.trainer.fixed_b
    assert np.array_equal(rows[:, 0], quantize(a).numpy()) and np.array_equal(rows[:, 3], quantize(b).numpy())
    with torch.no_grad():
        assert np.array_equal(rows[:, 1], quantize(s.trainer.G.ab(a)).numpy())
    s.close()


class StopAt:
    def __init__(self, commands, step):
        self.commands, self.step = commands, step

    def handle(self, event):
        if isinstance(event, ev.Scalars) and event.step == self.step:
            self.commands.send("stop")


@needs_fashion
def test_checkpoint_and_resume_continue_exactly(runs_dir, tmp_path):
    steps = ["train.steps=6", "checkpoint.every=2"]
    straight = session(tmp_path / "straight", *steps)
    assert straight.trainer.run() == "finished"
    straight.close()

    commands = Commands()
    first = session(runs_dir, *steps, sinks=[StopAt(commands, 4)], commands=commands)
    assert first.trainer.run() == "interrupted" and first.trainer.step == 4
    first.close()
    pool_before = first.trainer.pool["a"].images.clone()
    resumed = resume_session(lambda path: load_profile(str(path)), runs_dir, first.run_dir.name)
    assert resumed.trainer.step == 4 and torch.equal(resumed.trainer.pool["a"].images, pool_before)
    assert resumed.trainer.run() == "finished"
    resumed.close()
    for net in ("G", "D"):
        mine, theirs = getattr(resumed.trainer, net).state_dict(), getattr(straight.trainer, net).state_dict()
        assert all(torch.equal(mine[k], theirs[k]) for k in theirs), net


@needs_fashion
def test_cycle_loss_falls_on_a_tiny_net(runs_dir):
    rec = Recorder()
    s = session(runs_dir, "train.steps=100", "log.every=20", "model.g_width=8", "optim.g.lr=1e-3", sinks=[rec])
    assert s.trainer.run() == "finished"
    s.close()
    cycle = [e.values["cycle"] for e in rec.of(ev.Scalars)]
    assert cycle[-1] < 0.6 * cycle[0], cycle


# -- bad input -------------------------------------------------------------------------


@needs_fashion
def test_bad_domain_exits_2_with_one_sentence(tmp_path):
    proc = run_cli("run", "cyclegan-fashion", "--runs-dir", str(tmp_path / "runs"), "--set", "train.device=cpu",
                   "--set", "data.domain_b=ankle-bot")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert 'key "data.domain_b"' in lines[0] and 'did you mean "ankle-boot"?' in lines[0]
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())  # no run dir left behind


@needs_fashion
@pytest.mark.parametrize("overrides, match", [
    (["data.domain_a=12"], 'key "data.domain_a" is 12, but dataset "fashion-mnist" has classes 0 to 9'),
    (["data.domain_a=9"], 'keys "data.domain_a" and "data.domain_b" both name class "Ankle boot"'),
    (["data.domain_a=Sneakers", "data.limit=1"], 'no "Sneaker" images'),
])
def test_domains_are_checked_against_the_dataset(runs_dir, overrides, match):
    from gan_tui.train.session import build_parts

    with pytest.raises(BadInput, match=match):
        build_parts(load_profile("cyclegan-fashion", ["train.device=cpu", *overrides]))


def test_profile_mistakes_name_the_key():
    with pytest.raises(BadInput, match='key "data.domain_a" is only used when "model.architecture" is "cyclegan"'):
        load_profile("dcgan-fashion", ["data.domain_a=sneaker"])
    with pytest.raises(BadInput, match='needs key "data.domain_b"'):
        load_profile("cyclegan-fashion", ['data.domain_b=""'])
    with pytest.raises(BadInput, match='trick "minibatch_std" does not apply to cyclegan'):
        load_profile("cyclegan-fashion", ["tricks.minibatch_std.group=2"])
    with pytest.raises(BadInput, match='"loss.name" is "wgan-gp"'):
        load_profile("cyclegan-fashion", ["loss.name=wgan-gp"])
    with pytest.raises(BadInput, match='"train.n_critic" is 2'):
        load_profile("cyclegan-fashion", ["train.n_critic=2"])
    assert load_profile("cyclegan-fashion", ["data.domain_a=5"]).data.domain_a == "5"  # an index is a name too


# -- evaluation ------------------------------------------------------------------------


@needs_fashion
def test_evaluation_job_gives_finite_numbers_and_leaves_the_live_generators_alone(runs_dir):
    s = session(runs_dir, "train.steps=2", "eval.n=40")
    s.trainer.run()
    G = s.trainer.G
    before = {k: v.clone() for k, v in G.state_dict().items()}
    job = s.trainer._evaluation_job()
    metrics = job()
    for key in ("cycle_error_a", "cycle_error_b", "translation_accuracy_ab", "translation_accuracy_ba"):
        assert np.isfinite(metrics[key]) and key in metrics["labels"]
    assert 0 <= metrics["translation_accuracy_ab"] <= 1 and metrics["cycle_error_a"] > 0
    assert metrics["n"] == 40 and metrics["features"] == "domain" and metrics["seconds"] > 0
    assert metrics["split"] == "t10k" and metrics["domains"] == {"a": "Sneaker", "b": "Ankle boot"}
    assert all(torch.equal(v, before[k]) for k, v in G.state_dict().items())
    assert G.training and all(p.requires_grad for p in G.parameters())
    s.close()


# -- the dashboard -----------------------------------------------------------------------


@needs_fashion
async def test_dashboard_runs_cyclegan_and_shows_the_a_to_b_to_a_grid(tmp_path):
    from gan_tui.tui.app import DashboardApp
    from gan_tui.tui.fake import screen_text, wait_until

    profile = load_profile("cyclegan-fashion", [*TINY, "train.steps=100000", "log.samples_every=2", "eval.n=50"])
    app = DashboardApp(profile=profile, runs_dir=tmp_path, fps=8)
    async with app.run_test(size=(120, 40)) as pilot:
        m = app.model
        await wait_until(pilot, lambda: m.samples is not None and m.samples.step > 0 and "cycle" in m.series,
                         timeout=60)
        assert m.samples.columns == 6
        await wait_until(pilot, lambda: "A → B → A | B → A → B" in screen_text(app), timeout=30)
        await pilot.press("f")  # an evaluation now: cycle errors and translation accuracy, shown by their labels
        await wait_until(pilot, lambda: "cycle error A→B→A" in screen_text(app), timeout=60)
        await pilot.press("q", "y")
        await wait_until(pilot, lambda: not app.is_running, timeout=60)
    assert app.training.outcome == "interrupted"


@needs_fashion
@pytest.mark.slow
def test_two_processes_train_cyclegan_through_ddp(tmp_path):
    import os
    import subprocess
    import sys

    sets = [a for o in [*TINY, "train.steps=4", "log.samples_every=4", "checkpoint.every=4"] for a in ("--set", o)]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2", "-m", "gan_tui",
           "run", "cyclegan-fashion", *sets, "--runs-dir", str(tmp_path / "runs"), "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]  # the trainer checks that both ranks end with the same weights
    meta = json.loads((only_run(tmp_path / "runs") / "meta.json").read_text())
    assert meta["status"] == "finished" and meta["world_size"] == 2
