"""DCGAN (Radford et al. 2016) for 28, 32 and 64 px images.

At 64 px these are the networks of pytorch/examples' dcgan: a 4x4 seed
upsampled by stride-2 transposed convolutions, batch norm in both networks
except D's first layer, ReLU in G, LeakyReLU(0.2) in D, tanh output.
28 px starts from a 7x7 seed.
"""

from torch import nn

from gan_tui.errors import BadInput
from gan_tui.models.layers import MinibatchStd

SIZES = (28, 32, 64)


def _plan(size: int) -> tuple[int, int]:
    """(seed side, number of stride-2 stages) for an image side."""
    return (7, 2) if size == 28 else (4, {32: 3, 64: 4}[size])


def _init(module: nn.Module) -> None:
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class DCGANGenerator(nn.Module):
    def __init__(self, latent_dim: int, width: int, channels: int, size: int):
        super().__init__()
        self.latent_dim = latent_dim
        seed, stages = _plan(size)
        mult = 2 ** (stages - 1)
        layers = [nn.ConvTranspose2d(latent_dim, width * mult, seed, 1, 0, bias=False),
                  nn.BatchNorm2d(width * mult), nn.ReLU(True)]
        for _ in range(stages - 1):
            layers += [nn.ConvTranspose2d(width * mult, width * mult // 2, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(width * mult // 2), nn.ReLU(True)]
            mult //= 2
        layers += [nn.ConvTranspose2d(width, channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.apply(_init)

    def forward(self, z, labels=None):
        return self.net(z.view(z.shape[0], -1, 1, 1))


class DCGANDiscriminator(nn.Module):
    def __init__(self, width: int, channels: int, size: int, minibatch_std: int = 0):
        super().__init__()
        seed, stages = _plan(size)
        layers = [nn.Conv2d(channels, width, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
        mult = 1
        for _ in range(stages - 1):
            layers += [nn.Conv2d(width * mult, width * mult * 2, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(width * mult * 2), nn.LeakyReLU(0.2, inplace=True)]
            mult *= 2
        if minibatch_std:
            layers.append(MinibatchStd(minibatch_std))
        layers.append(nn.Conv2d(width * mult + (1 if minibatch_std else 0), 1, seed, 1, 0, bias=False))
        self.net = nn.Sequential(*layers)
        self.apply(_init)

    def forward(self, x, labels=None):
        return self.net(x).view(x.shape[0])


def build_dcgan(settings, data_shape, minibatch_std: int = 0, source="profile"):
    if len(data_shape) != 3 or data_shape[1] != data_shape[2] or data_shape[1] not in SIZES:
        raise BadInput(f'{source}: key "model.architecture" is "dcgan", which needs square images of '
                       f"{', '.join(map(str, SIZES))} px, but the data is {'x'.join(map(str, data_shape))}; "
                       f'set "data.image_size" to one of those.')
    channels, size = data_shape[0], data_shape[1]
    return (DCGANGenerator(settings.latent_dim, settings.g_width, channels, size),
            DCGANDiscriminator(settings.d_width, channels, size, minibatch_std))
