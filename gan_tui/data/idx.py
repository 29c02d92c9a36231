"""MNIST-style IDX files (Fashion-MNIST, MNIST), found without a network.

Search order for a dataset's folder: the profile's `data.path` or `--data`,
`$GAN_TUI_DATA` (its sub-folder named after the dataset, or itself), Debian's
`/usr/share/datasets/NAME`, the user data dir, then a torchvision download into
the user data dir where a network exists (skipped when `$GAN_TUI_OFFLINE` is set).
A folder named by `data.path` or `--data` is the only place looked in: training
on other files than the ones asked for would be worse than stopping.
"""

import gzip
import math
import os
import socket
import zlib
from pathlib import Path

import numpy as np
import torch

from gan_tui import paths
from gan_tui.data.base import ImageDataset, fit_images
from gan_tui.errors import BadInput

FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
DIGIT_CLASSES = [str(i) for i in range(10)]

# name -> (torchvision class name, class names, how to get it without a network)
IDX_SETS = {
    "fashion-mnist": ("FashionMNIST", FASHION_CLASSES, "apt-get install dataset-fashion-mnist"),
    "mnist": ("MNIST", DIGIT_CLASSES,
              "download train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz from the MNIST page "
              "into ~/.local/share/gan-tui/datasets/mnist or set $GAN_TUI_DATA"),
}

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: Path) -> np.ndarray:
    """Read one IDX file (optionally gzipped) into an array; a bad file is a BadInput."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            data = fh.read()
    except (OSError, EOFError, zlib.error) as exc:  # unreadable, or a truncated/corrupt .gz
        raise BadInput(f"{path}: cannot be read as an IDX file ({exc}); replace the file.") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _DTYPES:
        raise BadInput(f"{path}: not an IDX file (bad magic number); replace the file.")
    ndim = data[3]
    header = 4 + 4 * ndim
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    dtype = np.dtype(_DTYPES[data[2]])
    expected = header + math.prod(dims) * dtype.itemsize
    if len(data) != expected:
        raise BadInput(f"{path}: truncated or padded IDX file ({len(data)} bytes, expected {expected}); replace the file.")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)


def _idx_file(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def _has_split(folder: Path, split: str) -> bool:
    return all(_idx_file(folder, f"{split}-{part}-idx{n}-ubyte") for part, n in (("images", 3), ("labels", 1)))


def candidate_dirs(name: str, path: str | None) -> list[Path]:
    tv_name = IDX_SETS[name][0]
    out: list[Path] = []
    if path:
        out.append(Path(path).expanduser())
    env = os.environ.get("GAN_TUI_DATA")
    if env:
        out += [Path(env).expanduser() / name, Path(env).expanduser()]  # its own sub-folder first, as for --data
    out.append(Path("/usr/share/datasets") / name)
    user = paths.user_data_dir() / "datasets"
    out += [user / name, user / tv_name / "raw"]
    return out


def find_idx_dir(name: str, path: str | None, source: str, split: str = "train") -> Path:
    if path:  # a folder the user named: the data is there, never quietly taken from somewhere else
        folder = Path(path).expanduser()
        # A sub-folder named after the dataset first: a folder holding both Fashion-MNIST's files and an
        # mnist/ folder means the files are not MNIST's.
        for candidate in (folder / name, folder / IDX_SETS[name][0] / "raw", folder):
            if _has_split(candidate, split):
                return candidate
        others = ", ".join(map(str, candidate_dirs(name, None)))
        raise BadInput(f'{source}: dataset "{name}" is not in "{folder}" (named by data.path or --data): it holds no '
                       f"{split}-images-idx3-ubyte and {split}-labels-idx1-ubyte (.gz or not); point it at the folder "
                       f"that holds them, or drop it to search {others}.")
    tried = candidate_dirs(name, path)
    for folder in tried:
        if _has_split(folder, split):
            return folder
        if (folder / IDX_SETS[name][0] / "raw").is_dir() and _has_split(folder / IDX_SETS[name][0] / "raw", split):
            return folder / IDX_SETS[name][0] / "raw"
    downloaded = _try_download(name)
    if downloaded and _has_split(downloaded, split):
        return downloaded
    how = IDX_SETS[name][2]
    raise BadInput(f'{source}: dataset "{name}" (key "data.name") not found in {", ".join(map(str, tried))}; '
                   f"get it with `{how}`, or set data.path (or --data) to the folder holding its IDX files.")


def _try_download(name: str) -> Path | None:
    """Download through torchvision where a network exists; None when offline."""
    if os.environ.get("GAN_TUI_OFFLINE"):
        return None
    import torchvision

    root = paths.user_data_dir() / "datasets"
    tv_name = IDX_SETS[name][0]
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(10)
    try:
        getattr(torchvision.datasets, tv_name)(str(root), train=True, download=True)
        return root / tv_name / "raw"
    except Exception:  # any network failure means "not available here"
        return None
    finally:
        socket.setdefaulttimeout(previous)


def load_idx_split(name: str, path: str | None, source: str, split: str = "train"):
    """uint8 images (N, 1, 28, 28) and int64 labels of one split, as numpy arrays."""
    folder = find_idx_dir(name, path, source, split)
    images = read_idx(_idx_file(folder, f"{split}-images-idx3-ubyte"))
    labels = read_idx(_idx_file(folder, f"{split}-labels-idx1-ubyte"))
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise BadInput(f"{folder}: the {split} images and labels do not match in count or shape; replace the files.")
    return images[:, None], labels.astype(np.int64)


def _load(name: str, settings, device, source: str, path: str | None) -> ImageDataset:
    images, labels = load_idx_split(name, path, source)
    if settings.limit:
        images, labels = images[: settings.limit], labels[: settings.limit]
    tensor = fit_images(torch.from_numpy(images.copy()).to(device), settings.image_size, settings.channels)
    return ImageDataset(name, tensor, torch.from_numpy(labels).to(device), IDX_SETS[name][1])


def load_fashion_mnist(settings, device, source="profile", path=None):
    return _load("fashion-mnist", settings, device, source, path)


def load_mnist(settings, device, source="profile", path=None):
    return _load("mnist", settings, device, source, path)
