"""SNGAN ResNets (Miyato et al. 2018), with the conditional variants of
projection D (Miyato & Koyama 2018) and a small BigGAN (Brock et al. 2019).

G: linear -> seed (4x4, or 7x7 for 28 px) -> upsampling residual blocks
(BN, ReLU, nearest 2x, conv3x3, BN, ReLU, conv3x3; 1x1 shortcut) -> BN, ReLU,
conv3x3, tanh. D: downsampling residual blocks until the map is 8 px or less,
two more at that size, ReLU, global sum pooling, linear (+ projection).
Spectral norm is on every D layer; `cbn` also puts it on G, as BigGAN does.
`attention_res` puts a SAGAN block at that side in both networks.
"""

import torch
import torch.nn.functional as F
from torch import nn

from gan_tui.errors import BadInput
from gan_tui.models.attention import SelfAttention
from gan_tui.models.conditional import Projection, append_labels, batch_norm, labels_or_default
from gan_tui.models.layers import MinibatchDiscrimination, MinibatchStd, apply_spectral_norm
from gan_tui.models.shapes import check_image_shape, seed_and_stages

SHARED_EMBED_DIM = 128  # BigGAN's shared class embedding


class GBlock(nn.Module):
    def __init__(self, cin: int, cout: int, cond_dim: int = 0):
        super().__init__()
        self.bn1, self.bn2 = batch_norm(cin, cond_dim), batch_norm(cout, cond_dim)
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.shortcut = nn.Conv2d(cin, cout, 1)

    def forward(self, x, cond=None):
        h = F.interpolate(F.relu(self.bn1(x, cond)), scale_factor=2)
        h = self.conv2(F.relu(self.bn2(self.conv1(h), cond)))
        return h + self.shortcut(F.interpolate(x, scale_factor=2))


class DBlock(nn.Module):
    """`first`: SNGAN's optimised input block (no pre-activation, pool before the shortcut conv)."""

    def __init__(self, cin: int, cout: int, downsample: bool, first: bool = False):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.shortcut = nn.Conv2d(cin, cout, 1) if cin != cout or downsample else None
        self.downsample, self.first = downsample, first

    def forward(self, x):
        h = self.conv2(F.relu(self.conv1(x if self.first else F.relu(x))))
        if self.downsample:
            h = F.avg_pool2d(h, 2)
        return h + self._shortcut(x)

    def _shortcut(self, x):
        if self.shortcut is None:
            return x
        if self.first:
            return self.shortcut(F.avg_pool2d(x, 2))
        return F.avg_pool2d(self.shortcut(x), 2) if self.downsample else self.shortcut(x)


def generator_sides(size: int) -> list[int]:
    """Feature-map sides where G can hold attention: the seed, then each block's output."""
    seed, stages = seed_and_stages(size)
    return [seed * 2 ** i for i in range(stages + 1)]


def discriminator_sides(size: int) -> list[int]:
    """Output side of each D block: halve until <= 8 px, then two blocks at that side."""
    sides, side = [], size
    while side > 8 or not sides:
        side //= 2
        sides.append(side)
    return sides + [side, side]


def attention_sides(size: int) -> list[int]:
    return sorted(set(generator_sides(size)) & set(discriminator_sides(size)))


class ResNetGenerator(nn.Module):
    """conditioning: "none", "concat" (one-hot joins z) or "cbn" (shared embedding + hierarchical z)."""

    def __init__(self, latent_dim: int, width: int, channels: int, size: int, num_classes: int = 0,
                 conditioning: str = "none", attention_res: int = 0):
        super().__init__()
        self.latent_dim, self.width = latent_dim, width
        self.num_classes = num_classes if conditioning != "none" else 0
        self.conditioning = conditioning if self.num_classes else "none"
        self.seed, stages = seed_and_stages(size)
        cond_dims = [0] * stages
        seed_in = latent_dim + (self.num_classes if self.conditioning == "concat" else 0)
        self.z_chunks = None
        if self.conditioning == "cbn":
            self.shared = nn.Embedding(self.num_classes, SHARED_EMBED_DIM)
            chunk = latent_dim // (stages + 1)
            if chunk:  # hierarchical z: one chunk for the seed, one for each block's norms
                self.z_chunks = [latent_dim - stages * chunk] + [chunk] * stages
                seed_in = self.z_chunks[0]
            cond_dims = [SHARED_EMBED_DIM + chunk] * stages
        self.linear = nn.Linear(seed_in, width * self.seed * self.seed)
        self.blocks = nn.ModuleList(GBlock(width, width, cond_dims[i]) for i in range(stages))
        sides = generator_sides(size)
        self.attention_after = sides.index(attention_res) if attention_res else None  # blocks before it
        self.attention = SelfAttention(width) if attention_res else None
        self.out = nn.Sequential(nn.BatchNorm2d(width), nn.ReLU(), nn.Conv2d(width, channels, 3, 1, 1), nn.Tanh())

    def forward(self, z, labels=None):
        conds = [None] * len(self.blocks)
        if self.num_classes:
            labels = labels_or_default(labels, z.shape[0], self.num_classes, z.device)
        if self.conditioning == "concat":
            z = append_labels(z, labels, self.num_classes)
        elif self.conditioning == "cbn":
            shared = self.shared(labels)
            if self.z_chunks:
                z, *rest = z.split(self.z_chunks, 1)
                conds = [torch.cat([shared, part], 1) for part in rest]
            else:
                conds = [shared] * len(self.blocks)
        h = self.linear(z).view(z.shape[0], self.width, self.seed, self.seed)
        for done in range(len(self.blocks) + 1):
            if done == self.attention_after:
                h = self.attention(h)
            if done < len(self.blocks):
                h = self.blocks[done](h, conds[done])
        return self.out(h)


class ResNetDiscriminator(nn.Module):
    """conditioning: "none", "concat" (one-hot as extra input channels) or "projection"."""

    def __init__(self, width: int, channels: int, size: int, num_classes: int = 0, conditioning: str = "none",
                 attention_res: int = 0, minibatch_std: int = 0, minibatch_disc: tuple[int, int] | None = None):
        super().__init__()
        self.num_classes = num_classes if conditioning != "none" else 0
        self.conditioning = conditioning if self.num_classes else "none"
        sides = discriminator_sides(size)
        cin = channels + (self.num_classes if self.conditioning == "concat" else 0)
        layers, previous = [], size
        for i, side in enumerate(sides):
            last = i == len(sides) - 1
            if last and minibatch_std:  # D sees the batch's variety just before its last block
                layers.append(MinibatchStd(minibatch_std))
            block_in = cin if i == 0 else width + (1 if last and minibatch_std else 0)
            layers.append(DBlock(block_in, width, downsample=side < previous, first=i == 0))
            if side == attention_res and not any(isinstance(m, SelfAttention) for m in layers):
                layers.append(SelfAttention(width))
            previous = side
        self.blocks = nn.Sequential(*layers)
        # Minibatch discrimination: B features of closeness to the batch join the pooled features
        # before the last linear layer (the projection term keeps the pooled features alone).
        self.minibatch_disc = MinibatchDiscrimination(width, *minibatch_disc) if minibatch_disc else None
        self.linear = nn.Linear(width + (minibatch_disc[0] if minibatch_disc else 0), 1)
        self.projection = Projection(self.num_classes, width) if self.conditioning == "projection" else None

    def forward(self, x, labels=None):
        if self.conditioning == "concat":
            x = append_labels(x, labels, self.num_classes)
        features = F.relu(self.blocks(x)).sum((2, 3))  # global sum pooling
        out = self.linear(self.minibatch_disc(features) if self.minibatch_disc else features).squeeze(1)
        if self.projection is not None:
            out = out + self.projection(features, labels)
        return out


def check_attention(settings, size: int, source: str) -> None:
    res = settings.attention_res
    valid = attention_sides(size)
    if res and res not in valid:
        raise BadInput(f'{source}: key "model.attention_res" is {res}, a side the {settings.architecture} networks '
                       f"never have at {size} px; set it to one of {', '.join(map(str, valid))} (or 0 for none).")


def build_resnet(settings, data_shape, num_classes: int = 0, minibatch_std: int = 0, source="profile",
                 minibatch_disc: tuple[int, int] | None = None):
    channels, size = check_image_shape(data_shape, "resnet", source)
    check_attention(settings, size, source)
    cond = settings.conditioning
    g_cond = {"projection": "concat"}.get(cond, cond)  # projection D pairs with a concat G
    d_cond = {"cbn": "projection"}.get(cond, cond)  # BigGAN: CBN in G, projection in D
    generator = ResNetGenerator(settings.latent_dim, settings.g_width, channels, size, num_classes, g_cond,
                                settings.attention_res)
    discriminator = ResNetDiscriminator(settings.d_width, channels, size, num_classes, d_cond,
                                        settings.attention_res, minibatch_std, minibatch_disc)
    apply_spectral_norm(discriminator, embeddings=True)
    if cond == "cbn":
        apply_spectral_norm(generator)
    return generator, discriminator
