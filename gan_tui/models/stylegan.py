"""StyleGAN-lite (after Karras et al. 2019, 2020).

G: a mapping MLP turns z into a style w; synthesis starts from a learned
constant (4x4, or 7x7 for 28 px) and at each side runs modulated/demodulated
3x3 convolutions, each followed by per-pixel noise with a learned per-channel
strength, and sums toRGB outputs across sides (skip architecture). In training
each example may take its styles from a second z after a random layer (style
mixing, probability `model.style_mixing`). Output is linear (no tanh), as in
StyleGAN. D is the resnet D with minibatch std and no spectral norm (pair it
with the r1 loss or add tricks.spectral_norm).
Left out: truncation, path-length regularisation, blur filters, lazy R1.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from gan_tui.models.conditional import labels_or_default, one_hot
from gan_tui.models.resnet import ResNetDiscriminator
from gan_tui.models.shapes import check_image_shape, seed_and_stages

MAPPING_LAYERS = 4
SQRT2 = math.sqrt(2)


def normalize(x: torch.Tensor) -> torch.Tensor:
    """Unit second moment per example (StyleGAN's normalisation of z and of label embeddings)."""
    return x * torch.rsqrt(x.square().mean(1, keepdim=True) + 1e-8)


class EqualLinear(nn.Module):
    """Linear layer with equalised learning rate: weights are stored at unit scale and scaled
    at run time, so Adam moves every layer at the same pace; lr_mul < 1 slows the mapping net."""

    def __init__(self, cin: int, cout: int, bias_init: float = 0.0, lr_mul: float = 1.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin) / lr_mul)
        self.bias = nn.Parameter(torch.full((cout,), bias_init / lr_mul))
        self.weight_gain, self.lr_mul = lr_mul / math.sqrt(cin), lr_mul

    def forward(self, x):
        return F.linear(x, self.weight * self.weight_gain, self.bias * self.lr_mul)


class MappingNetwork(nn.Module):
    def __init__(self, latent_dim: int, w_dim: int, num_classes: int = 0, layers: int = MAPPING_LAYERS):
        super().__init__()
        self.num_classes = num_classes
        self.embed = EqualLinear(num_classes, w_dim) if num_classes else None  # StyleGAN2-ADA's conditioning
        cin = latent_dim + (w_dim if num_classes else 0)
        self.layers = nn.ModuleList(EqualLinear(cin if i == 0 else w_dim, w_dim, lr_mul=0.01) for i in range(layers))

    def forward(self, z, labels=None):
        x = normalize(z)
        if self.embed is not None:
            x = torch.cat([x, normalize(self.embed(one_hot(labels, self.num_classes, z)))], 1)
        for layer in self.layers:
            x = F.leaky_relu(layer(x), 0.2) * SQRT2
        return x


class ModulatedConv2d(nn.Module):
    """Per-example weights: scale input channels by the style, then (optionally) renormalise
    each output channel to unit norm (demodulation, which replaces AdaIN)."""

    def __init__(self, cin: int, cout: int, kernel: int, w_dim: int, demodulate: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, kernel, kernel))
        self.affine = EqualLinear(w_dim, cin, bias_init=1.0)  # styles start at 1: plain convs at init
        self.weight_gain = 1 / math.sqrt(cin * kernel * kernel)
        self.demodulate = demodulate

    def forward(self, x, w):
        b, cin, h, wd = x.shape
        style = self.affine(w) * self.weight_gain
        weight = self.weight[None] * style[:, None, :, None, None]  # (B, out, in, k, k)
        if self.demodulate:
            weight = weight * torch.rsqrt(weight.square().sum((2, 3, 4), keepdim=True) + 1e-8)
        kernel = weight.shape[-1]
        # One grouped convolution runs every example with its own weights.
        out = F.conv2d(x.reshape(1, b * cin, h, wd), weight.reshape(-1, cin, kernel, kernel),
                       padding=kernel // 2, groups=b)
        return out.reshape(b, -1, *out.shape[2:])


class StyleLayer(nn.Module):
    """(upsample), modulated conv 3x3, + noise * per-channel strength, + bias, leaky ReLU."""

    def __init__(self, cin: int, cout: int, w_dim: int, side: int, upsample: bool):
        super().__init__()
        self.conv = ModulatedConv2d(cin, cout, 3, w_dim)
        self.upsample = upsample
        self.noise_strength = nn.Parameter(torch.zeros(cout))  # silent at first, as in StyleGAN
        self.bias = nn.Parameter(torch.zeros(cout))
        # eval() uses this fixed noise, so sample grids from fixed z stay steady between logs.
        self.register_buffer("fixed_noise", torch.randn(1, 1, side, side))

    def forward(self, x, w):
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        x = self.conv(x, w)
        if self.training:
            noise = torch.randn(x.shape[0], 1, *x.shape[2:], device=x.device, dtype=x.dtype)
        else:
            noise = self.fixed_noise.to(x.dtype)
        x = x + noise * self.noise_strength.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)
        return F.leaky_relu(x, 0.2) * SQRT2


class ToRGB(nn.Module):
    def __init__(self, cin: int, channels: int, w_dim: int):
        super().__init__()
        self.conv = ModulatedConv2d(cin, channels, 1, w_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x, w):
        return self.conv(x, w) + self.bias.view(1, -1, 1, 1)


class StyleGenerator(nn.Module):
    def __init__(self, latent_dim: int, width: int, channels: int, size: int, num_classes: int = 0,
                 style_mixing: float = 0.9):
        super().__init__()
        self.latent_dim, self.num_classes, self.style_mixing = latent_dim, num_classes, style_mixing
        w_dim = latent_dim
        self.mapping = MappingNetwork(latent_dim, w_dim, num_classes)
        seed, stages = seed_and_stages(size)
        self.const = nn.Parameter(torch.randn(1, width, seed, seed))
        self.layers = nn.ModuleList([StyleLayer(width, width, w_dim, seed, upsample=False)])
        self.to_rgb = nn.ModuleList([ToRGB(width, channels, w_dim)])
        for i in range(1, stages + 1):
            side = seed * 2 ** i
            self.layers.extend([StyleLayer(width, width, w_dim, side, upsample=True),
                                StyleLayer(width, width, w_dim, side, upsample=False)])
            self.to_rgb.append(ToRGB(width, channels, w_dim))
        self.num_ws = len(self.layers) + len(self.to_rgb)  # every modulated layer takes its own w

    def forward(self, z, labels=None):
        if self.num_classes:
            labels = labels_or_default(labels, z.shape[0], self.num_classes, z.device)
        ws = self.mapping(z, labels)[:, None].expand(-1, self.num_ws, -1)
        if self.training and self.style_mixing > 0:
            ws = self._mix(ws, z, labels)
        x = self.const.expand(z.shape[0], -1, -1, -1)
        x = self.layers[0](x, ws[:, 0])
        image = self.to_rgb[0](x, ws[:, 1])
        for stage in range(1, len(self.to_rgb)):
            first = 3 * stage - 1  # ws used per stage: conv, conv, toRGB
            x = self.layers[2 * stage - 1](x, ws[:, first])
            x = self.layers[2 * stage](x, ws[:, first + 1])
            image = F.interpolate(image, scale_factor=2, mode="bilinear", align_corners=False)
            image = image + self.to_rgb[stage](x, ws[:, first + 2])
        return image

    def _mix(self, ws, z, labels):
        """With probability style_mixing, an example takes the styles of a second z from a random
        layer on, so G cannot assume neighbouring layers' styles are correlated. Decided on the
        device: no host sync."""
        b, device = z.shape[0], z.device
        second = self.mapping(torch.randn_like(z), labels)
        cutoff = torch.randint(1, self.num_ws, (b, 1), device=device)
        cutoff = torch.where(torch.rand(b, 1, device=device) < self.style_mixing, cutoff, self.num_ws)
        use_second = torch.arange(self.num_ws, device=device)[None] >= cutoff  # (B, num_ws)
        return torch.where(use_second[..., None], second[:, None], ws)


def build_stylegan(settings, data_shape, num_classes: int = 0, minibatch_std: int = 0, source="profile",
                   minibatch_disc: tuple[int, int] | None = None):
    channels, size = check_image_shape(data_shape, "stylegan", source)
    cond = settings.conditioning
    generator = StyleGenerator(settings.latent_dim, settings.g_width, channels, size,
                               num_classes if cond != "none" else 0, settings.style_mixing)
    discriminator = ResNetDiscriminator(settings.d_width, channels, size, num_classes, cond,
                                        minibatch_std=minibatch_std or 4, minibatch_disc=minibatch_disc)
    return generator, discriminator
