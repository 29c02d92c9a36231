"""`gan-tui eval`, `gan-tui fid` and `gan-tui evaluator train`, through the eval_app command group."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import FASHION, needs_fashion
from gan_tui.cli_eval import eval_app, load_images
from gan_tui.profile import load_profile
from gan_tui.train.session import new_session



@pytest.fixture(autouse=True)
def isolated_eval(tmp_path, monkeypatch):
    monkeypatch.setattr("gan_tui.evaluator.user_weights_dir", lambda: tmp_path / "evaluators")
    monkeypatch.setattr("gan_tui.metrics.features._said", set())  # each command is a fresh process


def invoke(*args):
    return CliRunner().invoke(eval_app, [str(a) for a in args], catch_exceptions=False)


def train_run(runs_dir, profile, overrides):
    session = new_session(load_profile(profile, overrides), runs_dir)
    session.trainer.run()
    session.close()
    return session.run_dir


@pytest.fixture(scope="module")
def ring8_run(tmp_path_factory):
    return train_run(tmp_path_factory.mktemp("runs"), "ring8", ["train.steps=100", "train.device=cpu",
                                                                "checkpoint.every=50", "log.samples_every=50"])


def test_eval_a_toy_run_as_json_and_table(ring8_run):
    runs_dir = ring8_run.parent
    result = invoke("eval", ring8_run.name, "--runs-dir", runs_dir, "--n", 2000, "--format", "json",
                    "--device", "cpu")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["step"] == 100 and data["features"] == "points" and data["n"] == 2000
    assert data["labels"]["fid"] == "FID (points)"
    for key in ("fid", "kid_mean", "kid_std", "precision", "recall", "density", "coverage", "diversity",
                "near_duplicates", "modes_captured", "modes_total", "high_quality"):
        assert key in data, key
    assert data["modes_total"] == 8 and isinstance(data["collapse"], list)
    table = invoke("eval", str(ring8_run), "--step", 50, "--n", 500, "--device", "cpu")
    assert table.exit_code == 0 and "FID (points)" in table.stdout and "modes captured" in table.stdout
    assert "at step 50" in table.stdout and "collapse check" in table.stdout


def test_eval_mistakes_are_one_sentence(ring8_run):
    runs_dir = ring8_run.parent
    for args, words in ((("eval", "no-such-run", "--runs-dir", runs_dir), "not found"),
                        (("eval", ring8_run.name, "--runs-dir", runs_dir, "--step", 7), "no checkpoint at step 7"),
                        (("eval", ring8_run.name, "--runs-dir", runs_dir, "--format", "xml"), "use table or json")):
        result = CliRunner().invoke(eval_app, [str(a) for a in args])
        assert result.exit_code == 2 and words in result.output and "Traceback" not in result.output


@needs_fashion
def test_eval_an_image_run_falls_back_to_the_domain_evaluator_and_says_so(runs_dir):
    run = train_run(runs_dir, "dcgan-fashion", ["train.steps=10", "train.device=cpu", "data.limit=600",
                                                "data.image_size=28", "model.g_width=8", "model.d_width=8",
                                                "checkpoint.every=10", "log.samples=16", "eval.every=0"])
    result = invoke("eval", run.name, "--runs-dir", runs_dir, "--n", 300, "--format", "json", "--device", "cpu")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["features"] == "domain" and data["labels"]["fid"] == "FID (domain)"
    assert data["labels"]["is"] == "IS (domain)" and 1 <= data["is_mean"] <= 10
    assert data["classes_total"] == 10 and len(data["class_histogram"]) == 10
    assert data["reference"]["n"] == 600 and not data["reference"]["cached"]
    assert "Inception-v3 weights are not available" in result.stderr
    again = invoke("eval", run.name, "--runs-dir", runs_dir, "--n", 300, "--device", "cpu")
    assert "FID (domain)" in again.stdout and "(cached)" in again.stdout


@needs_fashion
def test_eval_a_conditional_run_reports_accuracy_on_the_asked_class(runs_dir):
    run = train_run(runs_dir, "cgan-fashion", ["train.steps=10", "train.device=cpu", "data.limit=600",
                                               "model.g_width=8", "model.d_width=8", "checkpoint.every=10",
                                               "log.samples=16", "eval.every=0"])
    meta = json.loads((run / "meta.json").read_text())
    assert meta["data_shape"] == [1, 32, 32] and meta["num_classes"] == 10  # G is rebuilt from these
    result = invoke("eval", run.name, "--runs-dir", runs_dir, "--n", 200, "--format", "json", "--device", "cpu")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    per_class = data["asked_class_accuracies"]
    assert len(per_class) == 10 and all(0 <= a <= 1 for a in per_class)
    assert data["asked_class_accuracy"] == pytest.approx(sum(per_class) / 10)
    table = invoke("eval", run.name, "--runs-dir", runs_dir, "--n", 200, "--device", "cpu")
    assert "asked-class accuracy (domain)" in table.stdout
    worst = min(range(10), key=per_class.__getitem__)
    assert f"(lowest: {data['class_names'][worst]}, {per_class[worst]:.1%})" in table.stdout


@needs_fashion
def test_fid_between_folders_and_arrays(tmp_path):
    from PIL import Image

    from gan_tui.data.idx import load_idx_split

    images, _ = load_idx_split("fashion-mnist", str(FASHION), "test", "t10k")
    a, b = images[:400], images[400:800]
    np.save(tmp_path / "a.npy", a)
    np.savez(tmp_path / "b.npz", images=b[:, 0])  # (N, H, W) also works
    folder = tmp_path / "pngs"
    folder.mkdir()
    for i, image in enumerate(a):
        Image.fromarray(image[0]).save(folder / f"{i:04d}.png")
    assert np.array_equal(load_images(folder), a)

    same = invoke("fid", folder, tmp_path / "a.npy", "--features", "domain", "--format", "json")
    assert same.exit_code == 0, same.output
    assert json.loads(same.stdout)["fid"] < 1e-6 and json.loads(same.stdout)["label"] == "FID (domain)"
    other = invoke("fid", tmp_path / "a.npy", tmp_path / "b.npz", "--save-stats", tmp_path / "a-stats.npz")
    assert other.exit_code == 0 and other.stdout.startswith("FID (domain): ")
    value = float(other.stdout.split(":")[1])
    assert 0 < value < 50
    from_stats = invoke("fid", tmp_path / "a-stats.npz", tmp_path / "b.npz", "--features", "domain")
    assert float(from_stats.stdout.split(":")[1]) == pytest.approx(value, abs=1e-3)


def test_fid_without_inception_weights_or_with_bad_inputs_says_why(tmp_path):
    result = CliRunner().invoke(eval_app, ["fid", str(tmp_path), str(tmp_path), "--features", "inception"])
    assert result.exit_code == 2 and "Inception-v3 weights are not available" in result.output
    np.save(tmp_path / "floats.npy", np.zeros((4, 28, 28), np.float32))
    result = CliRunner().invoke(eval_app, ["fid", str(tmp_path / "floats.npy"), str(tmp_path / "floats.npy"),
                                           "--features", "domain"])
    assert result.exit_code == 2 and "must be uint8" in result.output
    result = CliRunner().invoke(eval_app, ["fid", str(tmp_path / "none"), str(tmp_path), "--features", "domain"])
    assert result.exit_code == 2 and "no such file" in result.output


@needs_fashion
def test_evaluator_train_command_on_a_tiny_subset(tmp_path):
    out = tmp_path / "tiny.safetensors"
    result = invoke("evaluator", "train", "fashion-mnist", "--epochs", 1, "--limit", 256, "--test-limit", 100,
                    "--out", out, "--data", FASHION)
    assert result.exit_code == 0, result.output
    assert out.is_file() and "test accuracy" in result.stdout and "epoch 1/1" in result.stderr
    result = CliRunner().invoke(eval_app, ["evaluator", "train", "mnist", "--data", str(tmp_path / "nothing")])
    assert result.exit_code == 2 and 'dataset "mnist"' in result.output


def test_eval_tables_write_counts_with_separators_and_shares_as_percentages():
    """As the dashboard writes them: step 12,000, 10,000 samples, near-duplicates 1.2%."""
    from gan_tui.cli_eval import result_rows, translation_rows

    result = {"features": "points", "step": 12000, "n": 10000, "fid": 0.0123, "kid_mean": 0.001, "kid_std": 0.0002,
              "precision": 0.9, "recall": 0.8, "density": 1.0, "coverage": 0.9, "diversity": 1.01,
              "near_duplicates": 0.012, "modes_captured": 8, "modes_total": 8, "high_quality": 0.93, "seconds": 2.0,
              "reference": {"n": 60000, "cached": True}}
    rows = dict(result_rows(result))
    assert rows["step"] == "12,000" and rows["samples"] == "10,000" and rows["reference"] == "60,000 real images (cached)"
    assert rows["near-duplicates"] == "1.2%" and rows["high-quality samples"] == "93.0%"
    translation = dict(translation_rows({
        "features": "domain", "step": 4000, "n_a": 1000, "n_b": 1000, "split": "t10k", "seconds": 1.0,
        "domains": {"a": "Sneaker", "b": "Ankle boot"}, "cycle_error_a": 0.1, "translation_accuracy_ab": 0.974,
        "labels": {"cycle_error_a": "cycle error A→B→A", "translation_accuracy_ab": "A→B classified as B"}}))
    assert translation["step"] == "4,000" and translation["test images"].startswith("1,000 of A (Sneaker), 1,000 of B")
    assert translation["A→B classified as B"] == "97.4%" and translation["cycle error A→B→A"] == "0.1000"
