"""CycleGAN training (Zhu et al. 2017) on Trainer's loop, commands, checkpoints and events.

`CycleTrainer` keeps everything of `Trainer` but the step, the sample grid and
the evaluation. The networks come packed (gan_tui/models/cyclegan.py): `G.ab`
and `G.ba` share Trainer's opt_g, `D.a` and `D.b` its opt_d, as the reference
implementation chains their parameters. One step, as in the reference:

1. Generators, with the discriminators frozen: adversarial terms on
   G_AB(a) (judged by D_B) and G_BA(b) (by D_A), plus `loss.cycle_weight`
   (lambda, 10) times the cycle-consistency L1 of A -> B -> A and B -> A -> B,
   plus `loss.identity_weight` (0.5 lambda, 5) times the identity L1 of
   G_BA(a) vs a and G_AB(b) vs b.
2. Discriminators: real images against fakes drawn from a history of the
   last POOL_SIZE (50) generated images per domain (Shrivastava et al.
   2017), which the paper uses to keep D from chasing G's latest output.

With `loss.name = "lsgan"` (the paper's) D regresses real to 1 and fake to 0
with the registry's 0.5 factor, and G minimises (D(G(x)) - 1)^2 without it,
as the reference does. Learning rates stay at the profile's for the first
half of `train.steps` and then fall linearly towards 0 (the paper's 100 + 100
epochs); they are set from the step, so a resumed run follows the same curve.

Logged per interval: d_loss (D_A + D_B), g_loss (both adversarial terms),
d_real / d_fake (D's mean output on real images and on the pools' fakes),
cycle and identity (the mean L1 of one direction, unweighted, on the
[-1, 1] scale). The samples are rows of A | A→B | A→B→A | B | B→A | B→A→B on
fixed images, and an evaluation measures held-out cycle errors and how often
the domain classifier takes translations for the target class
(gan_tui/metrics/translation.py). Under torchrun the packs train through
Trainer's DDP wrappers (G_train, D_train), each rank with its own image pools.
"""

import torch
from torch import nn

from gan_tui.metrics.evaluate import frozen_copy
from gan_tui.metrics.features import quantize
from gan_tui.train import events as ev
from gan_tui.train.trainer import Trainer

POOL_SIZE = 50
CYCLE_STAT_NAMES = ("d_loss", "g_loss", "d_real", "d_fake", "cycle", "identity")
SAMPLE_COLUMNS = 6  # A | A→B | A→B→A | B | B→A | B→A→B
ADVERSARIAL_SCALE = {"lsgan": 2.0}  # the registry's LSGAN G loss is 0.5 (D - 1)^2; CycleGAN's is (D - 1)^2


@torch.no_grad()
def translation_rows(generators, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Images in [-1, 1] of A and B -> rows of A | A→B | A→B→A | B | B→A | B→A→B, flattened row-major."""
    ab, ba = generators.ab(a), generators.ba(b)
    columns = [a, ab, generators.ba(ab), b, ba, generators.ab(ba)]
    return torch.stack([c.float() for c in columns], 1).flatten(0, 1)


def translation_caption(name_a: str, name_b: str) -> str:
    return f"A → B → A | B → A → B  A = {name_a}, B = {name_b}"


class ImagePool(nn.Module):
    """The last `size` generated images of one domain. Until it is full, images pass through and
    are kept; then each image has an even chance of being swapped for a random older one.
    Decided on the device (no host sync); saved with the checkpoint as buffers."""

    def __init__(self, size: int, shape: tuple[int, ...]):
        super().__init__()
        self.size = size
        self.register_buffer("images", torch.zeros(size, *shape))
        self.register_buffer("filled", torch.zeros(1, dtype=torch.long))
        self.count = 0  # host copy of `filled`

    def sync(self) -> None:
        """After loading a checkpoint: the host count from the buffer."""
        self.count = int(self.filled.item())

    @torch.no_grad()
    def query(self, fakes: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        fakes = fakes.detach().to(self.images.dtype)
        n = fakes.shape[0]
        take = min(n, self.size - self.count)
        if take:
            self.images[self.count:self.count + take] = fakes[:take]
            self.count += take
            self.filled.fill_(self.count)
        if take == n:
            return fakes
        rest = fakes[take:]
        m = rest.shape[0]
        index = torch.randint(self.size, (m,), generator=generator, device=fakes.device)
        swap = (torch.rand(m, generator=generator, device=fakes.device) < 0.5).view(-1, *[1] * (fakes.dim() - 1))
        older = self.images[index]
        self.images[index] = torch.where(swap, rest, older)
        return torch.cat([fakes[:take], torch.where(swap, older, rest)])


class CycleTrainer(Trainer):
    def __init__(self, profile, dataset, generator, discriminator, loss, device, run_id, run_dir, sinks=(),
                 commands=None, **kwargs):
        super().__init__(profile, dataset, generator, discriminator, loss, device, run_id, run_dir, sinks, commands,
                         **kwargs)
        self.stat_names = CYCLE_STAT_NAMES
        self.stats = torch.zeros(len(self.stat_names) + 1, device=device)
        self.cycle_weight = profile.loss.cycle_weight
        self.identity_weight = profile.loss.identity_weight
        self.adversarial_scale = ADVERSARIAL_SCALE.get(loss.name, 1.0)
        self.pool = nn.ModuleDict({"a": ImagePool(POOL_SIZE, dataset.shape),
                                   "b": ImagePool(POOL_SIZE, dataset.shape)}).to(device)
        rows = max(1, round(profile.log.samples / SAMPLE_COLUMNS))
        fixed_a, fixed_b = dataset.first(rows)
        rows = min(len(fixed_a), len(fixed_b))
        self.fixed_a, self.fixed_b = fixed_a[:rows], fixed_b[:rows]
        self.caption = translation_caption(*dataset.domain_names)

    # -- state -------------------------------------------------------------

    def _networks(self) -> dict[str, nn.Module]:
        return {**super()._networks(), "pool": self.pool}

    def restore_latest(self) -> int:
        step = super().restore_latest()
        for pool in self.pool.values():
            pool.sync()
        return step

    # -- one step ----------------------------------------------------------

    def _set_learning_rates(self) -> None:
        """Constant for the first half of train.steps, then linearly towards 0 (the paper's schedule)."""
        total = self.profile.train.steps
        half = total // 2
        factor = 1.0 - max(0, self.step - half) / (total - half + 1)
        for opt, settings in ((self.opt_g, self.profile.optim.g), (self.opt_d, self.profile.optim.d)):
            for group in opt.param_groups:
                group["lr"] = settings.lr * factor * self.lr_scale  # lr_scale: after divergence rollbacks

    def _g_step(self, a: torch.Tensor, b: torch.Tensor):
        D = self.D  # itself, not a DDP wrapper, and frozen: no gradients into D from G's objective
        D.requires_grad_(False)
        try:
            with self.autocast:
                fake_b, fake_a, rec_a, rec_b, same_a, same_b = self.G_train(a, b, bool(self.identity_weight))
                judged_a, judged_b = D(self._see(fake_a), self._see(fake_b))
                adversarial = (self.loss.g_loss(judged_b.float())
                               + self.loss.g_loss(judged_a.float())) * self.adversarial_scale
                cycle = (rec_a.float() - a).abs().mean() + (rec_b.float() - b).abs().mean()
                if self.identity_weight:
                    identity = (same_a.float() - a).abs().mean() + (same_b.float() - b).abs().mean()
                else:
                    identity = torch.zeros((), device=self.device)
            total = adversarial + self.cycle_weight * cycle + self.identity_weight * identity
            self.opt_g.zero_grad(set_to_none=True)
            total.backward()
            self.opt_g.step()
        finally:
            D.requires_grad_(True)
        if self.G_ema is not None:
            self._update_ema()
        return adversarial, cycle, identity, fake_a.detach(), fake_b.detach()

    def _d_step(self, a, b, fake_a, fake_b):
        fake_a = self.pool["a"].query(fake_a, self.rng)
        fake_b = self.pool["b"].query(fake_b, self.rng)
        real_target = self.real_target
        with self.autocast:
            real_a, real_b = self.D_train(self._see(a), self._see(b))
            fake_a_out, fake_b_out = self.D_train(self._see(fake_a), self._see(fake_b))
            d_loss = (self.loss.d_loss(real_a.float(), fake_a_out.float(), real_target, 0.0)
                      + self.loss.d_loss(real_b.float(), fake_b_out.float(), real_target, 0.0))
        self.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        self.opt_d.step()
        if self.loss.clip:
            self._clip_d(self.loss.clip)
        return d_loss, (real_a.detach(), real_b.detach()), (fake_a_out.detach(), fake_b_out.detach())

    def train_step(self) -> None:
        self._set_learning_rates()
        a, b = self.data.sample_pair(self.profile.data.batch_size, self.rng)
        adversarial, cycle, identity, fake_a, fake_b = self._g_step(a, b)
        d_loss, reals, fakes = self._d_step(a, b, fake_a, fake_b)
        with torch.no_grad():
            per_image = lambda outs: torch.cat([o.float().flatten(1).mean(1) for o in outs])  # noqa: E731
            self._last_logits = (per_image(reals), per_image(fakes))
            d_real = sum(self._d_output(o).mean() for o in reals) / 2
            d_fake = sum(self._d_output(o).mean() for o in fakes) / 2
            self.stats += torch.stack([d_loss.detach().float(), adversarial.detach().float(), d_real, d_fake,
                                       cycle.detach().float() / 2, identity.detach().float() / 2,
                                       torch.ones((), device=self.device)])
        self.step += 1

    # -- reporting ---------------------------------------------------------

    @torch.no_grad()
    def sample_event(self) -> ev.Samples:
        """Rows of A | A→B | A→B→A | B | B→A | B→A→B on the fixed images (the EMA pair where enabled)."""
        G = self.sampler
        was_training = G.training
        G.eval()
        try:
            grid = translation_rows(G, self.fixed_a, self.fixed_b)
        finally:
            G.train(was_training)
        return ev.Samples(self.step, images=quantize(grid).cpu().numpy(), columns=SAMPLE_COLUMNS,
                          caption=self.caption)

    def _evaluation_job(self):
        """On the training thread: frozen copies of both generators at this step; the returned
        function (run on the evaluation thread) measures them on held-out images of each domain."""
        from gan_tui.metrics.translation import evaluate_translation

        snapshot = frozen_copy(self.sampler, self.device)
        p, step, device = self.profile, self.step, self.device
        data_path = getattr(self, "data_path", None)
        classes, names = self.data.domain_classes, self.data.domain_names

        def job() -> dict:
            return evaluate_translation(snapshot, p.data, classes, names, n=p.eval.n, device=device,
                                        data_path=data_path, step=step)
        return job
