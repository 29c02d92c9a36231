"""Each trick changes what it should: tests that fail if a trick were a no-op."""

import numpy as np
import pytest
import torch

from gan_tui.augment import DInputs, color, cutout, translation
from gan_tui.errors import BadInput
from gan_tui.profile import load_profile
from gan_tui.train import events as ev
from gan_tui.tricks import DiffAugment, InstanceNoise
from test_trainer import train


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_translation_moves_content_and_pads_with_zeros():
    x = torch.zeros(64, 1, 8, 8)
    x[:, :, 3, 3] = 1.0
    moved = translation(x, gen())
    assert torch.allclose(moved.sum((1, 2, 3)), torch.ones(64))  # one pixel, somewhere within +-1
    positions = moved[:, 0].flatten(1).argmax(1)
    assert len(set(positions.tolist())) > 1
    assert torch.equal(translation(x, gen(1)), translation(x, gen(1)))  # seeded


def test_cutout_zeros_a_quarter_of_the_image():
    x = torch.ones(32, 1, 8, 8)
    out = cutout(x, gen())
    zeros = (out == 0).flatten(1).sum(1).float()
    assert zeros.max() == 16 and zeros.min() >= 4  # a 4x4 square, clipped at the borders


def test_color_changes_pixels_and_is_differentiable():
    x = torch.rand(8, 3, 4, 4, requires_grad=True)
    out = color(x, gen())
    assert not torch.allclose(out, x)
    out.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_instance_noise_anneals_to_zero():
    inputs = DInputs({"instance_noise": InstanceNoise(std=0.2, anneal_steps=100)}, gen())
    assert inputs.noise_at(0) == 0.2 and inputs.noise_at(50) == pytest.approx(0.1) and inputs.noise_at(100) == 0
    x = torch.zeros(1000, 2)
    assert abs(inputs(x, 0).std().item() - 0.2) < 0.02
    assert torch.equal(inputs(x, 100), x)


def test_diffaugment_only_touches_images():
    inputs = DInputs({"diffaugment": DiffAugment()}, gen())
    points = torch.randn(10, 2)
    assert torch.equal(inputs(points, 0), points)
    images = torch.rand(10, 1, 8, 8)
    assert not torch.allclose(inputs(images, 0), images)


def test_noisy_labels_flip_the_asked_fraction(runs_dir):
    _, _, session = train(runs_dir, ["train.steps=1", "tricks.noisy_labels.flip=0.25"])
    real, fake = session.trainer._targets(20000)
    assert abs((real == 0).float().mean().item() - 0.25) < 0.02
    assert torch.equal(real == 0, fake == 1)


def test_target_tricks_need_a_bce_loss():
    with pytest.raises(BadInput, match='trick "label_smoothing" changes BCE targets, which loss "hinge"'):
        load_profile("ring8", ["loss.name=hinge", "tricks.label_smoothing.real=0.9"])
    with pytest.raises(BadInput, match='names unknown "rotate"'):
        load_profile("ring8", ['tricks.diffaugment.policy=["rotate"]'])


def test_unrolled_updates_g_against_a_look_ahead_d_then_restores_d(runs_dir):
    _, plain, p = train(runs_dir, ["train.steps=5"])
    _, unrolled, u = train(runs_dir, ["train.steps=5", "tricks.unrolled.steps=3"])
    assert int(u.trainer.opt_d.state_dict()["state"][0]["step"]) == 5  # look-ahead steps undone
    g_plain = torch.cat([q.flatten() for q in p.trainer.G.parameters()])
    g_unrolled = torch.cat([q.flatten() for q in u.trainer.G.parameters()])
    assert not torch.allclose(g_plain, g_unrolled)


def test_diffaugment_and_instance_noise_train_an_image_profile(runs_dir, tmp_path):
    from test_data import fake_mnist

    fake_mnist(tmp_path / "m", n=64)
    outcome, _, _ = train(runs_dir, ["data.name=mnist", f"data.path={tmp_path / 'm'}", "data.image_size=28",
                                     "model.g_width=8", "model.d_width=8", "train.steps=4", "log.every=2",
                                     "tricks.diffaugment.policy=['color', 'translation', 'cutout']",
                                     "tricks.instance_noise.std=0.1"], profile="dcgan-fashion")
    assert outcome == "finished"


# -- minibatch discrimination ----------------------------------------------------------


def _d_pair(arch, shape, kernels=6, kernel_dim=3):
    from gan_tui.models import build_models
    from gan_tui.profile import ModelSettings
    from gan_tui.tricks import MinibatchDiscrimination

    settings = ModelSettings(architecture=arch, latent_dim=8, g_width=8, d_width=8, depth=2)
    torch.manual_seed(0)
    _, plain = build_models(settings, shape)
    torch.manual_seed(0)
    _, mbd = build_models(settings, shape, {"minibatch_discrimination": MinibatchDiscrimination(kernels, kernel_dim)})
    return plain.eval(), mbd.eval()  # eval: batch norm uses running stats, so only the trick couples the batch


@pytest.mark.parametrize("arch, shape", [("mlp", (2,)), ("dcgan", (1, 28, 28)), ("resnet", (1, 32, 32))])
@torch.no_grad()
def test_minibatch_discrimination_makes_ds_output_depend_on_the_rest_of_the_batch(arch, shape):
    plain, mbd = _d_pair(arch, shape)
    x = torch.rand(8, *shape, generator=gen(1)) * 2 - 1
    other = x.clone()
    other[1:] = torch.rand(7, *shape, generator=gen(2)) * 2 - 1  # example 0 unchanged, its batch-mates new
    assert torch.allclose(plain(x)[0], plain(other)[0], atol=1e-6)
    assert not torch.allclose(mbd(x)[0], mbd(other)[0], atol=1e-6)
    layer = next(m for m in mbd.modules() if type(m).__name__ == "MinibatchDiscrimination")
    same = torch.randn(1, layer.T.shape[0], generator=gen(3)).expand(8, -1)  # a collapsed batch: o = N - 1
    assert torch.allclose(layer(same)[:, -6:], torch.full((8, 6), 7.0))


@pytest.mark.parametrize("arch, shape", [("mlp", (2,)), ("dcgan", (1, 28, 28)), ("progan", (1, 32, 32))])
def test_minibatch_discrimination_adds_a_b_c_parameters_per_feature(arch, shape):
    kernels, kernel_dim = 6, 3
    plain, mbd = _d_pair(arch, shape, kernels, kernel_dim)
    layer = next(m for m in mbd.modules() if type(m).__name__ == "MinibatchDiscrimination")
    a = layer.T.shape[0]
    count = lambda net: sum(p.numel() for p in net.parameters())
    assert count(layer) == a * kernels * kernel_dim
    assert count(mbd) - count(plain) == a * kernels * kernel_dim + kernels  # T, and the last layer's B new inputs


def test_minibatch_discrimination_trains_a_few_steps(runs_dir, tmp_path):
    outcome, rec, _ = train(runs_dir, ["train.steps=4", "log.every=2", "tricks.minibatch_discrimination.kernels=8"])
    assert outcome == "finished"
    assert all(np.isfinite(v) for e in rec.of(ev.Scalars) for v in e.values.values())
    from test_data import fake_mnist

    fake_mnist(tmp_path / "m", n=64)
    outcome, rec, _ = train(runs_dir, ["data.name=mnist", f"data.path={tmp_path / 'm'}", "data.image_size=28",
                                       "model.g_width=8", "model.d_width=8", "train.steps=3", "log.every=1",
                                       "data.batch_size=8", "tricks.minibatch_discrimination.kernel_dim=4"],
                            profile="dcgan-fashion")
    assert outcome == "finished"
    assert all(np.isfinite(v) for e in rec.of(ev.Scalars) for v in e.values.values())
