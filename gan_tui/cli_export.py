"""`gan-tui export` (sample PNGs with provenance, metrics as CSV, G's weights, TensorBoard events) and
`gan-tui sample` (new samples from a saved generator)."""

import csv
import json
import math
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Optional

import typer

from gan_tui import __version__, paths
from gan_tui.cli_compare import LABEL_KEYS
from gan_tui.cli_runs import RUNS_DIR_HELP, _fail, _warn
from gan_tui.errors import BadInput
from gan_tui.store.meta import jsonable
from gan_tui.store.runs import BadRun, find_run

export_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


# ---------------------------------------------------------------------------
# PNGs that say where they came from


def png_provenance(meta: dict, step: int | None, **extra):
    """PNG text chunks: tool, version, run id, step, profile and its digest, and `extra`."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    fields = {"Software": f"gan-tui {__version__}", "tool": "gan-tui", "version": __version__,
              "run_id": meta.get("id"), "step": step, "profile": meta.get("profile"),
              "profile_digest": meta.get("profile_digest"), **extra}
    for key, value in fields.items():
        if value is not None:
            info.add_text(key, str(value))
    return info


def _why(exc: OSError) -> str:
    """"PATH: reason" of a failed write: the path may be a parent of the one asked for."""
    reason = exc.strerror or type(exc).__name__
    return f"{exc.filename}: {reason}" if exc.filename else reason


def save_png(image, path: Path, info) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    image.save(tmp, format="PNG", pnginfo=info)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------
# gan-tui export


def _count(n: int, noun: str) -> str:
    """"1 evaluation", "3 evaluations"."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _write_csv(path: Path, header: list[str], rows) -> int:
    count = 0
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
            count += 1
    return count


def _export_scalars(db, out: Path, layout: str) -> int:
    if layout == "long":
        return _write_csv(out / "scalars.csv", ["step", "name", "value", "wall"],
                          db.execute("SELECT step, name, value, wall FROM scalars ORDER BY step, name"))
    names = [r[0] for r in db.execute("SELECT DISTINCT name FROM scalars ORDER BY name")]
    column = {name: i + 1 for i, name in enumerate(names)}

    def wide():
        row, current = None, None
        for step, name, value in db.execute("SELECT step, name, value FROM scalars ORDER BY step"):
            if step != current:
                if row is not None:
                    yield row
                row, current = [step] + [None] * len(names), step
            row[column[name]] = value
        if row is not None:
            yield row

    return _write_csv(out / "scalars.csv", ["step", *names], wide())


def _export_evaluations(evaluations: list[tuple[int, dict]], out: Path) -> int:
    """evaluations.csv (the scalar results, one row per evaluation) and evaluations.json (everything)."""
    keys = sorted({k for _, m in evaluations for k, v in m.items()
                   if isinstance(v, (int, float, str, bool)) or v is None} - {"step"})
    with open(out / "evaluations.json", "w") as fh:
        json.dump([{"step": step, **jsonable(m)} for step, m in evaluations], fh, indent=2)
    return _write_csv(out / "evaluations.csv", ["step", "fid_label", *keys],
                      ([step, m.get("labels", {}).get("fid"), *(m.get(k) for k in keys)] for step, m in evaluations))


def export_weights(run_dir: Path, meta: dict, out: Path, step: int | None) -> tuple[Path, int, bool] | None:
    """generator.safetensors from a checkpoint (the EMA copy where saved), prefixes stripped, with
    provenance in the safetensors metadata; None when the run has no checkpoint."""
    from safetensors.torch import load_file, save_file

    from gan_tui.train.checkpoint import checkpoint_step, list_checkpoints

    checkpoints = list_checkpoints(run_dir / "checkpoints")
    if step is not None:
        checkpoints = [c for c in checkpoints if checkpoint_step(c) == step]
        if not checkpoints:
            known = ", ".join(str(checkpoint_step(c)) for c in list_checkpoints(run_dir / "checkpoints")) or "none"
            raise BadInput(f"{run_dir}: no checkpoint at step {step}; the run keeps steps {known}.")
    if not checkpoints:
        return None
    for chosen in reversed(checkpoints):  # the newest that reads; each one passed over is named
        try:
            weights = load_file(str(chosen / "model.safetensors"))
            break
        except Exception as exc:  # noqa: BLE001 - any corruption: say which file
            message = f"{chosen / 'model.safetensors'}: cannot be read ({type(exc).__name__}: {exc})"
            if step is not None or chosen == checkpoints[0]:
                raise BadInput(message + ".") from None
            _warn(message)
    ema = any(k.startswith("G_ema.") for k in weights)
    prefix = "G_ema." if ema else "G."
    generator = {k[len(prefix):]: v.contiguous() for k, v in weights.items() if k.startswith(prefix)}
    target = out / "generator.safetensors"
    metadata = {"tool": "gan-tui", "version": __version__, "run_id": str(meta.get("id")),
                "step": str(checkpoint_step(chosen)), "profile": str(meta.get("profile")),
                "profile_digest": str(meta.get("profile_digest")), "weights": "ema" if ema else "generator",
                "architecture": "state_dict of gan_tui.models.build_models(profile.model, ...)[0]; see profile.toml"}
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    save_file(generator, str(tmp), metadata=metadata)
    os.replace(tmp, target)
    return target, checkpoint_step(chosen), ema


def export_tensorboard(reader, out: Path, sample_pngs: list[tuple[int, Path]]) -> Path:
    """TensorBoard event files of the scalars, throughput, evaluations and sample grids.

    ImportError when tensorboard is not installed."""
    import numpy as np
    from PIL import Image
    from torch.utils.tensorboard import SummaryWriter

    log_dir = out / "tensorboard"
    writer = SummaryWriter(log_dir=str(log_dir))
    try:
        for step, name, value, wall in reader.db.execute("SELECT step, name, value, wall FROM scalars ORDER BY step"):
            if value is not None:
                writer.add_scalar(f"train/{name}", value, step, walltime=wall)
        for step, it_s, img_s in reader.db.execute("SELECT step, it_per_s, images_per_s FROM progress ORDER BY step"):
            if img_s is not None:
                writer.add_scalar("throughput/images_per_s", img_s, step)
            if it_s is not None:
                writer.add_scalar("throughput/it_per_s", it_s, step)
        for step, metrics in reader.evaluations():
            labels = metrics.get("labels", {})
            for key, value in metrics.items():
                if key in ("step", "n", "seconds"):
                    continue
                if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                    writer.add_scalar(f"eval/{labels.get(LABEL_KEYS.get(key, key), key)}", value, step)
        for step, png in sample_pngs:
            with Image.open(png) as image:
                writer.add_image("samples", np.asarray(image.convert("RGB")), step, dataformats="HWC")
    finally:
        writer.close()
    return log_dir


@export_app.command("export")
def export(
    run: str = typer.Argument(..., help="A run id (or a unique part of one), or a run directory."),
    out: Path = typer.Option(..., "-o", "--out", help="Folder to write into (created when missing)."),
    scalars: str = typer.Option("long", "--scalars", help="scalars.csv layout: long (step,name,value,wall) or "
                                "wide (step and one column per scalar)."),
    step: Optional[int] = typer.Option(None, "--step", help="Generator weights of this checkpoint step (default: the last)."),
    tensorboard: bool = typer.Option(True, "--tensorboard/--no-tensorboard",
                                     help="Also write TensorBoard event files (needs tensorboard installed)."),
    runs_dir: Optional[Path] = typer.Option(None, "--runs-dir", help=RUNS_DIR_HELP),
):
    """Export a run: sample PNGs with provenance, metrics as CSV, G's weights, TensorBoard events."""
    from PIL import Image

    from gan_tui.store.reader import RunReader
    from gan_tui.store.runs import load_meta

    if scalars not in ("long", "wide"):
        _fail(f'--scalars is "{scalars}"; use long or wide.')
    try:
        run_dir = find_run(paths.runs_dir(runs_dir), run)
        meta, _ = load_meta(run_dir)
    except BadInput as exc:
        _fail(str(exc))
    except BadRun as exc:
        _fail(f"{exc}; the run cannot be exported without it.")
    if out.exists() and not out.is_dir():
        _fail(f"--out {out} is a file; give a folder.")
    if out.resolve() == run_dir.resolve() or run_dir.resolve() in out.resolve().parents:
        _fail(f"--out {out} is inside the run directory; export somewhere else.")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _fail(f"--out {out} cannot be made ({_why(exc)}); give a folder you can write to.")
    db_path = run_dir / "metrics.sqlite"
    try:
        reader = RunReader(run_dir)
        sample_steps = reader.sample_steps()
    except FileNotFoundError:
        _fail(f"{db_path}: missing; the run directory is incomplete, nothing to export.", 1)
    except sqlite3.DatabaseError as exc:
        _fail(f"{db_path}: cannot be read ({exc}); nothing exported.", 1)
    done = []
    try:
        # Sample grids, re-encoded with provenance chunks.
        pngs = []
        for sample_step, name in reader.db.execute("SELECT step, png FROM samples ORDER BY step"):
            source = run_dir / "samples" / name
            target = out / "samples" / name
            try:
                with Image.open(source) as image:
                    image.load()
            except OSError as exc:
                typer.echo(f"warning: {source}: cannot be read ({type(exc).__name__}); skipped.", err=True)
                continue
            save_png(image, target, png_provenance(meta, sample_step, kind="fixed-noise samples"))
            pngs.append((sample_step, target))
        done.append(f"{_count(len(pngs), 'sample PNG')} in {out / 'samples'}" if sample_steps else "no samples yet")
        n = _export_scalars(reader.db, out, scalars)
        done.append(f"{out / 'scalars.csv'} ({n} rows, {scalars})")
        n = _write_csv(out / "progress.csv", ["step", "it_per_s", "images_per_s", "elapsed", "gpu_mem", "gpu_peak"],
                       reader.db.execute("SELECT * FROM progress ORDER BY step"))
        done.append(f"{out / 'progress.csv'} ({n} rows)")
        evaluations = reader.evaluations()
        if evaluations:
            _export_evaluations(evaluations, out)
            done.append(f"{out / 'evaluations.csv'} and evaluations.json ({_count(len(evaluations), 'evaluation')})")
        alarms = reader.alarms()
        if alarms:
            _write_csv(out / "alarms.csv", ["step", "rule", "reason", "since"],
                       ([a["step"], a["rule"], a["reason"], a["since"]] for a in alarms))
            done.append(f"{out / 'alarms.csv'} ({_count(len(alarms), 'alarm')})")
        for name in ("profile.toml", "meta.json"):
            if (run_dir / name).is_file():
                shutil.copyfile(run_dir / name, out / name)
        weights = export_weights(run_dir, meta, out, step)
        if weights:
            path, at, ema = weights
            done.append(f"{path} ({'EMA copy of G' if ema else 'G'} at step {at:,})")
        else:
            typer.echo("note: the run has no checkpoint yet; no generator weights exported.", err=True)
        if tensorboard:
            try:
                log_dir = export_tensorboard(reader, out, pngs)
                done.append(f"TensorBoard event files in {log_dir}")
            except ImportError as exc:
                typer.echo(f"note: tensorboard cannot be imported ({exc}), so no event files were written "
                           "(pip install tensorboard, then export again).", err=True)
    except BadInput as exc:
        _fail(str(exc))
    except sqlite3.DatabaseError as exc:
        _fail(f"{db_path}: cannot be read ({exc}); the export in {out} is incomplete.", 1)
    except OSError as exc:  # a full disk, a read-only folder: what was written stays
        _fail(f"the export in {out} is incomplete, a file cannot be written ({_why(exc)}); "
              "free some space or pick another --out.", 1)
    finally:
        reader.close()
    typer.echo(f"exported {meta.get('id', run_dir.name)}:")
    for line in done:
        typer.echo(f"  {line}")


# ---------------------------------------------------------------------------
# gan-tui sample


@export_app.command("sample")
def sample(
    run: str = typer.Argument(..., help="A run id (or a unique part of one), or a run directory."),
    n: int = typer.Option(64, "-n", "--n", min=1, max=10_000, help="How many samples to draw (a CycleGAN run: "
                          "grid cells, six to a row)."),
    out: Path = typer.Option(..., "-o", "--out", help="The PNG to write."),
    step: Optional[int] = typer.Option(None, "--step", help="Use this checkpoint step instead of the last."),
    seed: int = typer.Option(0, "--seed", help="Seed of the noise."),
    columns: Optional[int] = typer.Option(None, "--columns", min=1,
                                          help="Grid columns (default: one per class for conditional runs, else a square grid)."),
    class_: list[str] = typer.Option([], "--class", help="A conditional run: only this class (a name such as "
                                     "sneaker, or an index); repeat it for several, a column each."),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda or cuda:N."),
    data: Optional[str] = typer.Option(None, "--data", help="The run's folder dataset, when its profile has no "
                                       "data.path (only its image shape and classes are read)."),
    runs_dir: Optional[Path] = typer.Option(None, "--runs-dir", help=RUNS_DIR_HELP),
):
    """Draw new samples from a saved generator (the EMA copy where saved) into a PNG grid, or a scatter for 2D.

    A CycleGAN run translates test images of its two domains instead, A→B→A and B→A→B (-n images in all)."""
    import torch

    from gan_tui.cli_eval import data_class_names, data_classes, load_run_generator
    from gan_tui.data.unpaired import resolve_class
    from gan_tui.render import grid_image, scatter_image
    from gan_tui.store.runs import load_meta
    from gan_tui.train.device import pick_device

    try:
        dev = pick_device(device, "--device")
        run_dir = find_run(paths.runs_dir(runs_dir), run)
        meta, _ = load_meta(run_dir)
        profile, generator, chosen = load_run_generator(run_dir, step, dev, data, on_bad=_warn)
        classes = meta["num_classes"] if "num_classes" in meta else data_classes(profile, data)
        if class_ and not classes:
            raise BadInput(f'--class needs a conditional run; {run_dir.name} has model.conditioning = "none", '
                           "so its generator takes no class.")
        names = data_class_names(profile, data) if class_ else []  # a folder set is read only then
        asked = [resolve_class(text, names, profile.data.name, "--class") for text in class_] or list(range(classes))
        asked_names = [names[i] for i in asked] if class_ else []
    except BadInput as exc:
        _fail(str(exc))
    except BadRun as exc:
        _fail(f"{exc}; no samples can be drawn from the run without it.")
    if profile.model.architecture == "cyclegan":
        try:
            image, kind = translation_grid(profile, generator, n, seed, dev, data)
        except BadInput as exc:
            _fail(str(exc))
        _save_sample_png(image, out, meta, chosen, seed, n)
        typer.echo(f"wrote {out}: {kind} from {meta.get('id', run_dir.name)} at step {chosen:,} "
                   f"({image.width}x{image.height}, seed {seed})")
        return
    noise = torch.Generator(device=dev).manual_seed(seed)
    z = torch.randn(n, profile.model.latent_dim, generator=noise, device=dev)
    labels = torch.tensor(asked, device=dev)[torch.arange(n, device=dev) % len(asked)] if asked else None
    generator.eval()
    with torch.no_grad():
        fake = generator(z, labels).float()
    if fake.dim() == 2:  # 2D toy: generated points over real ones
        from gan_tui.data import load_dataset

        data = load_dataset(profile.data, torch.device("cpu"))
        real = data.sample(n, torch.Generator().manual_seed(seed + 1))[0].numpy()
        image = scatter_image(fake.cpu().numpy(), real, None, float(data.extent))
        kind = f"{n} generated points (orange) over {n} real ones (blue)"
    else:
        images = ((fake + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).cpu().numpy()
        image = grid_image(images, columns or (len(asked) if len(asked) > 1 else None))
        kind = f"{n} samples" + (f" of {', '.join(asked_names)}" if asked_names else "")
    _save_sample_png(image, out, meta, chosen, seed, n, classes=",".join(asked_names) or None)
    typer.echo(f"wrote {out}: {kind} from {meta.get('id', run_dir.name)} at step {chosen:,} "
               f"({image.width}x{image.height}, seed {seed})")


def _save_sample_png(image, out: Path, meta: dict, step: int, seed: int, n: int, **extra) -> None:
    try:
        save_png(image, out, png_provenance(meta, step, kind="samples", seed=seed, n=n, **extra))
    except OSError as exc:
        _fail(f"--out {out} cannot be written ({_why(exc)}); give a path in a folder you can write to.")


def translation_grid(profile, generators, n: int, seed: int, device, data_path: str | None):
    """A CycleGAN run's translators on test images they never trained on, drawn by `seed`: rows of
    A | A→B | A→B→A | B | B→A | B→A→B, about n images in all (as the run's own sample grids)."""
    import torch

    from gan_tui.cli_eval import data_class_names
    from gan_tui.data.unpaired import domain_indices, domain_test_images
    from gan_tui.metrics.features import quantize
    from gan_tui.metrics.translation import to_float
    from gan_tui.render import grid_image
    from gan_tui.train.cycle import SAMPLE_COLUMNS, translation_caption, translation_rows

    names = data_class_names(profile, data_path)
    classes = domain_indices(profile.data, names, profile.data.name, profile.source)
    source = f"--data {data_path}" if data_path else profile.source
    images_a, images_b, split = domain_test_images(profile.data, classes, 100_000, data_path, source)
    rows = min(max(1, round(n / SAMPLE_COLUMNS)), len(images_a), len(images_b))
    pick = torch.Generator().manual_seed(seed)  # A's images drawn first, then B's
    a, b = (to_float(images[torch.randperm(len(images), generator=pick)[:rows]].to(device))
            for images in (images_a, images_b))
    grid = translation_rows(generators.eval(), a, b)
    name_a, name_b = names[classes[0]], names[classes[1]]
    image = grid_image(quantize(grid).cpu().numpy(), SAMPLE_COLUMNS, translation_caption(name_a, name_b))
    where = "test" if split == "t10k" else "training"
    return image, f"{rows} {name_a} and {rows} {name_b} {where} images translated and back"
