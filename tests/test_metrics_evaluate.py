"""evaluate_generator: the whole evaluation, on toy and image generators whose answers are known."""

import math

import pytest
import torch
from torch import nn

from conftest import FASHION, needs_fashion
from gan_tui.data.toy import RING8_STD, ring8
from gan_tui.metrics.collapse import Thresholds, detect_collapse
from gan_tui.metrics.evaluate import evaluate_generator
from gan_tui.profile import DataSettings



@pytest.fixture(autouse=True)
def isolated_eval(tmp_path, monkeypatch):
    monkeypatch.setattr("gan_tui.evaluator.user_weights_dir", lambda: tmp_path / "evaluators")


class PerfectRing(nn.Module):
    """Samples ring8 exactly: the first 8 noise numbers pick the mode, the next 2 the offset."""

    latent_dim = 16

    def __init__(self):
        super().__init__()
        self.register_buffer("centres", ring8(None, torch.device("cpu")).centres)
        self.dummy = nn.Linear(1, 1)  # a parameter, to check it is left alone

    def forward(self, z):
        return self.centres[z[:, :8].argmax(1)] + RING8_STD * z[:, 8:10]


class OneMode(PerfectRing):
    def forward(self, z):
        return self.centres[0] + RING8_STD * z[:, 8:10]


class Replay(nn.Module):
    """Hands out real images (as floats in [-1, 1]): a memorising 'generator'."""

    def __init__(self, images: torch.Tensor, collapse: bool = False):
        super().__init__()
        self.latent_dim = 8
        self.register_buffer("images", images.float() / 127.5 - 1)
        self.collapse = collapse

    def forward(self, z):
        if self.collapse:
            return self.images[:1].expand(len(z), -1, -1, -1) + 0.0 * z[:, :1, None, None]
        index = (z[:, 0].abs() * 1e6).long() % len(self.images)
        return self.images[index]


def test_toy_generator_that_samples_the_data_scores_perfectly():
    r = evaluate_generator(PerfectRing(), DataSettings(name="ring8"), n=4000, device="cpu", kid_subsets=20)
    assert r["features"] == "points" and r["labels"]["fid"] == "FID (points)"
    assert r["modes_captured"] == 8 and r["high_quality"] > 0.98
    assert r["fid"] < 1e-2 and abs(r["kid_mean"]) < r["kid_std"]
    assert r["precision"] > 0.9 and r["recall"] > 0.9 and r["coverage"] > 0.9
    assert r["diversity"] == pytest.approx(1.0, abs=0.05)
    assert "is_mean" not in r and r["seconds"] > 0 and r["notes"] == []


def test_one_mode_generator_is_caught():
    r = evaluate_generator(OneMode(), DataSettings(name="ring8"), n=2000, device="cpu", kid_subsets=10)
    assert r["modes_captured"] == 1 and r["diversity"] < 0.05 and r["recall"] < 0.2 and r["fid"] > 1
    alarms = detect_collapse([(s, r) for s in (100, 200, 300)], thresholds=Thresholds(warmup_steps=0))
    assert {a.rule for a in alarms} == {"diversity", "few_modes"}


def test_the_generator_and_the_trainers_random_state_are_left_alone():
    g = PerfectRing().train()
    before = {k: v.clone() for k, v in g.state_dict().items()}
    rng_state = torch.get_rng_state()
    evaluate_generator(g, DataSettings(name="ring8"), n=200, device="cpu", kid_subsets=2)
    assert g.training and all(p.requires_grad for p in g.parameters())
    assert all(torch.equal(before[k], v) for k, v in g.state_dict().items())
    assert torch.equal(torch.get_rng_state(), rng_state)


def test_same_seed_same_numbers():
    a = evaluate_generator(PerfectRing(), DataSettings(name="ring8"), n=500, kid_subsets=5, seed=3)
    b = evaluate_generator(PerfectRing(), DataSettings(name="ring8"), n=500, kid_subsets=5, seed=3)
    assert {k: v for k, v in a.items() if k != "seconds"} == {k: v for k, v in b.items() if k != "seconds"}


class ConditionalReplay(nn.Module):
    """A conditional 'generator' that hands out real images of the class it is asked for, or,
    with ignore_labels, of class 0 whatever it is asked."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, ignore_labels: bool = False):
        super().__init__()
        self.latent_dim, self.num_classes = 8, 10
        self.by_class = [images[labels == k].float() / 127.5 - 1 for k in range(10)]
        self.ignore_labels = ignore_labels

    def forward(self, z, labels=None):
        assert labels is not None, "evaluations ask a conditional G for classes"
        picks = (z[:, 0].abs() * 1e6).long()
        return torch.stack([self.by_class[0 if self.ignore_labels else int(k)][int(i) % 200]
                            for k, i in zip(labels, picks)])


@pytest.fixture(scope="module")
def fashion_labelled():
    from gan_tui.data.idx import load_idx_split

    if not FASHION.is_dir():
        pytest.skip("apt-get install dataset-fashion-mnist")
    images, labels = load_idx_split("fashion-mnist", str(FASHION), "test", "train")
    return torch.from_numpy(images[:3000].copy()), torch.from_numpy(labels[:3000].astype("int64"))


@pytest.fixture(scope="module")
def fashion_images(fashion_labelled):
    return fashion_labelled[0]


@needs_fashion
def test_images_real_replay_scores_well_and_a_collapsed_one_badly(fashion_images):
    settings = DataSettings(name="fashion-mnist", limit=3000, image_size=28, channels=1)
    good = evaluate_generator(Replay(fashion_images), settings, n=2000, kid_subsets=20)
    assert good["features"] == "domain" and good["labels"]["fid"] == "FID (domain)"
    assert any("FID (domain)" in note for note in good["notes"]) or good["notes"] == []  # said once a process
    assert good["reference"]["n"] == 3000 and not good["reference"]["cached"]
    assert good["fid"] < 1.0 and good["precision"] > 0.8 and good["recall"] > 0.8
    assert good["classes_covered"] == 10 and good["class_kl"] < 0.02
    # Real Fashion-MNIST scores about 5.4 on the domain IS (the classifier was trained with label smoothing).
    assert 4.5 < good["is_mean"] <= 10 and good["diversity"] == pytest.approx(1.0, abs=0.1)
    bad = evaluate_generator(Replay(fashion_images, collapse=True), settings, n=1000, kid_subsets=10)
    assert bad["reference"]["cached"]
    assert bad["fid"] > 50 * max(good["fid"], 0.1) and bad["classes_covered"] == 1
    assert bad["class_kl"] == pytest.approx(math.log(10), abs=0.3) and bad["near_duplicates"] == 1.0
    assert bad["diversity"] < 0.01 and len(bad["missing_classes"]) == 9 and bad["is_mean"] < 1.01


@needs_fashion
def test_images_at_another_size_are_resized_the_same_way_on_both_sides(fashion_images):
    from gan_tui.data.base import fit_images

    settings = DataSettings(name="fashion-mnist", limit=3000, image_size=32, channels=1)
    r = evaluate_generator(Replay(fit_images(fashion_images, 32, 1)), settings, n=1500, kid_subsets=10)
    assert r["fid"] < 1.5 and r["classes_covered"] == 10


@needs_fashion
def test_a_conditional_generator_is_scored_on_the_classes_it_was_asked_for(fashion_labelled):
    settings = DataSettings(name="fashion-mnist", limit=3000, image_size=28, channels=1)
    faithful = evaluate_generator(ConditionalReplay(*fashion_labelled), settings, n=1000, kid_subsets=5)
    # The classifier is right on about 93% of real test images; shirts are its weakest class.
    assert faithful["asked_class_accuracy"] > 0.85 and len(faithful["asked_class_accuracies"]) == 10
    assert min(faithful["asked_class_accuracies"]) > 0.4
    deaf = evaluate_generator(ConditionalReplay(*fashion_labelled, ignore_labels=True), settings, n=1000,
                              kid_subsets=5)
    assert deaf["asked_class_accuracy"] < 0.2  # right only when class 0 was asked
    assert deaf["asked_class_accuracies"][0] > 0.6 and max(deaf["asked_class_accuracies"][1:]) < 0.3
    unconditional = evaluate_generator(Replay(fashion_labelled[0]), settings, n=500, kid_subsets=5)
    assert "asked_class_accuracy" not in unconditional


def test_weakest_class_is_the_lowest_asked_class_accuracy_by_name():
    from gan_tui.metrics.classes import weakest_class

    result = {"asked_class_accuracies": [0.9, float("nan"), 0.5, 0.7], "class_names": ["a", "b", "c", "d"]}
    assert weakest_class(result) == ("c", 0.5)  # a class never asked for (nan) is not the weakest
    assert weakest_class({"asked_class_accuracies": [0.8, 0.6]}) == ("1", 0.6)
    assert weakest_class({"fid": 3.0}) is None and weakest_class({"asked_class_accuracies": []}) is None
