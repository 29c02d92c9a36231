"""Dataset registry: a profile's `data.name` resolves here.

Every dataset lives on the training device: toy mixtures are sampled there,
image sets are stored there as uint8 and batches are index gathers.
"""

from gan_tui.data.base import Dataset, ImageDataset, ToyMixture
from gan_tui.data.folder import load_folder
from gan_tui.data.idx import load_fashion_mnist, load_mnist
from gan_tui.data.toy import grid25, ring8

DATASETS = {
    "ring8": ring8,
    "grid25": grid25,
    "fashion-mnist": load_fashion_mnist,
    "mnist": load_mnist,
    "folder": load_folder,
}


def load_dataset(settings, device, source: str = "profile", data_path: str | None = None) -> Dataset:
    """Build the dataset a profile's [data] table asks for, on `device`.

    `data_path` (the `--data` option) wins over the profile's `data.path`.
    """
    loader = DATASETS[settings.name]
    return loader(settings, device, source=source, path=data_path or settings.path)


__all__ = ["DATASETS", "Dataset", "ImageDataset", "ToyMixture", "load_dataset"]
