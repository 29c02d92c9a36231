"""Architecture registry: a profile's `model.architecture` resolves here.

A builder takes (model settings, data shape) and returns (G, D). Generators
map noise (B, latent_dim) to a batch shaped like the data; discriminators map
a batch to one logit (or critic score) per example.
"""

from gan_tui.models.dcgan import build_dcgan
from gan_tui.models.layers import apply_spectral_norm
from gan_tui.models.mlp import build_mlp

ARCHITECTURES = {
    "mlp": build_mlp,
    "dcgan": build_dcgan,
}


def build_models(settings, data_shape: tuple[int, ...], tricks: dict | None = None, source: str = "profile"):
    """Build (G, D) and apply the tricks that change the networks themselves."""
    tricks = tricks or {}
    mbstd = tricks.get("minibatch_std")
    generator, discriminator = ARCHITECTURES[settings.architecture](
        settings, data_shape, minibatch_std=mbstd.group if mbstd else 0, source=source)
    sn = tricks.get("spectral_norm")
    if sn and sn.d:
        apply_spectral_norm(discriminator)
    if sn and sn.g:
        apply_spectral_norm(generator)
    return generator, discriminator
