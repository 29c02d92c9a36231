"""Each trick changes what it should: tests that fail if a trick were a no-op."""

import pytest
import torch

from gan_tui.augment import DInputs, color, cutout, translation
from gan_tui.errors import BadInput
from gan_tui.profile import load_profile
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
