"""The domain evaluators: shipped weights and their accuracy, and the training code on a tiny subset."""

import pytest
import torch

from conftest import FASHION, MNIST, needs_fashion, needs_mnist
from gan_tui.evaluator import SHIPPED_DIR, find_weights, load_evaluator, read_info
from gan_tui.evaluator.model import DomainCNN, to_evaluator_input
from gan_tui.evaluator.train import accuracy, train_evaluator

SHIPPED = SHIPPED_DIR / "fashion-mnist.safetensors"
# dataset -> (where the tests find its IDX files, first class name, the README's accuracy floor)
DATASETS = {"fashion-mnist": (needs_fashion, FASHION, "T-shirt/top", 0.90),
            "mnist": (needs_mnist, MNIST, "0", 0.98)}


@pytest.mark.parametrize("dataset", DATASETS)
def test_shipped_weights_are_small_and_described(dataset):
    shipped = SHIPPED_DIR / f"{dataset}.safetensors"
    assert shipped.is_file()
    assert shipped.stat().st_size < 3 * 2**20  # "a few MB at most"
    info = read_info(shipped)
    _, _, first_class, floor = DATASETS[dataset]
    assert info["dataset"] == dataset and info["num_classes"] == 10 and info["classes"][0] == first_class
    assert info["test_accuracy"] >= floor and info["test_images"] == 10_000 and info["train_images"] == 60_000
    assert f"gan-tui evaluator train {dataset}" in info["command"]
    assert find_weights(dataset) == shipped  # no user weights in the isolated test environment


@pytest.mark.parametrize("dataset", [pytest.param(name, marks=needs) for name, (needs, *_) in DATASETS.items()])
def test_shipped_weights_reach_their_accuracy_on_t10k(dataset):
    from gan_tui.data.idx import load_idx_split

    _, folder, _, floor = DATASETS[dataset]
    images, labels = load_idx_split(dataset, str(folder), "test", "t10k")
    model, info = load_evaluator(SHIPPED_DIR / f"{dataset}.safetensors")
    acc = accuracy(model, to_evaluator_input(torch.from_numpy(images.copy())), torch.from_numpy(labels))
    assert acc >= floor
    assert acc == pytest.approx(info["test_accuracy"], abs=0.003)  # what the metadata (and README) says


def test_model_shapes_and_input_conversion():
    model = DomainCNN().eval()
    assert sum(p.numel() for p in model.parameters()) < 500_000
    rgb32 = torch.rand(5, 3, 32, 32) * 2 - 1  # floats in [-1, 1], colour, 32 px
    x = to_evaluator_input(rgb32)
    assert x.shape == (5, 1, 28, 28) and x.min() >= -1 and x.max() <= 1
    grey = torch.randint(0, 256, (4, 1, 28, 28), dtype=torch.uint8)
    assert torch.equal(to_evaluator_input(grey), grey.float() / 127.5 - 1)
    feats, logits = model.features_and_logits(x)
    assert feats.shape == (5, 128) and logits.shape == (5, 10) and (feats >= 0).all()


@needs_fashion
def test_training_code_on_a_tiny_subset_is_seeded(tmp_path):
    kwargs = dict(epochs=1, seed=3, limit=256, test_limit=200, data_path=str(FASHION), batch_size=64)
    info = train_evaluator("fashion-mnist", out=tmp_path / "a.safetensors", **kwargs)
    train_evaluator("fashion-mnist", out=tmp_path / "b.safetensors", **kwargs)
    assert info["train_images"] == 256 and info["test_images"] == 200 and 0 <= info["test_accuracy"] <= 1
    a, info_a = load_evaluator(tmp_path / "a.safetensors")
    b, _ = load_evaluator(tmp_path / "b.safetensors")
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(p, q), name
    assert info_a["seed"] == 3 and info_a["epochs"] == 1 and info_a["classes"][0] == "T-shirt/top"


def test_unknown_dataset_and_bad_weights_are_one_sentence(tmp_path):
    from gan_tui.errors import BadInput

    with pytest.raises(BadInput, match="no evaluator recipe"):
        train_evaluator("cifar10")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not weights")
    with pytest.raises(BadInput, match="not domain evaluator weights"):
        load_evaluator(bad)


def test_user_weights_shadow_shipped_ones(tmp_path, monkeypatch):
    import gan_tui.evaluator as evaluator

    monkeypatch.setattr(evaluator, "user_weights_dir", lambda: tmp_path)
    assert find_weights("mnist") == SHIPPED_DIR / "mnist.safetensors"
    assert find_weights("cifar10") is None
    (tmp_path / "mnist.safetensors").write_bytes(SHIPPED.read_bytes())
    assert find_weights("mnist") == tmp_path / "mnist.safetensors"
