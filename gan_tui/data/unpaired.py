"""Two image domains for unpaired translation (CycleGAN), picked from a labelled image set.

`data.domain_a` and `data.domain_b` name two classes of the profile's dataset
(a class name, case and punctuation ignored, or an index): Fashion-MNIST's
"sneaker" (7) and "ankle-boot" (9), say. Both domains stay on the device as
uint8, as every image set does; `sample_pair` draws independent batches from
each, so no image of A is ever paired with one of B.
"""

import re

import numpy as np
import torch

from gan_tui.data.base import ImageDataset, fit_images
from gan_tui.errors import BadInput
from gan_tui.schema import did_you_mean


def slug(name: str) -> str:
    """"Ankle boot" -> "ankle-boot", "T-shirt/top" -> "t-shirt-top": how the keys spell class names."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def resolve_class(value: str, class_names: list[str], dataset: str, where: str) -> int:
    """The class index `value` names (a class name, case and punctuation ignored, or an index), else a
    BadInput that starts with `where` (the key or option that gave it)."""
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        index = int(text)
        if 0 <= index < len(class_names):
            return index
        raise BadInput(f'{where} is {index}, but dataset "{dataset}" has classes 0 to '
                       f'{len(class_names) - 1}; use one of those or a class name such as "{slug(class_names[0])}".')
    wanted = slug(text).replace("-", "")
    for index, name in enumerate(class_names):
        plain = slug(name).replace("-", "")
        if wanted in (plain, plain + "s", plain + "es"):
            return index
    hint = did_you_mean(slug(text), [slug(n) for n in class_names])
    raise BadInput(f'{where} names "{value}", which is not a class of dataset "{dataset}"; {hint} '
                   "Use a class name or index.")


def domain_indices(settings, class_names: list[str], dataset: str, source: str) -> tuple[int, int]:
    a = resolve_class(settings.domain_a, class_names, dataset, f'{source}: key "data.domain_a"')
    b = resolve_class(settings.domain_b, class_names, dataset, f'{source}: key "data.domain_b"')
    if a == b:
        raise BadInput(f'{source}: keys "data.domain_a" and "data.domain_b" both name class "{class_names[a]}"; '
                       "pick two different classes.")
    return a, b


class UnpairedImages(ImageDataset):
    """The images of two classes, A first then B, labelled 0 (A) and 1 (B); `a` and `b` are views."""

    def __init__(self, name: str, images_a: torch.Tensor, images_b: torch.Tensor, domain_names: tuple[str, str],
                 domain_classes: tuple[int, int], dataset_classes: list[str]):
        images = torch.cat([images_a, images_b])
        labels = torch.cat([torch.zeros(len(images_a), dtype=torch.long, device=images.device),
                            torch.ones(len(images_b), dtype=torch.long, device=images.device)])
        super().__init__(name, images, labels, list(domain_names))
        self.a, self.b = images[: len(images_a)], images[len(images_a):]
        self.domain_names = domain_names
        self.domain_classes = domain_classes  # the two classes' indices in the source dataset
        self.dataset_classes = dataset_classes

    @staticmethod
    def _to_float(batch: torch.Tensor) -> torch.Tensor:
        return batch.float().div_(127.5).sub_(1.0)

    def sample_pair(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Independent batches of A and of B, in the networks' [-1, 1] range."""
        device = self.images.device
        ia = torch.randint(len(self.a), (batch_size,), generator=generator, device=device)
        ib = torch.randint(len(self.b), (batch_size,), generator=generator, device=device)
        return self._to_float(self.a[ia]), self._to_float(self.b[ib])

    def first(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The first n images of each domain (fewer where a domain is smaller), in [-1, 1]."""
        return self._to_float(self.a[:n]), self._to_float(self.b[:n])

    def shard(self, rank: int, size: int) -> "UnpairedImages":
        """Every size-th image of each domain from `rank` on (torchrun)."""
        return UnpairedImages(self.name, self.a[rank::size].contiguous(), self.b[rank::size].contiguous(),
                              self.domain_names, self.domain_classes, self.dataset_classes)

    def describe(self) -> str:
        c, h, w = self.shape
        return (f"{self.name}: {len(self.a)} {self.domain_names[0]} (A) and {len(self.b)} {self.domain_names[1]} "
                f"(B) images of {c}x{h}x{w}, unpaired")


def unpaired_domains(dataset, settings, source: str = "profile") -> UnpairedImages:
    """The two domains the profile's data.domain_a / data.domain_b name, out of a loaded dataset."""
    if dataset.kind != "images" or getattr(dataset, "labels", None) is None or not dataset.class_names:
        what = "2D points" if dataset.kind == "points" else "images without class labels"
        raise BadInput(f'{source}: "model.architecture" = "cyclegan" picks its two domains from the classes of a '
                       f'labelled image set, but dataset "{settings.name}" holds {what}; set "data.name" to '
                       'fashion-mnist, mnist, or a folder with one sub-folder per class.')
    names = dataset.class_names
    a, b = domain_indices(settings, names, settings.name, source)
    images = []
    for index, key in ((a, "data.domain_a"), (b, "data.domain_b")):
        chosen = dataset.images[dataset.labels == index]
        if not len(chosen):
            raise BadInput(f'{source}: no "{names[index]}" images (key "{key}") among the first {settings.limit} '
                           'examples; raise "data.limit" or set it to 0.')
        images.append(chosen)
    return UnpairedImages(settings.name, images[0], images[1], (names[a], names[b]), (a, b), list(names))


def domain_test_images(settings, classes: tuple[int, int], n: int, data_path: str | None = None,
                       source: str = "evaluation") -> tuple[torch.Tensor, torch.Tensor, str]:
    """Up to n uint8 images of each domain from the test split (t10k) on the CPU, sized as the
    profile's data; (a, b, split). Sets without a test split give their training images."""
    from gan_tui.data.idx import IDX_SETS, load_idx_split

    if settings.name in IDX_SETS:
        try:
            images, labels = load_idx_split(settings.name, data_path or settings.path, source, split="t10k")
        except BadInput:
            images = None
        if images is not None:
            out = []
            for index in classes:
                chosen = np.ascontiguousarray(images[labels == index][:n])
                out.append(fit_images(torch.from_numpy(chosen), settings.image_size, settings.channels))
            return out[0], out[1], "t10k"
    from gan_tui.data import load_dataset

    full = load_dataset(settings, torch.device("cpu"), source=source, data_path=data_path)
    domains = unpaired_domains(full, settings, source)
    return domains.a[:n].clone(), domains.b[:n].clone(), "train"
