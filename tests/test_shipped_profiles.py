"""Every shipped profile trains a few steps with finite losses and the right shapes."""

import numpy as np
import pytest

from conftest import FASHION, MNIST
from gan_tui.profile import available_profiles, load_profile
from gan_tui.train import events as ev
from test_trainer import FAST, Recorder

SHIPPED = sorted(available_profiles())
SMALL_IMAGES = ["data.limit=256", "data.batch_size=16", "model.g_width=8", "model.d_width=8", "train.steps=3",
                "log.every=1", "log.samples_every=3", "log.samples=4", "checkpoint.every=3",
                "eval.every=0", "train.compile=off"]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_profile_trains(name, runs_dir):
    from gan_tui.train.session import new_session

    profile = load_profile(name)
    assert profile.description
    overrides = [*FAST, "train.steps=3", "log.every=1", "log.samples_every=3"]
    if profile.data.name not in ("ring8", "grid25"):
        overrides = ["train.device=cpu", *SMALL_IMAGES]
    if profile.data.name == "fashion-mnist" and not FASHION.is_dir():
        pytest.skip("needs Debian's dataset-fashion-mnist (.ci/run installs it)")
    if profile.data.name == "mnist":
        if not MNIST.is_dir():
            pytest.skip("needs MNIST's IDX files in .data/mnist (.ci/run fetches them)")
        overrides.append(f"data.path={MNIST}")
    recorder = Recorder()
    session = new_session(load_profile(name, overrides), runs_dir, [recorder])
    assert session.trainer.run() == "finished"
    scalars = recorder.of(ev.Scalars)
    assert [e.step for e in scalars] == [1, 2, 3]
    assert all(np.isfinite(v) for e in scalars for v in e.values.values())
    sample = recorder.of(ev.Samples)[-1]
    if profile.data.name in ("ring8", "grid25"):
        assert sample.points.shape[1] == 2
    else:
        size = profile.data.image_size or 28
        assert sample.images.shape[1:] == (profile.data.channels or 1, size, size)
