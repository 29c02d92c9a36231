"""The domain evaluator: shipped weights and their accuracy, and the training code on a tiny subset."""

import pytest
import torch

from conftest import FASHION, needs_fashion
from gan_tui.evaluator import SHIPPED_DIR, find_weights, load_evaluator, read_info
from gan_tui.evaluator.model import DomainCNN, to_evaluator_input
from gan_tui.evaluator.train import accuracy, train_evaluator

SHIPPED = SHIPPED_DIR / "fashion-mnist.safetensors"


def test_shipped_weights_are_small_and_described():
    assert SHIPPED.is_file()
    assert SHIPPED.stat().st_size < 3 * 2**20  # "a few MB at most"
    info = read_info(SHIPPED)
    assert info["dataset"] == "fashion-mnist" and info["num_classes"] == 10 and len(info["classes"]) == 10
    assert info["test_accuracy"] >= 0.90 and info["test_images"] == 10_000
    assert "gan-tui evaluator train fashion-mnist" in info["command"]
    assert find_weights("fashion-mnist") == SHIPPED  # no user weights in the isolated test environment


@needs_fashion
def test_shipped_weights_reach_90_percent_on_t10k():
    from gan_tui.data.idx import load_idx_split

    images, labels = load_idx_split("fashion-mnist", str(FASHION), "test", "t10k")
    model, info = load_evaluator(SHIPPED)
    acc = accuracy(model, to_evaluator_input(torch.from_numpy(images.copy())), torch.from_numpy(labels))
    assert acc >= 0.90
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
    assert find_weights("mnist") is None  # not shipped yet
    (tmp_path / "mnist.safetensors").write_bytes(SHIPPED.read_bytes())
    assert find_weights("mnist") == tmp_path / "mnist.safetensors"
