"""CycleGAN (Zhu et al. 2017): unpaired translation between two image domains A and B.

`architecture = "cyclegan"` builds two generators and two discriminators and
packs each pair into one module, as the reference implementation chains their
parameters into one optimiser each: `G.ab` / `G.ba` (the trainer's opt_g
covers both) and `D.a` / `D.b` (opt_d). `D.a` judges domain A (real A against
G_BA(B)), `D.b` domain B. Each pack's forward runs both of its networks, so a
DistributedDataParallel wrapper (torchrun) sees every parameter in one call.

G: the ResNet generator of Johnson et al. as CycleGAN uses it, for small
images: c7s1-w, d2w, d4w (two stride-2 convolutions: 28 -> 7, 32 -> 8 px),
`model.depth` residual blocks at 4w channels, u2w, uw, c7s1-C + tanh; instance
norm, reflection padding. D: a PatchGAN (C64-C128-C256 of the paper's 70x70
one, one stride-2 layer fewer): a grid of real/fake scores (5x5 on 28 px),
each seeing a 34x34 px patch. Weights start from N(0, 0.02) as in the paper.
`model.g_width` and `model.d_width` are the first layers' widths (the paper's
ngf and ndf, 64); `model.latent_dim` is not used.
"""

from torch import nn

from gan_tui.errors import BadInput

CYCLE_TRICKS = ("spectral_norm", "ema", "label_smoothing", "diffaugment", "instance_noise")
PENALTY_LOSSES = ("wgan-gp", "r1")  # their penalties are built for one D


def _init(module: nn.Module) -> None:
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)


class ResidualBlock(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(width, width, 3), nn.InstanceNorm2d(width), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(width, width, 3), nn.InstanceNorm2d(width))

    def forward(self, x):
        return x + self.body(x)


class Translator(nn.Module):
    """One direction: an image of one domain in, an image of the other out (same shape, tanh)."""

    def __init__(self, channels: int, width: int, blocks: int):
        super().__init__()
        layers = [nn.ReflectionPad2d(3), nn.Conv2d(channels, width, 7), nn.InstanceNorm2d(width), nn.ReLU(True)]
        for mult in (1, 2):  # downsample twice
            layers += [nn.Conv2d(width * mult, width * mult * 2, 3, 2, 1), nn.InstanceNorm2d(width * mult * 2),
                       nn.ReLU(True)]
        layers += [ResidualBlock(width * 4) for _ in range(blocks)]
        for mult in (4, 2):  # and back up
            layers += [nn.ConvTranspose2d(width * mult, width * mult // 2, 3, 2, 1, output_padding=1),
                       nn.InstanceNorm2d(width * mult // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(width, channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.apply(_init)

    def forward(self, x):
        return self.net(x)


class PatchDiscriminator(nn.Module):
    """A grid of scores, one per overlapping 34x34 px patch: (N, 1, h, w)."""

    def __init__(self, channels: int, width: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2, True),
            nn.Conv2d(width, width * 2, 4, 2, 1), nn.InstanceNorm2d(width * 2), nn.LeakyReLU(0.2, True),
            nn.Conv2d(width * 2, width * 4, 4, 1, 1), nn.InstanceNorm2d(width * 4), nn.LeakyReLU(0.2, True),
            nn.Conv2d(width * 4, 1, 4, 1, 1))
        self.apply(_init)

    def forward(self, x):
        return self.net(x)


class CycleGenerators(nn.Module):
    """G_AB (`ab`) and G_BA (`ba`) in one module; translate one way with `ab(x)` or `ba(x)`."""

    def __init__(self, channels: int, width: int, blocks: int):
        super().__init__()
        self.ab = Translator(channels, width, blocks)
        self.ba = Translator(channels, width, blocks)
        self.num_classes = 0

    def forward(self, a, b, identity: bool = True):
        """Everything one training step needs: (G_AB(a), G_BA(b), A -> B -> A, B -> A -> B,
        and with `identity` G_BA(a) and G_AB(b), else None twice)."""
        fake_b, fake_a = self.ab(a), self.ba(b)
        rec_a, rec_b = self.ba(fake_b), self.ab(fake_a)
        same_a, same_b = (self.ba(a), self.ab(b)) if identity else (None, None)
        return fake_b, fake_a, rec_a, rec_b, same_a, same_b


class CycleDiscriminators(nn.Module):
    """D_A (`a`) and D_B (`b`) in one module: `D(x_a, x_b)` is (D_A(x_a), D_B(x_b)), patch scores."""

    def __init__(self, channels: int, width: int):
        super().__init__()
        self.a = PatchDiscriminator(channels, width)
        self.b = PatchDiscriminator(channels, width)
        self.num_classes = 0

    def forward(self, x_a, x_b):
        return self.a(x_a), self.b(x_b)


def check_image_side(data_shape, source: str) -> tuple[int, int]:
    if len(data_shape) != 3 or data_shape[1] != data_shape[2] or data_shape[1] % 4 or data_shape[1] < 16:
        raise BadInput(f'{source}: key "model.architecture" is "cyclegan", which needs square images with a side '
                       f"divisible by 4 (16 px or more), but the data is {'x'.join(map(str, data_shape))}; "
                       f'set "data.image_size" to 28, 32 or 64.')
    return data_shape[0], data_shape[1]


def build_cyclegan(settings, data_shape, num_classes: int = 0, minibatch_std: int = 0, source="profile"):
    channels, _ = check_image_side(data_shape, source)
    return (CycleGenerators(channels, settings.g_width, settings.depth),
            CycleDiscriminators(channels, settings.d_width))


def check_profile(profile, source_of=lambda key: "profile") -> None:
    """Refuse settings CycleGAN would silently ignore, and cyclegan keys on other architectures."""
    data = profile.data
    if profile.model.architecture != "cyclegan":
        for key in ("domain_a", "domain_b"):
            if getattr(data, key):
                raise BadInput(f'{source_of("data." + key)}: key "data.{key}" is only used when '
                               f'"model.architecture" is "cyclegan"; remove it or set the architecture to "cyclegan".')
        return
    for key, which in (("domain_a", "A"), ("domain_b", "B")):
        if not getattr(data, key):
            raise BadInput(f'{source_of("model.architecture")}: "model.architecture" = "cyclegan" needs key '
                           f'"data.{key}", the class of domain {which}; set it to a class name or index, '
                           f'e.g. data.domain_a = "sneaker" and data.domain_b = "ankle-boot".')
    if profile.loss.name in PENALTY_LOSSES:
        raise BadInput(f'{source_of("loss.name")}: key "loss.name" is "{profile.loss.name}", whose penalty is built '
                       'for one discriminator and cyclegan has two; use "lsgan" (the paper\'s), "nonsat", '
                       '"hinge" or "wgan".')
    for name in profile.tricks:
        if name not in CYCLE_TRICKS:
            raise BadInput(f'{source_of("tricks." + name)}: trick "{name}" does not apply to cyclegan; remove '
                           f'[tricks.{name}] (cyclegan takes {", ".join(CYCLE_TRICKS)}).')
    if profile.train.n_critic != 1:
        raise BadInput(f'{source_of("train.n_critic")}: key "train.n_critic" is {profile.train.n_critic}, but '
                       'cyclegan updates its generators and its discriminators once a step each; set it to 1.')
