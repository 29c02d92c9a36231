"""The architecture zoo: every network trains, and every trick changes what it should.

Tiny widths and batches keep the file fast on a shared 2-core CPU.
"""

import pytest
import torch
import torch.nn.functional as F

from gan_tui.errors import BadInput
from gan_tui.losses import LOSSES
from gan_tui.models import build_models
from gan_tui.models.attention import SelfAttention
from gan_tui.models.conditional import ConditionalBatchNorm2d
from gan_tui.models.progan import growth_at
from gan_tui.models.stylegan import StyleLayer
from gan_tui.profile import ModelSettings
from gan_tui.tricks import SpectralNorm

LATENT, BATCH, CLASSES = 8, 4, 3


pytestmark = pytest.mark.usefixtures("one_thread")  # conftest.py: tiny networks train on one thread


def settings(arch, **kw):
    return ModelSettings(architecture=arch, latent_dim=LATENT, g_width=8, d_width=8, depth=2, **kw)


def labels(seed=0):
    return torch.randint(CLASSES, (BATCH,), generator=torch.Generator().manual_seed(seed))


# -- every architecture and conditioning trains ------------------------------------

CASES = [
    ("mlp", "none", (2,), {}),
    ("mlp", "concat", (2,), {}),
    ("dcgan", "concat", (1, 28, 28), {}),
    ("resnet", "none", (3, 32, 32), {"attention_res": 16}),
    ("resnet", "concat", (1, 28, 28), {"attention_res": 7}),
    ("resnet", "projection", (1, 32, 32), {}),
    ("resnet", "cbn", (1, 28, 28), {"attention_res": 14}),
    ("stylegan", "none", (1, 28, 28), {}),
    ("stylegan", "projection", (3, 32, 32), {}),
    ("progan", "none", (1, 32, 32), {"grow_steps": 1}),
]


@pytest.mark.parametrize("arch, cond, shape, extra", CASES, ids=[f"{c[0]}-{c[1]}-{c[2][-1]}" for c in CASES])
def test_architecture_trains_a_few_hinge_steps(arch, cond, shape, extra):
    torch.manual_seed(0)
    g, d = build_models(settings(arch, conditioning=cond, **extra), shape, num_classes=CLASSES)
    opt_g = torch.optim.Adam(g.parameters(), 1e-3, betas=(0.0, 0.9))
    opt_d = torch.optim.Adam(d.parameters(), 1e-3, betas=(0.0, 0.9))
    hinge = LOSSES["hinge"]()
    real = torch.rand(BATCH, *shape) * 2 - 1
    for step in range(3):
        for net in (g, d):
            if hasattr(net, "set_step"):
                net.set_step(step)
        y = labels(step) if cond != "none" else None
        fake = g(torch.randn(BATCH, LATENT), y)
        assert fake.shape == (BATCH, *shape) and torch.isfinite(fake).all()
        d_loss = hinge.d_loss(d(real, y), d(fake.detach(), y))
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        out = d(fake, y)
        assert out.shape == (BATCH,)
        g_loss = hinge.g_loss(out)
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        assert torch.isfinite(d_loss) and torch.isfinite(g_loss)
    assert all(torch.isfinite(p).all() for p in [*g.parameters(), *d.parameters()])


# -- settings the networks cannot honour are refused --------------------------------


@pytest.mark.parametrize("arch, kw, num_classes, key", [
    ("resnet", {"conditioning": "projection"}, 0, "model.conditioning"),  # no labels
    ("dcgan", {"conditioning": "cbn"}, 10, "model.conditioning"),
    ("progan", {"conditioning": "concat"}, 10, "model.conditioning"),
    ("dcgan", {"attention_res": 16}, 0, "model.attention_res"),
    ("resnet", {"attention_res": 12}, 0, "model.attention_res"),
    ("dcgan", {"grow_steps": 100}, 0, "model.grow_steps"),
])
def test_impossible_settings_name_the_key(arch, kw, num_classes, key):
    with pytest.raises(BadInput, match=f'prof.toml: key "{key}"'):
        build_models(settings(arch, **kw), (1, 32, 32), source="prof.toml", num_classes=num_classes)


def test_bad_attention_side_lists_the_valid_ones():
    with pytest.raises(BadInput, match="set it to one of 8, 16"):
        build_models(settings("resnet", attention_res=32), (1, 32, 32))
    with pytest.raises(BadInput, match="set it to one of 7, 14"):
        build_models(settings("resnet", attention_res=28), (1, 28, 28))


def test_old_call_without_classes_still_works():
    g, d = build_models(settings("resnet"), (1, 28, 28), {"spectral_norm": SpectralNorm()}, source="p")
    assert d(g(torch.randn(2, LATENT))).shape == (2,)


# -- self-attention ------------------------------------------------------------------


def test_attention_starts_as_identity_and_matters_once_gamma_moves():
    torch.manual_seed(0)
    g, d = build_models(settings("resnet", attention_res=16), (1, 32, 32))
    blocks = [m for net in (g, d) for m in net.modules() if isinstance(m, SelfAttention)]
    assert len(blocks) == 2 and all(b.gamma.item() == 0 for b in blocks)
    x = torch.randn(2, 8, 16, 16)
    assert torch.equal(blocks[0](x), x)
    g.eval(), d.eval()
    z, image = torch.randn(BATCH, LATENT), torch.randn(BATCH, 1, 32, 32)
    before_g, before_d = g(z), d(image)
    with torch.no_grad():
        for b in blocks:
            b.gamma.fill_(1.0)
    assert not torch.allclose(g(z), before_g, atol=1e-5)
    assert not torch.allclose(d(image), before_d, atol=1e-5)


# -- conditioning: outputs depend on the labels ---------------------------------------


@pytest.mark.parametrize("arch, cond, shape", [
    ("mlp", "concat", (2,)), ("dcgan", "concat", (1, 28, 28)), ("resnet", "concat", (1, 28, 28)),
    ("resnet", "projection", (1, 28, 28)), ("resnet", "cbn", (1, 28, 28)), ("stylegan", "projection", (1, 28, 28)),
])
def test_conditional_outputs_depend_on_labels(arch, cond, shape):
    torch.manual_seed(0)
    g, d = build_models(settings(arch, conditioning=cond), shape, num_classes=CLASSES)
    g.eval(), d.eval()
    z, x = torch.randn(BATCH, LATENT), torch.rand(BATCH, *shape) * 2 - 1
    a, b = torch.zeros(BATCH, dtype=torch.long), torch.ones(BATCH, dtype=torch.long)
    with torch.no_grad():
        if cond == "projection" and arch == "resnet":  # <embed(y), phi(x)>, made visible above SN's scale
            d.projection.embed.parametrizations.weight.original.normal_()
        assert not torch.allclose(g(z, a), g(z, b), atol=1e-6)
        assert not torch.allclose(d(x, a), d(x, b), atol=1e-6)
        assert torch.equal(g(z, a), g(z, a))
        assert d(x).shape == (BATCH,)  # no labels: D drops its class term
        assert torch.equal(g(z), g(z, torch.arange(BATCH) % CLASSES))  # no labels: classes in turn


def test_cbn_is_a_small_biggan():
    g, d = build_models(settings("resnet", conditioning="cbn"), (1, 32, 32), num_classes=CLASSES)
    norms = [m for m in g.modules() if isinstance(m, ConditionalBatchNorm2d)]
    embeddings = [m for m in g.modules() if isinstance(m, torch.nn.Embedding)]
    assert len(norms) == 6 and len(embeddings) == 1  # one shared embedding feeds every block
    assert d.projection is not None and hasattr(d.projection.embed, "parametrizations")
    # Hierarchical z: the last chunk of z reaches only the blocks' norms, and still changes the image.
    g.eval()
    z = torch.randn(BATCH, LATENT)
    z2 = z.clone()
    z2[:, -g.z_chunks[-1]:] += 1
    with torch.no_grad():
        assert not torch.allclose(g(z), g(z2), atol=1e-6)


# -- StyleGAN-lite --------------------------------------------------------------------


def stylegan(mixing):
    torch.manual_seed(0)
    g, _ = build_models(settings("stylegan", style_mixing=mixing), (1, 28, 28))
    return g


@torch.no_grad()
def test_style_mixing_changes_output_only_in_training():
    mixing, plain = stylegan(1.0), stylegan(0.0)
    z = torch.randn(BATCH, LATENT)
    outs = {}
    for mode in ("train", "eval"):
        for name, g in (("mix", mixing), ("plain", plain)):
            g.train(mode == "train")
            torch.manual_seed(1)
            outs[mode, name] = g(z)
    assert not torch.allclose(outs["train", "mix"], outs["train", "plain"], atol=1e-6)
    assert torch.equal(outs["eval", "mix"], outs["eval", "plain"])
    assert torch.equal(outs["train", "plain"], outs["eval", "plain"])  # noise strengths start at 0


@torch.no_grad()
def test_noise_inputs_make_g_stochastic_in_training_only():
    g = stylegan(0.0)
    z = torch.randn(BATCH, LATENT)
    layers = [m for m in g.modules() if isinstance(m, StyleLayer)]
    assert all(layer.noise_strength.shape == (8,) for layer in layers)  # one strength per channel
    g.train()
    assert torch.equal(g(z), g(z))  # strengths start at 0
    for layer in layers:
        layer.noise_strength.fill_(0.5)
    assert not torch.allclose(g(z), g(z), atol=1e-6)
    g.eval()
    assert torch.equal(g(z), g(z))  # eval: fixed noise, steady sample grids


def test_stylegan_modulation_follows_w():
    g = stylegan(0.0).eval()
    z = torch.randn(BATCH, LATENT)
    with torch.no_grad():
        base = g(z)
        g.layers[1].conv.affine.bias.add_(1.0)  # change one layer's style
        assert not torch.allclose(g(z), base, atol=1e-6)


# -- progressive growing -------------------------------------------------------------


def test_growth_schedule_fades_in_then_holds():
    t, levels = 10, 4  # 4 -> 8 -> 16 -> 32
    assert growth_at(0, t, levels) == (0, 1.0) and growth_at(9, t, levels) == (0, 1.0)
    assert [growth_at(s, t, levels) for s in (10, 15, 19)] == [(1, 0.0), (1, 0.5), (1, 0.9)]
    assert growth_at(20, t, levels) == (1, 1.0) and growth_at(30, t, levels) == (2, 0.0)
    assert growth_at(2 * t * (levels - 1), t, levels) == (3, 1.0) == growth_at(10**6, t, levels)
    assert growth_at(0, 0, levels) == (3, 1.0)  # grow_steps = 0: full size from the start


def blocky(images, side):
    """Images reduced to side x side (average) and blown back up (nearest)."""
    return F.interpolate(F.avg_pool2d(images, images.shape[-1] // side), size=images.shape[-2:])


@pytest.mark.parametrize("size, seed", [(32, 4), (28, 7)])
@torch.no_grad()
def test_progressive_networks_start_at_the_seed_and_grow_to_full_size(size, seed):
    torch.manual_seed(0)
    t = 4
    g, d = build_models(settings("progan", grow_steps=t), (1, size, size))
    g.eval(), d.eval()
    z, real = torch.randn(BATCH, LATENT), torch.rand(BATCH, 1, size, size) * 2 - 1
    out = g(z)
    assert g.resolution == d.resolution == seed and out.shape == (BATCH, 1, size, size)
    assert torch.allclose(out, blocky(out, seed), atol=1e-6)  # only seed-side detail
    assert torch.allclose(d(real), d(blocky(real, seed)), atol=1e-5)  # D sees the pooled image

    # Fading in starts exactly where the previous side left off, then moves away from it.
    g.set_step(t)
    assert (g.resolution, g.alpha) == (2 * seed, 0.0)
    assert torch.allclose(g(z), out, atol=1e-5)
    g.set_step(t + t // 2)
    assert g.alpha == 0.5 and not torch.allclose(g(z), out, atol=1e-4)

    end = 2 * t * (len(g.sides) - 1)
    for net in (g, d):
        net.set_step(end)
    assert g.resolution == d.resolution == size and g.alpha == d.alpha == 1.0
    full = g(z)
    assert full.shape == (BATCH, 1, size, size) and not torch.allclose(full, blocky(full, size // 2), atol=1e-4)
    assert not torch.allclose(d(real), d(blocky(real, seed)), atol=1e-4)


# -- spectral norm -------------------------------------------------------------------


def test_resnet_d_is_spectrally_normalised():
    torch.manual_seed(0)
    _, d = build_models(settings("resnet", conditioning="projection", attention_res=8), (1, 32, 32),
                        num_classes=CLASSES)
    wrapped = [m for m in d.modules() if hasattr(m, "parametrizations")]
    layers = [m for m in d.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear, torch.nn.Embedding))]
    assert wrapped and len(wrapped) == len(layers)
    with torch.no_grad():
        for _ in range(30):  # let power iteration converge
            d(torch.randn(2, 1, 32, 32), labels()[:2])
    for layer in wrapped:
        top = torch.linalg.matrix_norm(layer.weight.flatten(1), ord=2).item()
        assert abs(top - 1.0) < 0.05, (layer, top)
