"""Loss registry: a profile's `loss.name` resolves here.

Every loss works on D's raw logits (never Sigmoid + BCELoss). `output_kind`
tells viewers how to read D's outputs: "probability" (show sigmoid(logit),
equilibrium at 0.5) or "score" (raw critic values).
"""

import torch
import torch.nn.functional as F


class Loss:
    name = ""
    output_kind = "probability"

    def d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor, real_target: float = 1.0) -> torch.Tensor:
        raise NotImplementedError

    def g_loss(self, fake_logits: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class _BCEFamily(Loss):
    def d_loss(self, real_logits, fake_logits, real_target=1.0):
        # -log D(x) - log(1 - D(G(z))), with an optional smoothed real target.
        real = F.binary_cross_entropy_with_logits(real_logits, torch.full_like(real_logits, real_target))
        fake = F.softplus(fake_logits).mean()  # = -log(1 - sigmoid(l))
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


LOSSES = {cls.name: cls for cls in (MinimaxBCE, NonSaturatingBCE)}


def build_loss(settings) -> Loss:
    return LOSSES[settings.name]()
