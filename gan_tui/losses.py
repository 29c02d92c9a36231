"""Loss registry: a profile's `loss.name` resolves here.

Every loss works on D's raw logits (never Sigmoid + BCELoss). `output_kind`
tells viewers how to read D's outputs: "probability" (show sigmoid(logit),
equilibrium at 0.5) or "score" (raw critic values). Regularisers that need D
and its inputs (gradient penalty, R1) are `Penalty` objects added to D's loss
and logged under their own names.
"""

import torch
import torch.nn.functional as F


class Loss:
    name = ""
    output_kind = "probability"
    uses_targets = False  # whether label smoothing and noisy labels mean anything here
    clip: float | None = None  # WGAN: clip D's weights to [-clip, clip] after each D step

    def __init__(self, settings=None):
        self.settings = settings

    def d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor, real_target=1.0, fake_target=0.0) -> torch.Tensor:
        """D's objective; targets (floats or per-example tensors) matter to the BCE family only."""
        raise NotImplementedError

    def g_loss(self, fake_logits: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class _BCEFamily(Loss):
    uses_targets = True

    def d_loss(self, real_logits, fake_logits, real_target=1.0, fake_target=0.0):
        # -log D(x) - log(1 - D(G(z))), with optional smoothed or flipped targets.
        real = F.binary_cross_entropy_with_logits(real_logits, torch.as_tensor(real_target).expand_as(real_logits).to(real_logits))
        fake = F.binary_cross_entropy_with_logits(fake_logits, torch.as_tensor(fake_target).expand_as(fake_logits).to(fake_logits))
        return real + fake


class MinimaxBCE(_BCEFamily):
    """Goodfellow et al. 2014 as written: G minimises log(1 - D(G(z)))."""

    name = "bce"

    def g_loss(self, fake_logits):
        return -F.softplus(fake_logits).mean()  # log(1 - sigmoid(l)) = -softplus(l)


class NonSaturatingBCE(_BCEFamily):
    """The same D loss; G maximises log D(G(z)) for strong early gradients."""

    name = "nonsat"

    def g_loss(self, fake_logits):
        return F.softplus(-fake_logits).mean()  # -log sigmoid(l)


class LeastSquares(Loss):
    """LSGAN (Mao et al. 2017), a-b-c = 0-1-1: D regresses real to 1 and fake to 0."""

    name = "lsgan"
    output_kind = "score"

    def d_loss(self, real_logits, fake_logits, real_target=1.0, fake_target=0.0):
        return 0.5 * ((real_logits - 1.0) ** 2).mean() + 0.5 * (fake_logits ** 2).mean()

    def g_loss(self, fake_logits):
        return 0.5 * ((fake_logits - 1.0) ** 2).mean()


class Hinge(Loss):
    """Hinge loss (Lim & Ye 2017; SNGAN, SAGAN, BigGAN)."""

    name = "hinge"
    output_kind = "score"

    def d_loss(self, real_logits, fake_logits, real_target=1.0, fake_target=0.0):
        return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()

    def g_loss(self, fake_logits):
        return -fake_logits.mean()


class Wasserstein(Loss):
    """WGAN (Arjovsky et al. 2017) with weight clipping (`loss.clip`, 0.01)."""

    name = "wgan"
    output_kind = "score"

    def __init__(self, settings=None):
        super().__init__(settings)
        self.clip = settings.clip if settings else 0.01

    def d_loss(self, real_logits, fake_logits, real_target=1.0, fake_target=0.0):
        return fake_logits.mean() - real_logits.mean()

    def g_loss(self, fake_logits):
        return -fake_logits.mean()


class WassersteinGP(Wasserstein):
    """WGAN-GP (Gulrajani et al. 2017): no clipping, a gradient penalty instead."""

    name = "wgan-gp"

    def __init__(self, settings=None):
        super().__init__(settings)
        self.clip = None


class NonSaturatingR1(NonSaturatingBCE):
    """Non-saturating loss with the R1 penalty on real data (Mescheder et al. 2018)."""

    name = "r1"


LOSSES = {cls.name: cls for cls in (MinimaxBCE, NonSaturatingBCE, LeastSquares, Hinge, Wasserstein,
                                    WassersteinGP, NonSaturatingR1)}


# ---------------------------------------------------------------------------
# Penalties on D


class Penalty:
    name = ""

    def __call__(self, discriminator, real: torch.Tensor, fake: torch.Tensor, labels=None) -> torch.Tensor:
        raise NotImplementedError


def _grad_norm_sq(discriminator, x: torch.Tensor, labels) -> torch.Tensor:
    x = x.detach().float().requires_grad_(True)
    out = discriminator(x, labels)
    (grad,) = torch.autograd.grad(out.sum(), x, create_graph=True)
    return grad.flatten(1).pow(2).sum(1)


class GradientPenalty(Penalty):
    """weight * E[(||grad D(x_hat)|| - 1)^2] on random interpolates of real and fake."""

    name = "gp"

    def __init__(self, weight: float, generator: torch.Generator | None = None):
        self.weight = weight
        self.generator = generator

    def __call__(self, discriminator, real, fake, labels=None):
        shape = (real.shape[0],) + (1,) * (real.dim() - 1)
        eps = torch.rand(shape, device=real.device, generator=self.generator)
        mixed = eps * real.detach() + (1 - eps) * fake.detach()
        norm = (_grad_norm_sq(discriminator, mixed, labels) + 1e-12).sqrt()
        return self.weight * ((norm - 1) ** 2).mean()


class R1Penalty(Penalty):
    """gamma / 2 * E[||grad D(x)||^2] on real data."""

    name = "r1"

    def __init__(self, gamma: float):
        self.gamma = gamma

    def __call__(self, discriminator, real, fake, labels=None):
        return 0.5 * self.gamma * _grad_norm_sq(discriminator, real, labels).mean()


def build_loss(settings) -> Loss:
    return LOSSES[settings.name](settings)


def build_penalties(settings, tricks: dict, generator: torch.Generator | None = None) -> list[Penalty]:
    """The penalties a loss implies (wgan-gp, r1) plus those asked for as tricks."""
    penalties: list[Penalty] = []
    gp = tricks.get("gradient_penalty")
    if settings.name == "wgan-gp" or gp:
        penalties.append(GradientPenalty(gp.weight if gp else settings.gp_weight, generator))
    if settings.name == "r1":
        penalties.append(R1Penalty(settings.r1_gamma))
    return penalties
