"""Any folder of images; class sub-folders become labels."""

from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from gan_tui.data.base import ImageDataset, fit_images
from gan_tui.errors import BadInput

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
DEFAULT_SIZE = 64


def _square(image: Image.Image, size: int) -> Image.Image:
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    return image.crop((left, top, left + side, top + side)).resize((size, size), Image.Resampling.BILINEAR)


def load_folder(settings, device, source="profile", path=None):
    if not path:
        raise BadInput(f'{source}: dataset "folder" needs key "data.path" (or --data) naming a folder of images; set it.')
    root = Path(path).expanduser()
    if not root.is_dir():
        raise BadInput(f'{source}: key "data.path" is "{root}", which is not a folder; point it at a folder of images.')
    subdirs = sorted(p for p in root.iterdir() if p.is_dir())
    groups = [(d.name, sorted(f for f in d.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES)) for d in subdirs]
    groups = [g for g in groups if g[1]]
    if not groups:  # no class folders: one unlabelled set
        groups = [("", sorted(f for f in root.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES))]
    files = [(label, f) for label, (_, fs) in enumerate(groups) for f in fs]
    if not files:
        raise BadInput(f'{source}: key "data.path" is "{root}", which holds no images ({", ".join(sorted(IMAGE_SUFFIXES))}); add some or fix the path.')
    if settings.limit:
        rng = np.random.default_rng(0)  # a fair subset across classes, the same every time
        files = [files[i] for i in sorted(rng.permutation(len(files))[: settings.limit])]
    size = settings.image_size or DEFAULT_SIZE
    mode = "L" if settings.channels == 1 else "RGB"
    arrays, labels = [], []
    for label, file in files:
        try:
            with Image.open(file) as image:
                arrays.append(np.asarray(_square(image.convert(mode), size)))
        except (UnidentifiedImageError, OSError) as exc:
            raise BadInput(f"{file}: not a readable image ({exc}); remove or replace it.") from None
        labels.append(label)
    stacked = np.stack(arrays)
    stacked = stacked[:, None] if stacked.ndim == 3 else stacked.transpose(0, 3, 1, 2)
    images = fit_images(torch.from_numpy(stacked.copy()).to(device), size, settings.channels)
    labelled = len(groups) > 1 or groups[0][0] != ""
    label_tensor = torch.tensor(labels, device=device) if labelled else None
    return ImageDataset(f"folder:{root.name}", images, label_tensor, [g[0] for g in groups] if labelled else [])
