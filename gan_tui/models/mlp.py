"""Fully connected G and D, for the 2D toys and for flattened images."""

import math

from torch import nn

from gan_tui.models.conditional import append_labels, labels_or_default
from gan_tui.models.layers import MinibatchDiscrimination, MinibatchStd


class MLPGenerator(nn.Module):
    def __init__(self, latent_dim: int, width: int, depth: int, out_shape: tuple[int, ...], num_classes: int = 0):
        super().__init__()
        self.latent_dim = latent_dim
        self.out_shape = out_shape
        self.num_classes = num_classes  # > 0: one-hot labels are appended to z
        layers, size = [], latent_dim + num_classes
        for _ in range(depth):
            layers += [nn.Linear(size, width), nn.ReLU()]
            size = width
        layers.append(nn.Linear(size, math.prod(out_shape)))
        if len(out_shape) == 3:  # images live in [-1, 1]
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, z, labels=None):
        if self.num_classes:
            z = append_labels(z, labels_or_default(labels, z.shape[0], self.num_classes, z.device), self.num_classes)
        return self.net(z).view(z.shape[0], *self.out_shape)


class MLPDiscriminator(nn.Module):
    def __init__(self, width: int, depth: int, in_shape: tuple[int, ...], minibatch_std: int = 0, num_classes: int = 0,
                 minibatch_disc: tuple[int, int] | None = None):
        super().__init__()
        self.num_classes = num_classes  # > 0: one-hot labels are appended to the flattened input
        self.flatten = nn.Flatten()
        layers, size = [], math.prod(in_shape) + num_classes
        for _ in range(depth):
            layers += [nn.Linear(size, width), nn.LeakyReLU(0.2)]
            size = width
        if minibatch_std:
            layers.append(MinibatchStd(minibatch_std))
            size += 1
        if minibatch_disc:  # (kernels B, kernel_dim C): B closeness-to-the-batch features join the last layer's input
            layers.append(MinibatchDiscrimination(size, *minibatch_disc))
            size += minibatch_disc[0]
        layers.append(nn.Linear(size, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x, labels=None):
        x = self.flatten(x)
        if self.num_classes:
            x = append_labels(x, labels, self.num_classes)
        return self.net(x).squeeze(1)


def build_mlp(settings, data_shape, num_classes: int = 0, minibatch_std: int = 0, source="profile",
              minibatch_disc: tuple[int, int] | None = None):
    classes = num_classes if settings.conditioning == "concat" else 0
    generator = MLPGenerator(settings.latent_dim, settings.g_width, settings.depth, data_shape, classes)
    discriminator = MLPDiscriminator(settings.d_width, settings.depth, data_shape, minibatch_std, classes,
                                     minibatch_disc)
    return generator, discriminator
