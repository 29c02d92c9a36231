"""Progressive growing (ProGAN-lite, after Karras et al. 2018): `architecture = "progan"`.

Both networks hold every resolution from the seed (4 px, or 7 px for 28 px
images) to the data size and use those up to the current one. With
`model.grow_steps = T`: the seed side trains for T steps, then each next side
is faded in linearly over T steps (alpha 0 -> 1) and held stable for T steps;
the full size is reached at step 2T * (number of sides - 1). T = 0 trains at
full size from the start.

The trainer calls `set_step(step)` (a host int) on G, its EMA copy and D
before each step. D always takes full-size images and average-pools them to
the current side; G always returns full-size images, nearest-upsampled from
the current side, so the data pipeline and sample shapes never change.
Layers: pixel norm and leaky ReLU in G, minibatch std in D, linear output;
plain convolutions (no equalised learning rate) so tricks.spectral_norm applies.
"""

import torch
import torch.nn.functional as F
from torch import nn

from gan_tui.models.layers import MinibatchDiscrimination, MinibatchStd
from gan_tui.models.shapes import check_image_shape, resolutions


def pixel_norm(x: torch.Tensor) -> torch.Tensor:
    """ProGAN's per-pixel feature normalisation: keeps G's magnitudes from escalating."""
    return x * torch.rsqrt(x.square().mean(1, keepdim=True) + 1e-8)


def lrelu(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, 0.2)


def he_init(module: nn.Module) -> None:
    """He initialisation for leaky ReLU: PyTorch's default shrinks activations layer by layer,
    which leaves a deep D at init answering the same for every input."""
    if isinstance(module, (nn.Conv2d, nn.Linear)):
        nn.init.kaiming_normal_(module.weight, a=0.2)
        nn.init.zeros_(module.bias)


def growth_at(step: int, grow_steps: int, levels: int) -> tuple[int, float]:
    """(level, alpha) at a step: phase 0 holds level 0; odd phases fade in the next level, even ones hold it."""
    if grow_steps <= 0:
        return levels - 1, 1.0
    phase = step // grow_steps
    level = (phase + 1) // 2
    if level > levels - 1:
        return levels - 1, 1.0
    if phase % 2:
        return level, (step - phase * grow_steps) / grow_steps
    return level, 1.0


class Growing(nn.Module):
    """Holds the growth state as plain Python numbers: forward branches on them without a device sync."""

    def __init__(self, size: int, grow_steps: int):
        super().__init__()
        self.size, self.grow_steps = size, grow_steps
        self.sides = resolutions(size)
        self.set_step(0)

    def set_step(self, step: int) -> None:
        self.step = int(step)
        self.level, self.alpha = growth_at(self.step, self.grow_steps, len(self.sides))

    @property
    def resolution(self) -> int:
        return self.sides[self.level]

    def extra_repr(self) -> str:
        return f"resolution={self.resolution}, alpha={self.alpha:.3f}"


class ProGBlock(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.conv1 = nn.Conv2d(width, width, 3, 1, 1)
        self.conv2 = nn.Conv2d(width, width, 3, 1, 1)

    def forward(self, x):
        x = F.interpolate(x, scale_factor=2)
        return pixel_norm(lrelu(self.conv2(pixel_norm(lrelu(self.conv1(x))))))


class ProDBlock(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.conv1 = nn.Conv2d(width, width, 3, 1, 1)
        self.conv2 = nn.Conv2d(width, width, 3, 1, 1)

    def forward(self, x):
        return F.avg_pool2d(lrelu(self.conv2(lrelu(self.conv1(x)))), 2)


class ProGenerator(Growing):
    def __init__(self, latent_dim: int, width: int, channels: int, size: int, grow_steps: int):
        super().__init__(size, grow_steps)
        self.latent_dim, self.width, self.num_classes = latent_dim, width, 0
        seed = self.sides[0]
        self.linear = nn.Linear(latent_dim, width * seed * seed)
        self.seed_conv = nn.Conv2d(width, width, 3, 1, 1)
        self.blocks = nn.ModuleList(ProGBlock(width) for _ in self.sides[1:])  # blocks[i]: side i -> i + 1
        self.to_rgb = nn.ModuleList(nn.Conv2d(width, channels, 1) for _ in self.sides)
        self.apply(he_init)

    def forward(self, z, labels=None):
        seed = self.sides[0]
        h = pixel_norm(lrelu(self.linear(pixel_norm(z)).view(z.shape[0], self.width, seed, seed)))
        h = pixel_norm(lrelu(self.seed_conv(h)))
        previous = h
        for block in self.blocks[: self.level]:
            previous, h = h, block(h)
        image = self.to_rgb[self.level](h)
        if self.level and self.alpha < 1:  # fade in: blend with the previous side's image, upsampled
            image = torch.lerp(F.interpolate(self.to_rgb[self.level - 1](previous), scale_factor=2), image, self.alpha)
        if image.shape[-1] != self.size:
            image = F.interpolate(image, size=(self.size, self.size))  # nearest: blocks of one colour
        return image


class ProDiscriminator(Growing):
    def __init__(self, width: int, channels: int, size: int, grow_steps: int, minibatch_std: int = 4,
                 minibatch_disc: tuple[int, int] | None = None):
        super().__init__(size, grow_steps)
        self.num_classes = 0
        seed = self.sides[0]
        disc = [MinibatchDiscrimination(width, *minibatch_disc)] if minibatch_disc else []
        self.from_rgb = nn.ModuleList(nn.Conv2d(channels, width, 1) for _ in self.sides)
        self.blocks = nn.ModuleList(ProDBlock(width) for _ in self.sides[1:])  # blocks[i]: side i + 1 -> i
        self.head = nn.Sequential(MinibatchStd(minibatch_std), nn.Conv2d(width + 1, width, 3, 1, 1), nn.LeakyReLU(0.2),
                                  nn.Flatten(), nn.Linear(width * seed * seed, width), nn.LeakyReLU(0.2),
                                  *disc, nn.Linear(width + (minibatch_disc[0] if minibatch_disc else 0), 1))
        self.apply(he_init)

    def forward(self, x, labels=None):
        if self.resolution != self.size:  # real and fake arrive full size; look at them at the current side
            x = F.avg_pool2d(x, self.size // self.resolution)
        h = lrelu(self.from_rgb[self.level](x))
        if self.level:
            h = self.blocks[self.level - 1](h)
            if self.alpha < 1:  # fade in: blend with the previous side's path on the pooled image
                skip = lrelu(self.from_rgb[self.level - 1](F.avg_pool2d(x, 2)))
                h = torch.lerp(skip, h, self.alpha)
        for level in range(self.level - 1, 0, -1):
            h = self.blocks[level - 1](h)
        return self.head(h).squeeze(1)


def build_progan(settings, data_shape, num_classes: int = 0, minibatch_std: int = 0, source="profile",
                 minibatch_disc: tuple[int, int] | None = None):
    channels, size = check_image_shape(data_shape, "progan", source)
    return (ProGenerator(settings.latent_dim, settings.g_width, channels, size, settings.grow_steps),
            ProDiscriminator(settings.d_width, channels, size, settings.grow_steps, minibatch_std or 4,
                             minibatch_disc))
