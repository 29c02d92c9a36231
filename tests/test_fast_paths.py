"""The fast paths train the same networks as eager fp32, within each precision's tolerance,
and the check itself notices a path that trains differently."""

import pytest

from conftest import needs_fashion
from gan_tui.profile import load_profile
from gan_tui.train.equivalence import TOLERANCE, compare_fast_path

TINY_DCGAN = ["train.device=cpu", "data.batch_size=16", "model.g_width=8", "model.d_width=8",
              "data.limit=512", "log.samples=8", "eval.every=0"]
RING8 = ["train.device=cpu", "eval.every=0", "data.batch_size=64"]


def loader(name, base):
    return lambda extra: load_profile(name, [*base, *extra])


pytestmark = pytest.mark.usefixtures("one_thread")  # conftest.py: tiny networks train on one thread


@needs_fashion
def test_bf16_autocast_and_channels_last_match_eager_fp32(runs_dir):
    load = loader("dcgan-fashion", TINY_DCGAN)
    bf16 = compare_fast_path(load, ["train.precision=bf16"], 4, runs_dir)
    assert bf16.ok, bf16
    assert bf16.losses > 0  # bf16 really ran: not bit-identical
    nhwc = compare_fast_path(load, ["train.channels_last=true"], 4, runs_dir)
    assert nhwc.ok and nhwc.tolerance == TOLERANCE["fp32"], nhwc


def test_the_check_fails_a_path_that_trains_differently(runs_dir):
    # D a quarter slower: the first D update differs, so G's first gradient does.
    slower = compare_fast_path(loader("ring8", RING8), ["optim.d.lr=1.5e-3"], 4, runs_dir)
    assert not slower.ok and max(slower.gradients.values()) > TOLERANCE["fp32"][2]
    # Other batches (what a CUDA graph replaying stale inputs would train on).
    other_data = compare_fast_path(loader("ring8", RING8), ["data.batch_size=48"], 4, runs_dir)
    assert not other_data.ok, other_data


@pytest.mark.slow
def test_compiled_networks_match_eager(runs_dir):
    result = compare_fast_path(loader("ring8", RING8), ["train.compile=default"], 6, runs_dir)
    assert result.ok, result
