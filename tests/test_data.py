import gzip

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import needs_fashion
from gan_tui.data import load_dataset
from gan_tui import paths
from gan_tui.data.idx import find_idx_dir, read_idx
from gan_tui.errors import BadInput
from gan_tui.profile import DataSettings

CPU = torch.device("cpu")


def write_idx(path, array: np.ndarray, compress: bool = False):
    codes = {np.dtype(np.uint8): 0x08}
    header = bytes([0, 0, codes[array.dtype], array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    data = header + array.tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def fake_mnist(folder, n=20, compress=False, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    write_idx(folder / "train-images-idx3-ubyte", images, compress)
    write_idx(folder / "train-labels-idx1-ubyte", labels, compress)
    return images, labels


@pytest.mark.parametrize("name, modes, std, spacing", [("ring8", 8, 0.02, None), ("grid25", 25, 0.05, 2.0)])
def test_toy_mixtures_match_the_literature(name, modes, std, spacing):
    data = load_dataset(DataSettings(name=name), CPU)
    assert data.kind == "points" and data.centres.shape == (modes, 2) and data.std == std
    if name == "ring8":
        assert torch.allclose(data.centres.norm(dim=1), torch.full((8,), 2.0))
    else:
        assert sorted(set(data.centres[:, 0].tolist())) == [-4.0, -2.0, 0.0, 2.0, 4.0]
    x, mode = data.sample(20000, torch.Generator().manual_seed(0))
    offsets = x - data.centres[mode]
    assert abs(offsets.std().item() - std) < 0.1 * std
    assert torch.bincount(mode, minlength=modes).min() > 20000 / modes * 0.8


def test_idx_reader_reads_plain_and_gzip(tmp_path):
    images, labels = fake_mnist(tmp_path / "plain")
    assert np.array_equal(read_idx(tmp_path / "plain" / "train-images-idx3-ubyte"), images)
    images, labels = fake_mnist(tmp_path / "gz", compress=True, seed=1)
    assert np.array_equal(read_idx(tmp_path / "gz" / "train-labels-idx1-ubyte.gz"), labels)


def test_truncated_idx_is_named(tmp_path):
    fake_mnist(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(BadInput, match=f"^{path}: truncated"):
        read_idx(path)


def test_search_order_profile_path_then_env(tmp_path, monkeypatch):
    fake_mnist(tmp_path / "given")
    fake_mnist(tmp_path / "env" / "mnist")
    monkeypatch.setenv("GAN_TUI_DATA", str(tmp_path / "env"))
    assert find_idx_dir("mnist", str(tmp_path / "given"), "p") == tmp_path / "given"
    assert find_idx_dir("mnist", None, "p") == tmp_path / "env" / "mnist"


@pytest.mark.parametrize("how", ["--data", "GAN_TUI_DATA"])
def test_a_folder_of_both_datasets_gives_each_its_own_files(tmp_path, monkeypatch, how):
    """Fashion-MNIST's files in the folder itself and MNIST's in its mnist/ folder (the benchmarks' .data
    layout): the files at the top are not MNIST's."""
    fake_mnist(tmp_path / "both")
    fake_mnist(tmp_path / "both" / "mnist", seed=1)
    path = str(tmp_path / "both") if how == "--data" else None
    if how == "GAN_TUI_DATA":
        monkeypatch.setenv("GAN_TUI_DATA", str(tmp_path / "both"))
    assert find_idx_dir("mnist", path, "p") == tmp_path / "both" / "mnist"
    assert find_idx_dir("fashion-mnist", path, "p") == tmp_path / "both"


def test_a_named_folder_is_the_only_place_looked_in(tmp_path, monkeypatch):
    fake_mnist(tmp_path / "env" / "mnist")
    monkeypatch.setenv("GAN_TUI_DATA", str(tmp_path / "env"))  # the data is there, but not where the user said
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInput) as info:
        find_idx_dir("mnist", str(tmp_path / "empty"), "my.toml")
    assert str(info.value) == (
        f'my.toml: dataset "mnist" is not in "{tmp_path / "empty"}" (named by data.path or --data): it holds no '
        "train-images-idx3-ubyte and train-labels-idx1-ubyte (.gz or not); point it at the folder that holds them, "
        f"or drop it to search {tmp_path / 'env' / 'mnist'}, {tmp_path / 'env'}, /usr/share/datasets/mnist, "
        f"{paths.user_data_dir() / 'datasets' / 'mnist'}, {paths.user_data_dir() / 'datasets' / 'MNIST' / 'raw'}.")
    # A folder holding the dataset's own folder, or torchvision's layout, is found.
    assert find_idx_dir("mnist", str(tmp_path / "env"), "p") == tmp_path / "env" / "mnist"
    fake_mnist(tmp_path / "tv" / "MNIST" / "raw")
    assert find_idx_dir("mnist", str(tmp_path / "tv"), "p") == tmp_path / "tv" / "MNIST" / "raw"


def test_missing_dataset_lists_places_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_TUI_DATA", str(tmp_path / "nothing"))
    with pytest.raises(BadInput) as info:
        load_dataset(DataSettings(name="mnist"), CPU, source="my.toml")
    message = str(info.value)
    assert message.startswith('my.toml: dataset "mnist" (key "data.name") not found in ')
    assert str(tmp_path / "nothing") in message and "/usr/share/datasets/mnist" in message
    assert "--data" in message


def test_mnist_from_a_folder_resized_on_the_device_as_uint8(tmp_path):
    images, labels = fake_mnist(tmp_path / "m", n=30)
    data = load_dataset(DataSettings(name="mnist", image_size=32, limit=25), CPU, data_path=str(tmp_path / "m"))
    assert data.images.dtype == torch.uint8 and data.images.shape == (25, 1, 32, 32)
    assert data.labels.tolist() == labels[:25].tolist()
    batch, batch_labels = data.sample(8, torch.Generator().manual_seed(0))
    assert batch.dtype == torch.float32 and batch.min() >= -1 and batch.max() <= 1
    assert batch_labels.shape == (8,)


@needs_fashion
def test_fashion_mnist_from_debian():
    data = load_dataset(DataSettings(name="fashion-mnist", limit=1000), CPU)
    assert data.images.shape == (1000, 1, 28, 28) and data.num_classes == 10
    assert data.class_names[9] == "Ankle boot"
    assert 60 < data.images.float().mean().item() < 90  # Fashion-MNIST's mean pixel is about 73


def test_image_folder_with_class_subfolders(tmp_path):
    for label, colour in (("cats", (255, 0, 0)), ("dogs", (0, 0, 255))):
        (tmp_path / label).mkdir()
        for i in range(3):
            Image.new("RGB", (40, 30), colour).save(tmp_path / label / f"{i}.png")
    data = load_dataset(DataSettings(name="folder", image_size=16), CPU, data_path=str(tmp_path))
    assert data.images.shape == (6, 3, 16, 16) and data.class_names == ["cats", "dogs"]
    assert data.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert data.images[0, 0].float().mean() == 255 and data.images[3, 2].float().mean() == 255


def test_image_folder_errors(tmp_path):
    with pytest.raises(BadInput, match='needs key "data.path"'):
        load_dataset(DataSettings(name="folder"), CPU)
    with pytest.raises(BadInput, match="holds no images"):
        load_dataset(DataSettings(name="folder"), CPU, data_path=str(tmp_path))
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(BadInput, match="broken.png: not a readable image"):
        load_dataset(DataSettings(name="folder"), CPU, data_path=str(tmp_path))
