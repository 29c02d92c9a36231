"""Evaluation commands: `gan-tui eval RUN`, `gan-tui fid A B`, `gan-tui evaluator train DATASET`.

`eval_app` is merged into the main app by gan_tui/cli.py.
"""

import json
from pathlib import Path
from typing import Optional

import numpy as np
import typer

from gan_tui import paths
from gan_tui.errors import BadInput
from gan_tui.metrics.classes import weakest_class
from gan_tui.metrics.readout import mean_and_spread
from gan_tui.store.meta import jsonable

eval_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
evaluator_app = typer.Typer(help="The domain evaluator: a small CNN that gives FID (domain) features offline.",
                            pretty_exceptions_enable=False, no_args_is_help=True)
eval_app.add_typer(evaluator_app, name="evaluator")

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _device(name: str):
    from gan_tui.train.device import pick_device

    return pick_device(name, "--device")


def _num(value, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1e-3 and value != 0 else f"{value:.{digits}f}"
    return str(value)


def _share(value) -> str:
    """A fraction as a percentage: 0.012 -> "1.2%"."""
    return f"{value:.1%}" if isinstance(value, (int, float)) and not isinstance(value, bool) else _num(value)


def result_rows(result: dict) -> list[tuple[str, str]]:
    """(label, value) lines for a table, every feature-based score labelled with its extractor."""
    labels = result.get("labels", {})
    rows = [("features", str(result.get("extractor", result.get("features"))))]
    if result.get("step") is not None:
        rows.append(("step", f"{result['step']:,}"))
    rows.append(("samples", f"{result['n']:,}"))
    rows.append((labels.get("fid", "FID"), _num(result["fid"], 3)))
    rows.append((labels.get("kid", "KID"), mean_and_spread(result["kid_mean"], result.get("kid_std"))))
    if "is_mean" in result:
        rows.append((labels.get("is", "IS"), mean_and_spread(result["is_mean"], result.get("is_std"))))
    for key in ("precision", "recall", "density", "coverage", "diversity"):
        rows.append((labels.get(key, key), _num(result[key], 3)))
    rows.append((labels.get("near_duplicates", "near-duplicates"), _share(result.get("near_duplicates"))))  # as the pane
    if "modes_captured" in result:
        rows.append(("modes captured", f"{result['modes_captured']}/{result['modes_total']}"))
        rows.append(("high-quality samples", f"{result['high_quality']:.1%}"))
    if "classes_covered" in result:
        rows.append(("classes covered (domain classifier)", f"{result['classes_covered']}/{result['classes_total']}"
                     + (f" (missing: {', '.join(result['missing_classes'])})" if result["missing_classes"] else "")))
        rows.append((labels.get("class_kl", "class KL"), _num(result["class_kl"], 3)))
    if "asked_class_accuracy" in result:  # conditional generators; the worst class says most
        weakest = weakest_class(result)
        rows.append((labels.get("asked_class_accuracy", "asked-class accuracy"),
                     f"{result['asked_class_accuracy']:.1%}" + (f" (lowest: {weakest[0]}, {weakest[1]:.1%})"
                                                                 if weakest else "")))
    alarms = result.get("collapse")
    if alarms is not None:
        rows.append(("collapse check", "; ".join(a["reason"] for a in alarms) if alarms else "no sign of collapse"))
    ref = result.get("reference")
    if ref:
        rows.append(("reference", f"{ref['n']:,} real images" + (" (cached)" if ref["cached"] else " (computed now)")))
    rows.append(("time", f"{result['seconds']:.1f} s"))
    return rows


def _print_table(rows: list[tuple[str, str]], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("metric", "value", title=title, box=None, title_justify="left")
    for label, value in rows:
        table.add_row(label, value)
    Console().print(table)


def _check_format(fmt: str) -> None:
    if fmt not in ("table", "json"):
        _fail(f'--format is "{fmt}"; use table or json.')


# ---------------------------------------------------------------------------
# gan-tui eval RUN


def data_shape(profile, data_path: str | None) -> tuple[int, ...]:
    """The shape of one example, without loading image sets whose shape the profile fixes."""
    from gan_tui.data.idx import IDX_SETS
    from gan_tui.metrics.features import TOY_DATASETS

    settings = profile.data
    if settings.name in TOY_DATASETS:
        return (2,)
    if settings.name in IDX_SETS:
        size = settings.image_size or 28
        return (settings.channels or 1, size, size)
    import torch

    from gan_tui.data import load_dataset

    return tuple(load_dataset(settings, torch.device("cpu"), source=profile.source, data_path=data_path).shape)


def data_class_names(profile, data_path: str | None = None) -> list[str]:
    """The class names of a profile's dataset ("0", "1", ... for a toy's modes); an IDX set's without its files."""
    from gan_tui.data.idx import IDX_SETS
    from gan_tui.metrics.features import TOY_DATASETS

    if profile.data.name in IDX_SETS:
        return list(IDX_SETS[profile.data.name][1])
    import torch

    from gan_tui.data import load_dataset

    if profile.data.name in TOY_DATASETS:
        return [str(i) for i in range(load_dataset(profile.data, torch.device("cpu")).num_classes)]
    return load_dataset(profile.data, torch.device("cpu"), source=profile.source, data_path=data_path).class_names


def data_classes(profile, data_path: str | None = None) -> int:
    """How many classes a conditional profile's networks were built for (0 when unconditional)."""
    return 0 if profile.model.conditioning == "none" else len(data_class_names(profile, data_path))


def load_run_generator(run_dir: Path, step: int | None, device, data_path: str | None = None, on_bad=None):
    """(profile, G with the checkpoint's weights (the EMA copy where saved), checkpoint step).

    Without `step`, the newest checkpoint that loads: `on_bad(message)` hears of each newer one
    that does not (the message names the file). The data's shape and class count come from
    meta.json where the run recorded them, else from the profile (folder datasets are read from
    `data_path` or data.path for that)."""
    from gan_tui.models import build_models
    from gan_tui.profile import load_profile
    from gan_tui.store.runs import BadRun, load_meta
    from gan_tui.train.checkpoint import checkpoint_step, latest_good_checkpoint, list_checkpoints, load_checkpoint

    try:
        meta, _ = load_meta(run_dir)
    except BadRun as exc:
        raise BadInput(f"{exc}; the run cannot be read without it.") from None

    profile = load_profile(str(run_dir / "profile.toml"))
    checkpoints = list_checkpoints(run_dir / "checkpoints")
    if not checkpoints:
        raise BadInput(f"{run_dir}: the run has no checkpoint yet; wait for one or train longer.")
    if step is None:
        found = latest_good_checkpoint(run_dir / "checkpoints", device, on_bad)
        if found is None:
            raise BadInput(f"{run_dir}: none of its checkpoints can be read ({checkpoints[-1]} is the newest); "
                           "train it again or restore them from a backup.")
        chosen, weights, _ = found
    else:
        matches = [c for c in checkpoints if checkpoint_step(c) == step]
        if not matches:
            known = ", ".join(str(checkpoint_step(c)) for c in checkpoints)
            raise BadInput(f"{run_dir}: no checkpoint at step {step}; the run keeps steps {known}.")
        chosen = matches[0]
        try:
            weights, _ = load_checkpoint(chosen, device)
        except BadInput as exc:
            others = ", ".join(str(checkpoint_step(c)) for c in checkpoints if c != chosen) or "none"
            raise BadInput(f"{exc}; pick another step (the run keeps steps {others}).") from None
    prefix = "G_ema." if any(k.startswith("G_ema.") for k in weights) else "G."
    shape = tuple(meta["data_shape"]) if meta.get("data_shape") else data_shape(profile, data_path)
    classes = meta["num_classes"] if "num_classes" in meta else data_classes(profile, data_path)
    generator, _ = build_models(profile.model, shape, profile.tricks, source=str(run_dir), num_classes=classes)
    generator.load_state_dict({k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)})
    return profile, generator.to(device), checkpoint_step(chosen)


def _warn_passed_over(message: str) -> None:
    typer.echo(f"warning: {message}; using an older checkpoint.", err=True)


def collapse_check(result: dict) -> list[dict]:
    """The collapse detector's rules applied to this one evaluation (no warm-up, no patience)."""
    from gan_tui.metrics.collapse import CollapseDetector, Thresholds

    detector = CollapseDetector(Thresholds(warmup_steps=0, patience=1))
    step = result.get("step") or 0
    return [{"rule": a.rule, "reason": a.reason.split(" since step")[0].split(" at 1 evaluations")[0]}
            for a in detector.observe_metrics(step, result)]


@eval_app.command("eval")
def eval_run(
    run: str = typer.Argument(..., help="A run id (or part of one), or a run directory."),
    step: Optional[int] = typer.Option(None, "--step", help="Evaluate this checkpoint step instead of the last."),
    n: int = typer.Option(10_000, "--n", help="Generated samples to evaluate."),
    features: str = typer.Option("auto", "--features", help="auto, inception or domain (images only)."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda or cuda:N."),
    runs_dir: Optional[Path] = typer.Option(None, "--runs-dir", help="Where run directories are [$GAN_TUI_RUNS_DIR]."),
    data: Optional[str] = typer.Option(None, "--data", help="Folder (or file) of the dataset, overriding data.path."),
    inception_weights: Optional[Path] = typer.Option(None, "--inception-weights",
                                                     help="Local FID Inception-v3 weights [$GAN_TUI_INCEPTION]."),
    seed: int = typer.Option(0, "--seed", help="Seed of the noise the samples are drawn from."),
):
    """Evaluate a saved run's last (or --step) checkpoint: FID, KID, IS, precision/recall, coverage..."""
    from gan_tui.metrics.evaluate import evaluate_generator
    from gan_tui.train.session import find_run

    _check_format(fmt)
    try:
        dev = _device(device)
        run_dir = find_run(paths.runs_dir(runs_dir), run)
        profile, generator, chosen = load_run_generator(run_dir, step, dev, data, on_bad=_warn_passed_over)
        if profile.model.architecture == "cyclegan":
            result = evaluate_cyclegan_run(profile, generator, n, dev, data, chosen)
        else:
            result = evaluate_generator(generator, profile.data, n=n, device=dev, features=features, seed=seed,
                                        inception_weights=str(inception_weights) if inception_weights else None,
                                        data_path=data, step=chosen)
    except BadInput as exc:
        _fail(str(exc))
    if profile.model.architecture == "cyclegan":
        for note in result["notes"]:
            typer.echo(f"note: {note}", err=True)
        result["run"] = run_dir.name
        if fmt == "json":
            typer.echo(json.dumps(jsonable(result), indent=2))
        else:
            _print_table(translation_rows(result), f"{run_dir.name} at step {chosen:,}")
        return
    for note in result["notes"]:
        typer.echo(f"note: {note}", err=True)
    result["run"] = run_dir.name
    result["collapse"] = collapse_check(result)
    if fmt == "json":
        typer.echo(json.dumps(jsonable(result), indent=2))
    else:
        _print_table(result_rows(result), f"{run_dir.name} at step {chosen:,}")


def evaluate_cyclegan_run(profile, generators, n: int, device, data_path: str | None, step: int) -> dict:
    """Cycle errors and translation accuracy of a CycleGAN run's generator pair on up to n test
    images of each domain (gan_tui/metrics/translation.py)."""
    from gan_tui.data.unpaired import domain_indices
    from gan_tui.metrics.translation import evaluate_translation

    settings = profile.data
    names = data_class_names(profile, data_path)
    classes = domain_indices(settings, names, settings.name, profile.source)
    return evaluate_translation(generators, settings, classes, (names[classes[0]], names[classes[1]]), n=n,
                                device=device, data_path=data_path, step=step)


def translation_rows(result: dict) -> list[tuple[str, str]]:
    """(label, value) lines for a CycleGAN evaluation."""
    domains = result["domains"]
    rows = [("features", str(result.get("extractor", result.get("features")))),
            ("step", f"{result['step']:,}" if isinstance(result.get("step"), int) else "-"),
            ("test images", f"{result['n_a']:,} of A ({domains['a']}), {result['n_b']:,} of B ({domains['b']}), "
                            f"{result['split']} split")]
    for key, label in result["labels"].items():
        value = result[key]
        rows.append((label, f"{value:.1%}" if "accuracy" in key else _num(value, 4)))
    rows.append(("time", f"{result['seconds']:.1f} s"))
    return rows


# ---------------------------------------------------------------------------
# gan-tui fid A B


def load_images(path: Path) -> np.ndarray:
    """uint8 (N, C, H, W) from a folder of images, or an .npy/.npz array of uint8 images."""
    if path.is_dir():
        from PIL import Image, UnidentifiedImageError

        files = sorted(f for f in path.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise BadInput(f"{path}: holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}); fix the path.")
        arrays, size, mode = [], None, None
        for file in files:
            try:
                with Image.open(file) as image:
                    if mode is None:
                        mode = "L" if image.mode in ("L", "1", "I", "I;16") else "RGB"
                    image = image.convert(mode)
                    size = size or image.size
                    if image.size != size:
                        image = image.resize(size, Image.Resampling.BILINEAR)
                    arrays.append(np.asarray(image))
            except (UnidentifiedImageError, OSError) as exc:
                raise BadInput(f"{file}: not a readable image ({exc}); remove or replace it.") from None
        stacked = np.stack(arrays)
        return stacked[:, None] if stacked.ndim == 3 else stacked.transpose(0, 3, 1, 2)
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:
                array = data["images"] if "images" in data.files else data[data.files[0]]
        else:
            array = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise BadInput(f"{path}: cannot be read as a numpy array ({exc.__class__.__name__}); give .npy/.npz of "
                       f"uint8 images or a folder of images.") from None
    if array.dtype != np.uint8:
        raise BadInput(f"{path}: images must be uint8 (0-255), not {array.dtype}; convert them first.")
    if array.ndim == 3:
        return array[:, None]
    if array.ndim == 4 and array.shape[1] in (1, 3):
        return array
    if array.ndim == 4 and array.shape[-1] in (1, 3, 4):
        return np.ascontiguousarray(array[..., :3].transpose(0, 3, 1, 2))
    raise BadInput(f"{path}: an array of shape {array.shape} is not a batch of images (N,H,W), (N,C,H,W) or (N,H,W,C).")


def load_stats_or_features(path: Path, extractor) -> tuple[np.ndarray, np.ndarray, int]:
    """(mu, sigma, n) of a folder, an image array, or a pytorch-fid style .npz of mu and sigma."""
    import torch

    from gan_tui.metrics.fid import feature_stats

    if not path.exists():
        raise BadInput(f"{path}: no such file or folder; check the path.")
    if path.suffix == ".npz" and path.is_file():
        with np.load(path, allow_pickle=False) as data:
            if "mu" in data.files and "sigma" in data.files:
                mu, sigma = data["mu"].astype(np.float64), data["sigma"].astype(np.float64)
                if mu.shape != (extractor.dim,):
                    raise BadInput(f"{path}: statistics of {mu.shape[0]} features, but the {extractor.kind} "
                                   f"extractor gives {extractor.dim}; use matching --features.")
                return mu, sigma, int(data["n"]) if "n" in data.files else 0
    images = load_images(path)
    if len(images) < 2:
        raise BadInput(f"{path}: FID needs at least 2 images, found {len(images)}.")
    feats, _ = extractor(torch.from_numpy(images))
    mu, sigma = feature_stats(feats)
    return mu, sigma, len(images)


@eval_app.command("fid")
def fid_command(
    a: Path = typer.Argument(..., help="A folder of images, an .npy/.npz of uint8 images, or an .npz of mu/sigma."),
    b: Path = typer.Argument(..., help="The same kinds as A."),
    features: str = typer.Option("auto", "--features", help="auto, inception or domain."),
    domain: str = typer.Option("fashion-mnist", "--domain", help="Which domain evaluator --features domain uses."),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda or cuda:N."),
    inception_weights: Optional[Path] = typer.Option(None, "--inception-weights",
                                                     help="Local FID Inception-v3 weights [$GAN_TUI_INCEPTION]."),
    save_stats: Optional[Path] = typer.Option(None, "--save-stats", help="Also write A's mu/sigma to this .npz."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
):
    """FID between two sets of images, like pytorch-fid's command (labelled FID (domain) offline)."""
    from gan_tui.metrics.features import pick_extractor
    from gan_tui.metrics.fid import frechet_distance

    _check_format(fmt)
    try:
        dev = _device(device)
        extractor, notes = pick_extractor(domain, features, dev,
                                          str(inception_weights) if inception_weights else None)
        mu1, sigma1, n1 = load_stats_or_features(a, extractor)
        mu2, sigma2, n2 = load_stats_or_features(b, extractor)
        value = frechet_distance(mu1, sigma1, mu2, sigma2)
    except BadInput as exc:
        _fail(str(exc))
    for note in notes:
        typer.echo(f"note: {note}", err=True)
    if save_stats:
        np.savez(save_stats, mu=mu1, sigma=sigma1, n=np.int64(n1), extractor=np.array(extractor.cache_id))
    if fmt == "json":
        typer.echo(json.dumps({"fid": value, "label": extractor.fid_label, "features": extractor.kind,
                               "extractor": extractor.description, "n_a": n1, "n_b": n2}))
    else:
        typer.echo(f"{extractor.fid_label}: {value:.4f}")


# ---------------------------------------------------------------------------
# gan-tui evaluator train DATASET


@evaluator_app.command("train")
def evaluator_train(
    dataset: str = typer.Argument(..., help="fashion-mnist or mnist."),
    epochs: int = typer.Option(8, "--epochs", min=1),
    seed: int = typer.Option(0, "--seed", min=0),
    out: Optional[Path] = typer.Option(None, "--out", help="Where to write the weights "
                                       "[~/.local/share/gan-tui/evaluator/DATASET.safetensors]."),
    data: Optional[str] = typer.Option(None, "--data", help="Folder holding the dataset's IDX files."),
    limit: int = typer.Option(0, "--limit", min=0, help="Train on the first N images only (for a quick try)."),
    test_limit: int = typer.Option(0, "--test-limit", min=0, help="Test on the first N t10k images only."),
):
    """Train the domain evaluator on a dataset's training split and test it on t10k (seeded)."""
    from gan_tui.evaluator.train import train_evaluator

    try:
        info = train_evaluator(dataset, epochs=epochs, seed=seed, data_path=data, limit=limit,
                               test_limit=test_limit, out=out, log=lambda line: typer.echo(line, err=True))
    except BadInput as exc:
        _fail(str(exc))
    typer.echo(f"{dataset}: test accuracy {info['test_accuracy']:.2%} after {epochs} epochs "
               f"({info['train_seconds']:.0f} s); weights in {info['path']}")
