import pytest
import torch
import torch.nn.functional as F

from gan_tui.errors import BadInput
from gan_tui.losses import LOSSES
from gan_tui.models import build_models
from gan_tui.models.layers import MinibatchStd
from gan_tui.profile import ModelSettings
from gan_tui.tricks import MinibatchStd as MinibatchStdTrick
from gan_tui.tricks import SpectralNorm


@pytest.mark.parametrize("arch, shape", [("mlp", (2,)), ("mlp", (1, 28, 28)), ("dcgan", (1, 28, 28)),
                                          ("dcgan", (1, 32, 32)), ("dcgan", (3, 64, 64))])
def test_networks_map_noise_to_data_and_data_to_one_logit(arch, shape):
    torch.manual_seed(0)
    g, d = build_models(ModelSettings(architecture=arch, latent_dim=8, g_width=16, d_width=16), shape)
    z = torch.randn(4, 8)
    x = g(z)
    assert x.shape == (4, *shape)
    if len(shape) == 3:
        assert x.min() >= -1 and x.max() <= 1
    assert d(x).shape == (4,)


def test_dcgan_64_matches_pytorch_examples_size():
    g, d = build_models(ModelSettings(architecture="dcgan", latent_dim=100, g_width=64, d_width=64), (3, 64, 64))
    # pytorch/examples dcgan: netG 3,576,704 and netD 2,765,568 parameters.
    assert sum(p.numel() for p in g.parameters()) == 3_576_704
    assert sum(p.numel() for p in d.parameters()) == 2_765_568


def test_dcgan_refuses_other_sizes():
    with pytest.raises(BadInput, match='set "data.image_size" to one of those'):
        build_models(ModelSettings(architecture="dcgan"), (1, 48, 48))


def test_losses_are_the_textbook_formulas_on_logits():
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])
    d_real, d_fake = torch.sigmoid(real), torch.sigmoid(fake)
    expected_d = -(torch.log(d_real).mean() + torch.log(1 - d_fake).mean())
    for name in ("bce", "nonsat"):
        assert torch.allclose(LOSSES[name]().d_loss(real, fake), expected_d)
    assert torch.allclose(LOSSES["bce"]().g_loss(fake), torch.log(1 - d_fake).mean())
    assert torch.allclose(LOSSES["nonsat"]().g_loss(fake), -torch.log(d_fake).mean())
    smoothed = LOSSES["nonsat"]().d_loss(real, fake, real_target=0.9)
    assert torch.allclose(smoothed, F.binary_cross_entropy(d_real, torch.full((2,), 0.9)) - torch.log(1 - d_fake).mean())


def test_nonsat_gives_strong_gradients_where_minimax_saturates():
    fake = torch.tensor([-6.0], requires_grad=True)  # D confidently rejects the sample
    grads = {}
    for name in ("bce", "nonsat"):
        fake.grad = None
        LOSSES[name]().g_loss(fake).backward()
        grads[name] = fake.grad.abs().item()
    assert grads["nonsat"] > 100 * grads["bce"]


def test_spectral_norm_keeps_top_singular_value_near_one():
    torch.manual_seed(0)
    _, d = build_models(ModelSettings(architecture="mlp", d_width=64), (2,), {"spectral_norm": SpectralNorm()})
    for _ in range(20):  # let power iteration converge
        d(torch.randn(8, 2))
    for layer in (m for m in d.modules() if isinstance(m, torch.nn.Linear)):
        assert abs(torch.linalg.matrix_norm(layer.weight, ord=2).item() - 1.0) < 0.05


def test_minibatch_std_sees_a_collapsed_batch():
    layer = MinibatchStd(group=4)
    varied = layer(torch.randn(8, 3))
    same = layer(torch.ones(8, 3))
    assert varied.shape == (8, 4) and same[:, -1].abs().max() < 1e-3 < varied[:, -1].min()
    _, d = build_models(ModelSettings(architecture="dcgan", d_width=8), (1, 32, 32),
                        {"minibatch_std": MinibatchStdTrick(group=4)})
    assert d(torch.randn(8, 1, 32, 32)).shape == (8,)


def test_score_losses_match_their_papers():
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])
    lsgan, hinge, wgan = LOSSES["lsgan"](), LOSSES["hinge"](), LOSSES["wgan"]()
    assert torch.allclose(lsgan.d_loss(real, fake), 0.5 * ((real - 1) ** 2).mean() + 0.5 * (fake ** 2).mean())
    assert torch.allclose(lsgan.g_loss(fake), 0.5 * ((fake - 1) ** 2).mean())
    assert torch.allclose(hinge.d_loss(real, fake), torch.tensor((0 + 2) / 2 + (1.5 + 0) / 2))
    assert torch.allclose(hinge.g_loss(fake), torch.tensor(1.25))
    assert torch.allclose(wgan.d_loss(real, fake), fake.mean() - real.mean())
    assert wgan.clip == 0.01 and LOSSES["wgan-gp"]().clip is None
    assert {l.output_kind for l in (lsgan, hinge, wgan)} == {"score"}


def test_gradient_penalty_is_zero_for_a_unit_slope_critic_and_r1_for_a_flat_one():
    from gan_tui.losses import GradientPenalty, R1Penalty

    unit = torch.nn.Linear(3, 1, bias=False)
    with torch.no_grad():
        unit.weight.copy_(torch.tensor([[0.6, 0.8, 0.0]]))  # |grad| = 1 everywhere
    critic = lambda x, labels=None: unit(x).squeeze(1)
    real, fake = torch.randn(16, 3), torch.randn(16, 3)
    assert GradientPenalty(10.0)(critic, real, fake).item() < 1e-8
    assert abs(R1Penalty(10.0)(critic, real, fake).item() - 5.0) < 1e-5  # gamma/2 * |grad|^2
    with torch.no_grad():
        unit.weight.mul_(3)  # |grad| = 3: penalty 10 * (3 - 1)^2
    assert abs(GradientPenalty(10.0)(critic, real, fake).item() - 40.0) < 1e-3
