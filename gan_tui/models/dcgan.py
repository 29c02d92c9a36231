"""DCGAN (Radford et al. 2016) for 28, 32 and 64 px images.

At 64 px these are the networks of pytorch/examples' dcgan: a 4x4 seed
upsampled by stride-2 transposed convolutions, batch norm in both networks
except D's first layer, ReLU in G, LeakyReLU(0.2) in D, tanh output.
28 px starts from a 7x7 seed. With `conditioning = "concat"` one-hot labels
join z and enter D as constant extra channels.
"""

from torch import nn

from gan_tui.models.conditional import append_labels, labels_or_default
from gan_tui.models.layers import MinibatchDiscrimination, MinibatchStd
from gan_tui.models.shapes import check_image_shape, seed_and_stages


def _init(module: nn.Module) -> None:
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class DCGANGenerator(nn.Module):
    def __init__(self, latent_dim: int, width: int, channels: int, size: int, num_classes: int = 0):
        super().__init__()
        self.latent_dim = latent_dim
        self.num_classes = num_classes
        seed, stages = seed_and_stages(size)
        mult = 2 ** (stages - 1)
        layers = [nn.ConvTranspose2d(latent_dim + num_classes, width * mult, seed, 1, 0, bias=False),
                  nn.BatchNorm2d(width * mult), nn.ReLU(True)]
        for _ in range(stages - 1):
            layers += [nn.ConvTranspose2d(width * mult, width * mult // 2, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(width * mult // 2), nn.ReLU(True)]
            mult //= 2
        layers += [nn.ConvTranspose2d(width, channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.apply(_init)

    def forward(self, z, labels=None):
        if self.num_classes:
            z = append_labels(z, labels_or_default(labels, z.shape[0], self.num_classes, z.device), self.num_classes)
        return self.net(z.view(z.shape[0], -1, 1, 1))


class DCGANDiscriminator(nn.Module):
    def __init__(self, width: int, channels: int, size: int, minibatch_std: int = 0, num_classes: int = 0,
                 minibatch_disc: tuple[int, int] | None = None):
        super().__init__()
        self.num_classes = num_classes
        seed, stages = seed_and_stages(size)
        layers = [nn.Conv2d(channels + num_classes, width, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
        mult = 1
        for _ in range(stages - 1):
            layers += [nn.Conv2d(width * mult, width * mult * 2, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(width * mult * 2), nn.LeakyReLU(0.2, inplace=True)]
            mult *= 2
        if minibatch_std:
            layers.append(MinibatchStd(minibatch_std))
        last_in = width * mult + (1 if minibatch_std else 0)
        if minibatch_disc:
            # The last conv covers the whole seed x seed map, so it is a linear layer on the flattened
            # features: flatten, append the B minibatch features, and make it one.
            features = last_in * seed * seed
            layers += [nn.Flatten(), MinibatchDiscrimination(features, *minibatch_disc),
                       nn.Linear(features + minibatch_disc[0], 1, bias=False)]
        else:
            layers.append(nn.Conv2d(last_in, 1, seed, 1, 0, bias=False))
        self.net = nn.Sequential(*layers)
        self.apply(_init)
        if minibatch_disc:
            nn.init.normal_(layers[-1].weight, 0.0, 0.02)

    def forward(self, x, labels=None):
        if self.num_classes:
            x = append_labels(x, labels, self.num_classes)
        return self.net(x).view(x.shape[0])


def build_dcgan(settings, data_shape, num_classes: int = 0, minibatch_std: int = 0, source="profile",
                minibatch_disc: tuple[int, int] | None = None):
    channels, size = check_image_shape(data_shape, "dcgan", source)
    classes = num_classes if settings.conditioning == "concat" else 0
    return (DCGANGenerator(settings.latent_dim, settings.g_width, channels, size, classes),
            DCGANDiscriminator(settings.d_width, channels, size, minibatch_std, classes, minibatch_disc))
