"""Profiles: TOML files that choose dataset, networks, loss, optimisers and tricks.

`load_profile(name_or_path, overrides)` finds the file, follows `extends`,
applies `--set KEY=VALUE` overrides, and validates everything into a typed
`Profile`. Any mistake is a `BadInput` naming the file, the key and the fix.
"""

import copy
import hashlib
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gan_tui import paths
from gan_tui.errors import BadInput
from gan_tui.schema import build, did_you_mean, field, keys_of, to_dict
from gan_tui.tricks import TRICKS

DEFAULT_PROFILE = "ring8"


@dataclass
class DataSettings:
    name: str = field("ring8")
    path: str = field("")  # a file or folder; empty = search the usual places
    image_size: int = field(0, min=0, max=1024)  # 0 = the dataset's own size
    channels: int = field(0, min=0, max=4)  # 0 = the dataset's own channels
    batch_size: int = field(256, min=1, max=65536)
    limit: int = field(0, min=0)  # use at most this many examples; 0 = all
    # cyclegan: the two domains, a class name or index each (e.g. "sneaker" and "ankle-boot", or 7 and 9)
    domain_a: str = field("", int_ok=True)
    domain_b: str = field("", int_ok=True)


@dataclass
class ModelSettings:
    architecture: str = field("mlp")
    latent_dim: int = field(64, min=1, max=4096)
    g_width: int = field(128, min=1, max=8192)
    d_width: int = field(128, min=1, max=8192)
    depth: int = field(3, min=1, max=32)  # hidden layers of the MLPs
    # How labels enter the networks: none, concat (classic cGAN), projection (D),
    # cbn (class-conditional batch norm in G + projection D, a small BigGAN).
    conditioning: str = field("none", choices=["none", "concat", "projection", "cbn"])
    attention_res: int = field(0, min=0, max=1024)  # SAGAN self-attention at this resolution; 0 = none
    style_mixing: float = field(0.9, min=0.0, max=1.0)  # stylegan: probability of mixing two styles
    grow_steps: int = field(0, min=0)  # progressive growing: steps per stage (fade-in, then stable); 0 = off


@dataclass
class LossSettings:
    name: str = field("nonsat")
    gp_weight: float = field(10.0, min=0.0)  # wgan-gp: lambda of the gradient penalty
    r1_gamma: float = field(10.0, min=0.0)  # r1: gamma of the R1 penalty
    clip: float = field(0.01, min=0.0)  # wgan: weight clipping bound
    cycle_weight: float = field(10.0, min=0.0)  # cyclegan: lambda of the cycle-consistency L1 loss
    identity_weight: float = field(5.0, min=0.0)  # cyclegan: weight of the identity L1 loss (0.5 * lambda)


@dataclass
class OptimizerSettings:
    name: str = field("adam", choices=["adam", "rmsprop", "sgd"])
    lr: float = field(2e-4, min=1e-12, max=10.0)
    betas: list[float] = field([0.5, 0.999], length=2, min=0.0, max=0.999999)  # Adam needs 0 <= beta < 1


@dataclass
class OptimSettings:
    g: OptimizerSettings = field(OptimizerSettings())
    d: OptimizerSettings = field(OptimizerSettings())


@dataclass
class TrainSettings:
    steps: int = field(2000, min=1)
    n_critic: int = field(1, min=1, max=100)  # D updates per G update
    seed: int = field(0, min=0, max=2**62)  # torch takes seeds below 2**64; ranks add to it
    device: str = field("auto")  # auto | cpu | cuda | cuda:N
    precision: str = field("fp32", choices=["fp32", "bf16", "tf32"])
    # torch.compile the networks; reduce-overhead adds CUDA graphs, which pay off at small batches
    # where kernel launches, not arithmetic, set the pace.
    compile: str = field("off", choices=["off", "default", "reduce-overhead", "max-autotune"])
    channels_last: bool = field(False)  # NHWC memory layout for convolutions (faster tensor cores)
    # CPU threads for torch's operators; 0 = torch's default (one per core). Small networks train
    # faster on one thread and leave the other cores to evaluations and the dashboard.
    threads: int = field(0, min=0, max=1024)
    # A NaN/Inf loss or weight: "stop" marks the run diverged; "rollback" goes back to the last good
    # checkpoint with both learning rates times rollback_lr_factor and trains on, at most max_rollbacks times.
    on_divergence: str = field("stop", choices=["stop", "rollback"])
    rollback_lr_factor: float = field(0.5, min=1e-6, max=1.0)
    max_rollbacks: int = field(3, min=0, max=1000)


@dataclass
class LogSettings:
    every: int = field(50, min=1)  # scalars
    histograms_every: int = field(100, min=1)
    samples_every: int = field(250, min=1)
    samples: int = field(64, min=1, max=4096)  # size of the fixed-noise batch


@dataclass
class CheckpointSettings:
    every: int = field(1000, min=1)
    keep: int = field(3, min=1)


@dataclass
class EvalSettings:
    every: int = field(0, min=0)  # evaluate the sampler every N steps, off the training thread; 0 = only on demand
    n: int = field(2000, min=10, max=100_000)  # samples per evaluation
    features: str = field("auto", choices=["auto", "inception", "domain"])  # ignored for the 2D toys
    inception_weights: str = field("")  # a local Inception-v3 weights file; empty = $GAN_TUI_INCEPTION or download
    collapse: bool = field(True)  # run the collapse detector and raise alarms


@dataclass
class Profile:
    description: str = field("")
    extends: str = field("")
    data: DataSettings = field(DataSettings())
    model: ModelSettings = field(ModelSettings())
    loss: LossSettings = field(LossSettings())
    optim: OptimSettings = field(OptimSettings())
    train: TrainSettings = field(TrainSettings())
    tricks: dict[str, dict] = field({})
    log: LogSettings = field(LogSettings())
    checkpoint: CheckpointSettings = field(CheckpointSettings())
    eval: EvalSettings = field(EvalSettings())

    # Filled in by load_profile, not profile keys.
    name: str = field("", init=False)
    source: str = field("", init=False)
    overrides: dict[str, str] = field({}, init=False)  # key -> the --set that changed it
    origins: dict[str, str] = field({}, init=False)  # key -> the file that set it, where `extends` pulled it in

    def where(self, key: str) -> str:
        """What to blame for `key`'s value in a message: the --set that gave it, else the file that set it."""
        return blame(self.overrides, key, file_of(self.origins, key, self.source or "profile"))

    def to_dict(self) -> dict:
        out = to_dict(self)
        out.pop("extends")  # the resolved profile already holds what it extended
        return out

    def digest(self) -> str:
        """A short hash of the resolved settings, for provenance and comparisons."""
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


# ---------------------------------------------------------------------------
# Finding profiles


def profile_dirs() -> list[Path]:
    """Search order: the user's profiles first, so they can shadow shipped ones."""
    return [paths.user_profiles_dir(), paths.shipped_profiles_dir()]


def available_profiles() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder in reversed(profile_dirs()):
        if folder.is_dir():
            for file in sorted(folder.glob("*.toml")):
                found[file.stem] = file
    return dict(sorted(found.items()))


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):  # a name too long, or with a NUL byte: not a file
        return False


def find_profile(name_or_path: str) -> Path:
    if "\x00" in name_or_path or len(name_or_path) > 4096:
        raise BadInput(f"profile {name_or_path[:80]!r}: not a profile name or path (a NUL byte, or too long); "
                       "give a profile name or a .toml path.")
    path = Path(name_or_path).expanduser()
    if path.suffix == ".toml" or _is_file(path):
        if not _is_file(path):
            raise BadInput(f"{path}: no such profile file; check the path.")
        return path
    known = available_profiles()
    if name_or_path in known:
        return known[name_or_path]
    hint = did_you_mean(name_or_path, list(known))
    raise BadInput(f'profile "{name_or_path}" not found in {", ".join(map(str, profile_dirs()))}; {hint} Or give a path to a .toml file.')


def read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{path}: not valid TOML ({exc}); fix the syntax there.") from None
    except UnicodeDecodeError:
        raise BadInput(f"{path}: not a UTF-8 text file; save it as UTF-8 TOML.") from None
    except OSError as exc:
        raise BadInput(f"{path}: cannot be read ({exc.strerror}); check the path and its permissions.") from None


def describe(path: Path) -> str:
    """The one-line description of a profile file, without validating it."""
    try:
        raw = read_toml(path)
    except BadInput:
        return "(unreadable: run `gan-tui profiles show` for the error)"
    text = raw.get("description", "")
    if not text and raw.get("extends"):
        return f'extends {raw["extends"]}'
    return str(text)


# ---------------------------------------------------------------------------
# Loading


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _find_parent(child: Path, parent: str) -> Path:
    """`extends` names a profile, or a .toml file: a relative path is read from the extending file's
    folder (as tsconfig's and ESLint's `extends` are), not from wherever the command runs, so a profile
    and the one it extends can be moved or shared together."""
    candidate = Path(parent).expanduser()
    looks_like_a_path = candidate.suffix == ".toml" or "/" in parent
    if looks_like_a_path and not candidate.is_absolute():
        return find_profile(str(child.parent / candidate))
    return find_profile(parent)


def _set_keys(raw: dict, prefix: str = "") -> list[str]:
    """The dotted keys a TOML table sets: its values, and its empty tables."""
    keys = []
    for key, value in raw.items():
        if isinstance(value, dict) and value:
            keys += _set_keys(value, f"{prefix}{key}.")
        else:
            keys.append(prefix + key)
    return keys


def _raw_with_extends(path: Path, seen: tuple[Path, ...] = ()) -> tuple[dict, dict[str, str]]:
    """The merged tables of `path` and every profile it extends, and which file set each key."""
    raw = read_toml(path)
    origins = dict.fromkeys(_set_keys(raw), str(path))
    parent = raw.get("extends")
    if not parent:
        return raw, origins
    if not isinstance(parent, str):
        raise BadInput(f'{path}: key "extends" must be a profile name (a string); fix its value.')
    try:
        parent_path = _find_parent(path, parent)
    except BadInput as exc:
        raise BadInput(f'{path}: key "extends" names {str(exc)[0].lower()}{str(exc)[1:]}') from None
    if parent_path.resolve() in seen or parent_path.resolve() == path.resolve():
        raise BadInput(f'{path}: key "extends" makes a cycle through "{parent}"; remove one of the extends.')
    try:
        base, base_origins = _raw_with_extends(parent_path, seen + (path.resolve(),))
    except BadInput as exc:  # the parent's own sentence, after the file that pulled it in
        raise BadInput(f'{path}: key "extends" = "{parent}" does not load: {exc}') from None
    base.pop("description", None)  # a child without a description is not its parent
    return _merge(base, raw), {**base_origins, **origins}


def file_of(origins: dict[str, str], key: str, loaded: str) -> str:
    """The file to name for `key`: the one that set it (or, for a table, set all of it), else the file
    loaded. A profile it extends is named with the loaded one, whose keys can override it."""
    files = {file for set_key, file in origins.items()
             if set_key == key or key.startswith(set_key + ".") or set_key.startswith(key + ".")}
    file = files.pop() if len(files) == 1 else loaded
    return file if file == loaded else f"{file}, extended by {loaded}"


def parse_override(text: str) -> tuple[str, Any]:
    """`train.steps=500` -> ("train.steps", 500); values are TOML, else plain strings."""
    if "=" not in text:
        raise BadInput(f'--set "{text}": expected KEY=VALUE, for example --set train.steps=500.')
    key, value = text.split("=", 1)
    key = key.strip()
    try:
        parsed = tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value.strip()
    return key, parsed


def _apply_override(raw: dict, key: str, value: Any) -> None:
    valid = keys_of(Profile)
    parts = key.split(".")
    is_trick = len(parts) >= 2 and parts[0] == "tricks"
    if key not in valid and not is_trick:
        hint = did_you_mean(key, valid)
        raise BadInput(f'--set {key}=...: unknown key "{key}"; {hint} Fix the key.')
    node = raw
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise BadInput(f'--set {key}=...: "{part}" is not a table; fix the key.')
    node[parts[-1]] = value


def load_profile(name_or_path: str, overrides: list[str] | None = None) -> Profile:
    path = find_profile(name_or_path)
    raw, origins = _raw_with_extends(path)
    changed = {}
    for text in overrides or []:
        key, value = parse_override(text)
        _apply_override(raw, key, value)
        changed[key] = text

    def source_of(key: str) -> str:
        return blame(changed, key, file_of(origins, key, str(path)))

    profile = build(Profile, raw, "", source_of)
    profile.name = path.stem
    profile.source = str(path)
    profile.overrides = changed
    profile.origins = origins
    validate_names(profile, source_of)
    return profile


def blame(overrides: dict[str, str], key: str, file: str) -> str:
    """"--set TEXT" when an override gave `key`, else `file`."""
    for over_key, text in overrides.items():
        # the key itself, a table the override replaced, or a table the override made (tricks.x.y)
        if key == over_key or key.startswith(over_key + ".") or over_key.startswith(key + "."):
            return f"--set {text}"
    return file


def validate_names(profile: Profile, source_of=lambda key: "profile") -> None:
    """Check that every named thing (dataset, architecture, loss, trick) exists."""
    from gan_tui.data import DATASETS
    from gan_tui.losses import LOSSES
    from gan_tui.models import ARCHITECTURES

    for key, value, known in (
        ("data.name", profile.data.name, DATASETS),
        ("model.architecture", profile.model.architecture, ARCHITECTURES),
        ("loss.name", profile.loss.name, LOSSES),
    ):
        if value not in known:
            raise BadInput(f'{source_of(key)}: key "{key}" names unknown "{value}"; known: {", ".join(sorted(known))}.')
    for key, value in (("data.path", profile.data.path), ("eval.inception_weights", profile.eval.inception_weights)):
        # Paths are only ever read (resolved and checked where they are used); these are no paths at all.
        if "\x00" in value or len(value) > 4096:
            raise BadInput(f'{source_of(key)}: key "{key}" is not a usable path (a NUL byte, or over 4096 '
                           "characters); give the path of a folder or file.")
    device = profile.train.device
    if not (device in ("auto", "cpu", "cuda") or (device.startswith("cuda:") and device[5:].isdigit())):
        raise BadInput(f'{source_of("train.device")}: key "train.device" is "{device}"; use auto, cpu, cuda or cuda:N.')
    from gan_tui.augment import POLICIES

    parsed = {}
    for name, params in profile.tricks.items():
        key = f"tricks.{name}"
        if name not in TRICKS:
            raise BadInput(f'{source_of(key)}: unknown trick "{name}"; {did_you_mean(name, list(TRICKS))} Fix the [tricks] table.')
        if not isinstance(params, dict):
            raise BadInput(f'{source_of(key)}: key "{key}" must be a table of parameters ([{key}]); fix it.')
        parsed[name] = build(TRICKS[name], params, key + ".", source_of)
    for policy in getattr(parsed.get("diffaugment"), "policy", []):
        if policy not in POLICIES:
            raise BadInput(f'{source_of("tricks.diffaugment.policy")}: key "tricks.diffaugment.policy" names unknown '
                           f'"{policy}"; known: {", ".join(POLICIES)}.')
    for name in ("label_smoothing", "noisy_labels"):
        if name in parsed and not LOSSES[profile.loss.name].uses_targets:
            raise BadInput(f'{source_of("tricks." + name)}: trick "{name}" changes BCE targets, which loss '
                           f'"{profile.loss.name}" does not have; remove [tricks.{name}] or use loss bce, nonsat or r1.')
    profile.tricks = parsed
    from gan_tui.models.cyclegan import check_profile as check_cyclegan_profile

    check_cyclegan_profile(profile, source_of)
