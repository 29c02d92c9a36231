"""Architecture registry: a profile's `model.architecture` resolves here.

A builder takes (model settings, data shape) and returns (G, D). Generators
map noise (B, latent_dim) to a batch shaped like the data; discriminators map
a batch to one logit (or critic score) per example.
"""

from gan_tui.models.dcgan import build_dcgan
from gan_tui.models.mlp import build_mlp

ARCHITECTURES = {
    "mlp": build_mlp,
    "dcgan": build_dcgan,
}


def build_models(settings, data_shape: tuple[int, ...], source: str = "profile"):
    return ARCHITECTURES[settings.architecture](settings, data_shape, source=source)
