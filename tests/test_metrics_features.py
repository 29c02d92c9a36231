"""Choosing a feature extractor; Inception-v3 through torch-fidelity from a local file, loaded safely."""

import numpy as np
import pytest
import torch

import gan_tui.metrics.features as features
from gan_tui.errors import BadInput
from gan_tui.metrics.features import (INCEPTION_ENV, DomainFeatures, InceptionFeatures, PointFeatures,
                                      inception_weights_path, pick_extractor, quantize)


@pytest.fixture(autouse=True)
def isolated_eval(tmp_path, monkeypatch):
    monkeypatch.setattr("gan_tui.evaluator.user_weights_dir", lambda: tmp_path / "evaluators")
    monkeypatch.setattr(features, "_hub_file", lambda: tmp_path / "hub" / features.INCEPTION_FILE)
    monkeypatch.setattr(features, "_said", set())


@pytest.fixture(scope="module")
def inception_file(tmp_path_factory):
    """Random-init weights of the right shape (timing and plumbing only: never for real FIDs)."""
    pytest.importorskip("torch_fidelity")
    path = tmp_path_factory.mktemp("inception") / "random-inception.pth"
    torch.save(features.random_inception_state_dict(), path)
    return path


def test_toys_use_their_points():
    extractor, notes = pick_extractor("ring8", "inception")
    assert isinstance(extractor, PointFeatures) and notes == [] and extractor.fid_label == "FID (points)"
    feats, probs = extractor(torch.tensor([[1.0, 2.0]]))
    assert feats.tolist() == [[1.0, 2.0]] and probs is None


def test_auto_falls_back_to_the_domain_evaluator_and_says_so_once():
    extractor, notes = pick_extractor("fashion-mnist", "auto")
    assert isinstance(extractor, DomainFeatures) and extractor.fid_label == "FID (domain)"
    assert len(notes) == 1 and "Inception-v3 weights are not available" in notes[0] and "FID (domain)" in notes[0]
    assert pick_extractor("fashion-mnist", "auto")[1] == []  # said once per process


def test_each_dataset_gets_its_own_domain_evaluator():
    fashion, mnist = pick_extractor("fashion-mnist", "domain")[0], pick_extractor("mnist", "domain")[0]
    assert isinstance(mnist, DomainFeatures) and mnist.class_names == [str(i) for i in range(10)]
    assert fashion.class_names[0] == "T-shirt/top" and fashion.cache_id != mnist.cache_id


def test_no_extractor_at_all_is_one_sentence(tmp_path, monkeypatch):
    import gan_tui.evaluator as evaluator

    monkeypatch.setattr(evaluator, "SHIPPED_DIR", tmp_path)  # as if no MNIST weights were shipped
    with pytest.raises(BadInput, match="gan-tui evaluator train mnist"):
        pick_extractor("mnist", "auto")
    with pytest.raises(BadInput) as folder:  # no recipe for a folder of images: no command that cannot work
        pick_extractor("folder", "auto")
    assert "eval.every = 0" in str(folder.value) and "evaluator train" not in str(folder.value)
    with pytest.raises(BadInput) as domain:
        pick_extractor("folder", "domain")
    assert str(domain.value) == 'no domain evaluator for dataset "folder"; use --features inception.'
    with pytest.raises(BadInput, match="GAN_TUI_INCEPTION"):
        pick_extractor("fashion-mnist", "inception")
    with pytest.raises(BadInput, match="use auto, inception or domain"):
        pick_extractor("fashion-mnist", "clip")


def test_a_named_weights_file_that_is_missing_is_an_error_not_a_fallback(tmp_path, monkeypatch):
    monkeypatch.setenv(INCEPTION_ENV, str(tmp_path / "missing.pth"))
    with pytest.raises(BadInput, match="not a file"):
        pick_extractor("fashion-mnist", "auto")
    with pytest.raises(BadInput, match="not a file"):
        inception_weights_path(tmp_path / "also-missing.pth")


def test_offline_means_no_download(monkeypatch):
    calls = []
    monkeypatch.setattr(torch.hub, "download_url_to_file", lambda *a, **k: calls.append(a))
    assert inception_weights_path() is None and calls == []  # $GAN_TUI_OFFLINE is set for tests


def test_download_once_where_a_network_exists(tmp_path, monkeypatch):
    monkeypatch.delenv("GAN_TUI_OFFLINE")
    calls = []

    def fake_download(url, dst, hash_prefix=None, progress=True):
        calls.append((url, hash_prefix))
        open(dst, "wb").write(b"weights")

    monkeypatch.setattr(torch.hub, "download_url_to_file", fake_download)
    path = inception_weights_path()
    assert path == tmp_path / "hub" / features.INCEPTION_FILE and path.read_bytes() == b"weights"
    assert calls == [(features.INCEPTION_URL, features.INCEPTION_HASH_PREFIX)]
    assert inception_weights_path() == path and len(calls) == 1  # cached: not downloaded again


def test_inception_from_a_local_file(inception_file, monkeypatch):
    monkeypatch.setenv(INCEPTION_ENV, str(inception_file))
    extractor, notes = pick_extractor("fashion-mnist", "auto")
    assert isinstance(extractor, InceptionFeatures) and notes == [] and extractor.fid_label == "FID"
    grey = torch.randint(0, 256, (2, 1, 28, 28), dtype=torch.uint8)
    feats, probs = extractor(grey)
    assert feats.shape == (2, 2048) and probs.shape == (2, 1008)
    np.testing.assert_allclose(probs.sum(1), 1, rtol=1e-5)
    # Same images as floats in [-1, 1] give the same features (quantised the way samples are stored).
    feats2, _ = extractor(grey.float() / 127.5 - 1)
    np.testing.assert_allclose(feats, feats2, rtol=1e-4, atol=1e-5)
    assert len(extractor.weights_hash) == 16


def test_inception_weights_are_never_unpickled_freely(tmp_path):
    pytest.importorskip("torch_fidelity")

    class Payload:
        def __reduce__(self):
            return (print, ("this must never run",))

    evil = tmp_path / "evil.pth"
    torch.save({"Conv2d_1a_3x3.conv.weight": Payload()}, evil)
    with pytest.raises(BadInput, match="cannot be read as weights"):
        InceptionFeatures(evil)
    wrong = tmp_path / "wrong.pth"
    torch.save({"fc.weight": torch.zeros(3, 3)}, wrong)
    with pytest.raises(BadInput, match="not the FID Inception-v3 weights"):
        InceptionFeatures(wrong)


def test_safetensors_inception_weights(inception_file, tmp_path):
    from safetensors.torch import save_file

    state = torch.load(inception_file, weights_only=True)
    path = tmp_path / "inception.safetensors"
    save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    feats, _ = InceptionFeatures(path)(torch.zeros(1, 3, 32, 32, dtype=torch.uint8))
    assert feats.shape == (1, 2048)


def test_quantize_matches_stored_samples():
    x = torch.tensor([-1.0, -0.5, 0.0, 0.999, 1.0]).view(1, 1, 1, 5)
    assert quantize(x).flatten().tolist() == [0, 64, 128, 255, 255]
