"""An EMA generator's batch norms measure statistics of their own (standing_stats.py)."""

import torch
from torch import nn

from gan_tui.train.standing_stats import SAMPLES, measure_batch_norm_stats
from test_trainer import train


class TinyG(nn.Module):
    def __init__(self, latent_dim=4, num_classes=3):
        super().__init__()
        self.embed = nn.Embedding(num_classes, latent_dim)
        self.fc = nn.Linear(latent_dim, 5)
        self.norm = nn.BatchNorm1d(5)

    def forward(self, z, labels=None):
        return self.norm(self.fc(z + self.embed(labels)))


def test_statistics_are_the_exact_mean_and_variance_of_the_generators_own_output():
    g = TinyG().eval()
    g.norm.running_mean.fill_(7.0)  # what a copy of another network's statistics would leave
    rng_before = torch.get_rng_state()
    measure_batch_norm_stats(g, latent_dim=4, num_classes=3, batch_size=256, device=torch.device("cpu"), seed=5)
    assert torch.equal(torch.get_rng_state(), rng_before)  # training's random stream is not touched
    assert not g.training and g.norm.momentum == 0.1  # mode and momentum as they were
    rng = torch.Generator().manual_seed(5)
    batches = [(torch.randn(256, 4, generator=rng), torch.randint(3, (256,), generator=rng))
               for _ in range(SAMPLES // 256)]
    with torch.no_grad():
        pre = torch.stack([g.fc(z + g.embed(y)) for z, y in batches])  # (batches, 256, 5)
    torch.testing.assert_close(g.norm.running_mean, pre.mean((0, 1)))
    torch.testing.assert_close(g.norm.running_var, pre.var(1, unbiased=True).mean(0))


def test_a_generator_without_batch_norm_is_left_alone():
    g = nn.Sequential(nn.Linear(4, 2))
    before = [p.clone() for p in g.parameters()]
    measure_batch_norm_stats(g, 4, 0, 8, torch.device("cpu"))  # no forward pass: the call would fail on 2 args
    assert all(torch.equal(a, b) for a, b in zip(before, g.parameters()))


def test_the_ema_copy_samples_and_is_saved_with_its_own_statistics(runs_dir, tmp_path):
    from safetensors.torch import load_file

    from test_data import fake_mnist

    fake_mnist(tmp_path / "m", n=64)
    _, _, session = train(runs_dir, ["data.name=mnist", f"data.path={tmp_path / 'm'}", "data.image_size=28",
                                     "model.g_width=8", "model.d_width=8", "model.latent_dim=16", "train.steps=20",
                                     "log.samples=16", "tricks.ema.decay=0.9"], profile="dcgan-fashion")
    t = session.trainer
    saved = load_file(str(session.run_dir / "checkpoints" / "step-0000020" / "model.safetensors"))
    ema_mean, raw_mean = saved["G_ema.net.1.running_mean"], saved["G.net.1.running_mean"]
    assert not torch.allclose(ema_mean, raw_mean)  # not the raw G's statistics, copied
    # ... but those of the EMA copy's own output: measuring again gives them back.
    t.G_ema.net[1].running_mean.zero_()
    t.ready_sampler()
    torch.testing.assert_close(t.G_ema.net[1].running_mean, ema_mean)
