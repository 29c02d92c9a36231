"""Named training tricks and their parameters (the `[tricks.NAME]` tables of a profile).

Each trick is a settings dataclass; the trainer and the losses read the
parameters. Unknown names or parameters are refused with the known ones listed.
"""

from dataclasses import dataclass

from gan_tui.schema import field


@dataclass
class LabelSmoothing:
    """One-sided label smoothing (Salimans et al. 2016): D's target for real data."""

    real: float = field(0.9, min=0.0, max=1.0)


TRICKS: dict[str, type] = {
    "label_smoothing": LabelSmoothing,
}


@dataclass
class MinibatchStd:
    """Minibatch standard deviation (Karras et al. 2018): D sees how varied a group of
    samples is, so a generator that collapses to a few outputs is easy to spot."""

    group: int = field(4, min=2, max=1024)


@dataclass
class SpectralNorm:
    """Spectral normalisation (Miyato et al. 2018) of the weights of D and/or G."""

    d: bool = field(True)
    g: bool = field(False)


TRICKS.update({"minibatch_std": MinibatchStd, "spectral_norm": SpectralNorm})


@dataclass
class MinibatchDiscrimination:
    """Minibatch discrimination (Salimans et al. 2016): before its last layer, D appends, per
    kernel, how close each example is to the others in its batch (L1 distances through a
    learnt A x B x C tensor), so a batch of near-identical samples is easy to spot."""

    kernels: int = field(50, min=1, max=1024)  # B: the number of kernels (features appended)
    kernel_dim: int = field(5, min=1, max=256)  # C: the numbers per kernel


TRICKS["minibatch_discrimination"] = MinibatchDiscrimination


@dataclass
class EMA:
    """Exponential moving average of G's weights (Yazici et al. 2019); samples and
    evaluations use the averaged copy."""

    decay: float = field(0.999, min=0.0, max=1.0)


TRICKS["ema"] = EMA


@dataclass
class GradientPenalty:
    """WGAN-GP's penalty (Gulrajani et al. 2017) added to any loss's D objective."""

    weight: float = field(10.0, min=0.0)


TRICKS["gradient_penalty"] = GradientPenalty


@dataclass
class DiffAugment:
    """Differentiable augmentation of D's inputs, real and fake (Zhao et al. 2020)."""

    policy: list[str] = field(["color", "translation", "cutout"])


@dataclass
class InstanceNoise:
    """Gaussian noise on D's inputs, annealed linearly to 0 (Sønderby et al. 2017)."""

    std: float = field(0.1, min=0.0)
    anneal_steps: int = field(0, min=0)  # 0 = keep the noise constant


@dataclass
class NoisyLabels:
    """Flip a fraction of D's real/fake targets (BCE-family losses)."""

    flip: float = field(0.05, min=0.0, max=0.5)


@dataclass
class Unrolled:
    """Unrolled GAN (Metz et al. 2017): G is updated against D looked ahead k steps
    (first-order: D's state is restored after G's update)."""

    steps: int = field(5, min=1, max=50)


TRICKS.update({"diffaugment": DiffAugment, "instance_noise": InstanceNoise, "noisy_labels": NoisyLabels,
               "unrolled": Unrolled})
