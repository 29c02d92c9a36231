"""Architecture registry: a profile's `model.architecture` resolves here.

A builder takes (model settings, data shape, number of classes, minibatch-std
group, source) and returns (G, D). `G(z, labels=None)` maps noise
(B, latent_dim) to a batch shaped like the data; `D(x, labels=None)` maps a
batch to one logit (or critic score) per example, shape (B,). Conditional
networks given no labels: G draws the classes in turn, D drops its class term.
Networks that grow (progan) have `set_step(step)`; call it before each step.
"""

from gan_tui.errors import BadInput
from gan_tui.models.cyclegan import build_cyclegan
from gan_tui.models.dcgan import build_dcgan
from gan_tui.models.layers import apply_spectral_norm
from gan_tui.models.mlp import build_mlp
from gan_tui.models.progan import build_progan
from gan_tui.models.resnet import build_resnet
from gan_tui.models.stylegan import build_stylegan

ARCHITECTURES = {
    "mlp": build_mlp,
    "dcgan": build_dcgan,
    "resnet": build_resnet,
    "stylegan": build_stylegan,
    "progan": build_progan,
    "cyclegan": build_cyclegan,  # two generators and two discriminators, each pair packed in one module
}

# model.conditioning values each architecture understands.
CONDITIONING = {
    "mlp": ("none", "concat"),
    "dcgan": ("none", "concat"),
    "resnet": ("none", "concat", "projection", "cbn"),
    "stylegan": ("none", "concat", "projection"),
    "progan": ("none",),
    "cyclegan": ("none",),
}
ATTENTION = ("resnet",)  # architectures with a SAGAN block
MINIBATCH_DISC = ("mlp", "dcgan", "resnet", "stylegan", "progan")  # D takes tricks.minibatch_discrimination
GROWING = ("progan",)  # architectures that grow


def check_model_settings(settings, num_classes: int, source: str = "profile") -> None:
    """Refuse settings the chosen architecture would silently ignore."""
    arch, cond = settings.architecture, settings.conditioning
    if arch not in ARCHITECTURES:
        raise BadInput(f'{source}: key "model.architecture" names unknown "{arch}"; known: {", ".join(sorted(ARCHITECTURES))}.')
    if cond != "none" and cond not in CONDITIONING[arch]:
        having = [name for name, kinds in CONDITIONING.items() if cond in kinds]
        raise BadInput(f'{source}: key "model.conditioning" is "{cond}", which "{arch}" does not support; set it to '
                       f'{" or ".join(CONDITIONING[arch])}, or set "model.architecture" to {" or ".join(having)}.')
    if cond != "none" and num_classes <= 0:
        raise BadInput(f'{source}: key "model.conditioning" is "{cond}", but the data has no labels; '
                       'set it to "none" or use a labelled dataset.')
    if settings.attention_res and arch not in ATTENTION:
        raise BadInput(f'{source}: key "model.attention_res" is {settings.attention_res}, but only '
                       f'{", ".join(ATTENTION)} has self-attention; set it to 0 or "model.architecture" to "resnet".')
    if settings.grow_steps and arch not in GROWING:
        raise BadInput(f'{source}: key "model.grow_steps" is {settings.grow_steps}, but progressive growing needs '
                       '"model.architecture" = "progan"; set that, or set "model.grow_steps" to 0.')


def build_models(settings, data_shape: tuple[int, ...], tricks: dict | None = None, source: str = "profile",
                 num_classes: int = 0):
    """Build (G, D) and apply the tricks that change the networks themselves."""
    tricks = tricks or {}
    check_model_settings(settings, num_classes, source)
    mbstd = tricks.get("minibatch_std")
    extra = {}
    mbdisc = tricks.get("minibatch_discrimination")
    if mbdisc:
        if settings.architecture not in MINIBATCH_DISC:
            raise BadInput(f'{source}: trick "minibatch_discrimination" needs a discriminator with a last linear '
                           f'layer, which "{settings.architecture}" does not have; remove '
                           f'[tricks.minibatch_discrimination] or set "model.architecture" to {" or ".join(MINIBATCH_DISC)}.')
        extra["minibatch_disc"] = (mbdisc.kernels, mbdisc.kernel_dim)
    generator, discriminator = ARCHITECTURES[settings.architecture](
        settings, data_shape, num_classes=num_classes, minibatch_std=mbstd.group if mbstd else 0, source=source,
        **extra)
    sn = tricks.get("spectral_norm")
    if sn and sn.d:
        apply_spectral_norm(discriminator, embeddings=True)
    if sn and sn.g:
        apply_spectral_norm(generator)
    return generator, discriminator
