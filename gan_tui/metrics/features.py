"""Feature extractors: Inception-v3 (standard FID), the domain evaluator, and the toys' points.

Every extractor maps a batch of samples to features (N, D) and, where it is a
classifier, class probabilities (N, K). Images come in as uint8 (N, C, H, W),
exactly as a run stores its samples.

- `InceptionFeatures`: the FID Inception-v3 of torch-fidelity (a port of the
  TensorFlow graph every published FID uses, with TensorFlow's bilinear
  resize to 299 px), pool3 features (2048) and its 1008 logits for IS.
  Weights come from, in order: an explicit path (a profile or a command-line
  option), `$GAN_TUI_INCEPTION`, torch's hub cache (where a previous
  download left them), and a one-time download where a network exists and
  `$GAN_TUI_OFFLINE` is not set. A local file is read with
  `torch.load(weights_only=True)` or as safetensors, never unpickled freely.
- `DomainFeatures`: the project's own small CNN for a dataset (see
  gan_tui/evaluator), whose 128-number penultimate layer gives "FID (domain)".
- `PointFeatures`: for the 2D toys the points themselves are the features.

`pick_extractor(dataset, features)` chooses: "inception", "domain", or
"auto" (Inception when its weights are available, else the domain evaluator,
saying so once per process).
"""

import hashlib
import io
import os
import socket
from pathlib import Path

import numpy as np
import torch

from gan_tui.errors import BadInput

INCEPTION_URL = ("https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/"
                 "weights-inception-2015-12-05-6726825d.pth")
INCEPTION_FILE = INCEPTION_URL.rsplit("/", 1)[1]
INCEPTION_HASH_PREFIX = "6726825d"  # sha256 prefix of the file, checked on download
INCEPTION_ENV = "GAN_TUI_INCEPTION"
INCEPTION_HOW = (f"put the FID Inception weights ({INCEPTION_FILE}, from torch-fidelity's releases) on this "
                 f"machine and set ${INCEPTION_ENV} to that file (or pass --inception-weights)")
TOY_DATASETS = ("ring8", "grid25")

_said: set[str] = set()  # notes already given in this process
_download_failed = False


def say_once(note: str) -> list[str]:
    """[note] the first time it is given in this process, [] afterwards."""
    if note in _said:
        return []
    _said.add(note)
    return [note]


def file_hash(path: Path, length: int = 16) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:length]


def quantize(images: torch.Tensor) -> torch.Tensor:
    """Floats in [-1, 1] -> uint8, as the trainer stores samples; uint8 passes through."""
    if images.dtype == torch.uint8:
        return images
    return ((images.float() + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)


class FeatureExtractor:
    """What every extractor offers."""

    kind = ""  # "inception", "domain" or "points"
    name = ""  # identifies the network and its weights in caches, e.g. "domain-fashion-mnist"
    weights_hash = ""
    dim = 0
    num_classes = 0  # 0 when it gives no class probabilities
    fid_label = "FID"
    is_label = "IS"
    description = ""

    def __call__(self, samples: torch.Tensor, batch_size: int = 500) -> tuple[np.ndarray, np.ndarray | None]:
        """(features (N, D) float32, probabilities (N, K) float32 or None)."""
        raise NotImplementedError

    @property
    def cache_id(self) -> str:
        return f"{self.name}-{self.weights_hash}" if self.weights_hash else self.name


class PointFeatures(FeatureExtractor):
    kind = "points"
    name = "points"
    dim = 2
    fid_label = "FID (points)"
    description = "the 2D points themselves"

    def __call__(self, samples, batch_size=500):
        return np.asarray(torch.as_tensor(samples).detach().float().cpu().numpy(), dtype=np.float32), None


class DomainFeatures(FeatureExtractor):
    kind = "domain"
    fid_label = "FID (domain)"
    is_label = "IS (domain)"

    def __init__(self, dataset: str, device: torch.device | str = "cpu", weights: Path | None = None):
        from gan_tui.evaluator import find_weights, load_evaluator

        path = Path(weights) if weights else find_weights(dataset)
        if path is None:
            fix = (f"train one with `gan-tui evaluator train {dataset}` or use --features inception"
                   if has_evaluator_recipe(dataset) else "use --features inception")
            raise BadInput(f'no domain evaluator for dataset "{dataset}"; {fix}.')
        self.device = torch.device(device)
        self.model, self.info = load_evaluator(path, self.device)
        self.dataset = dataset
        self.name = f"domain-{dataset}"
        self.path = path
        self.weights_hash = file_hash(path)
        self.dim = self.model.head.in_features
        self.num_classes = self.model.num_classes
        self.class_names = self.info.get("classes", [str(i) for i in range(self.num_classes)])
        accuracy = self.info.get("test_accuracy")
        accuracy = f"{accuracy:.2%}" if isinstance(accuracy, (int, float)) else "unknown"
        self.description = f"domain CNN for {dataset} ({self.dim} features, test accuracy {accuracy})"

    @torch.no_grad()
    def __call__(self, samples, batch_size=500):
        from gan_tui.evaluator.model import to_evaluator_input

        feats, probs = [], []
        for chunk in samples.split(batch_size):
            f, logits = self.model.features_and_logits(to_evaluator_input(chunk.to(self.device)))
            feats.append(f.float().cpu())
            probs.append(torch.softmax(logits.float(), 1).cpu())
        return torch.cat(feats).numpy(), torch.cat(probs).numpy()


# ---------------------------------------------------------------------------
# Inception-v3 through torch-fidelity


def _hub_file() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_FILE


def _try_download() -> Path | None:
    """Download the weights once into torch's hub cache where a network exists; None otherwise."""
    global _download_failed
    if os.environ.get("GAN_TUI_OFFLINE") or _download_failed:
        return None
    target = _hub_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(10)
    try:
        torch.hub.download_url_to_file(INCEPTION_URL, str(target), hash_prefix=INCEPTION_HASH_PREFIX, progress=False)
        return target
    except Exception:  # any network or hash failure means "not available here"
        _download_failed = True
        return None
    finally:
        socket.setdefaulttimeout(previous)


def inception_weights_path(explicit: str | os.PathLike | None = None, download: bool = True) -> Path | None:
    """Where Inception weights are, or None. An explicit path or $GAN_TUI_INCEPTION that names no
    file is a BadInput, not a silent fallback."""
    for chosen, what in ((explicit, "the Inception weights path"), (os.environ.get(INCEPTION_ENV), f"${INCEPTION_ENV}")):
        if chosen:
            path = Path(chosen).expanduser()
            if not path.is_file():
                raise BadInput(f"{what} names {path}, which is not a file; fix the path or unset it.")
            return path
    if _hub_file().is_file():
        return _hub_file()
    return _try_download() if download else None


def torch_fidelity_available() -> bool:
    try:
        import torch_fidelity  # noqa: F401
    except ImportError:
        return False
    return True


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Tensors from a .safetensors file or a weights-only torch file; anything else is a BadInput."""
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt, or a pickle that needs code to load
        raise BadInput(f"{path}: cannot be read as weights ({exc.__class__.__name__}); it must be a "
                       f"state dict saved with torch.save or safetensors.") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise BadInput(f"{path}: holds no state dict of tensors; give the FID Inception-v3 weights file.")
    return state


def _fidelity_inception(state: dict[str, torch.Tensor] | None, features: tuple[str, ...]):
    """torch-fidelity's FeatureExtractorInceptionV3 with `state` loaded (random init when None).

    The library reads its weights with torch.load(weights_only=False); it is handed an in-memory copy
    of tensors we read safely ourselves, so nothing from the user's file is unpickled by it.
    """
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    class _Untrained(FeatureExtractorInceptionV3):
        def load_state_dict(self, state_dict, strict=True, assign=False):
            if state is None:  # keep the random initialisation
                return None
            return super().load_state_dict(state_dict, strict, assign)

    buffer = io.BytesIO()
    torch.save(state or {}, buffer)
    buffer.seek(0)
    cls = _Untrained if state is None else FeatureExtractorInceptionV3
    return cls("inception-v3-compat", list(features), feature_extractor_weights_path=buffer)


def random_inception_state_dict(seed: int = 0) -> dict[str, torch.Tensor]:
    """Randomly initialised weights of the right shape: for timing and tests, never for real FIDs."""
    torch.manual_seed(seed)
    return {k: v.clone() for k, v in _fidelity_inception(None, ("2048",)).state_dict().items()}


class InceptionFeatures(FeatureExtractor):
    kind = "inception"
    name = "inception-v3"
    dim = 2048
    num_classes = 1008
    fid_label = "FID"
    is_label = "IS"

    def __init__(self, path: Path, device: torch.device | str = "cpu"):
        if not torch_fidelity_available():
            raise BadInput("Inception features need the torch-fidelity package; install it with "
                           "`pip install torch-fidelity` or use --features domain.")
        state = read_state_dict(path)
        try:
            net = _fidelity_inception(state, ("2048", "logits_unbiased"))
        except RuntimeError as exc:
            first = str(exc).splitlines()[1].strip() if len(str(exc).splitlines()) > 1 else str(exc)
            raise BadInput(f"{path}: not the FID Inception-v3 weights ({first[:120]}); give {INCEPTION_FILE}.") from None
        self.device = torch.device(device)
        self.model = net.to(self.device).eval()
        self.path = path
        self.weights_hash = file_hash(path)
        self.description = f"Inception-v3 pool3 (2048 features) from {path}"

    @torch.no_grad()
    def __call__(self, samples, batch_size=100):
        feats, probs = [], []
        for chunk in quantize(samples).split(batch_size):
            chunk = chunk.to(self.device)
            if chunk.shape[1] == 1:
                chunk = chunk.expand(-1, 3, -1, -1)
            elif chunk.shape[1] != 3:
                chunk = chunk[:, :3]
            f, logits = self.model(chunk.contiguous())
            feats.append(f.float().cpu())
            probs.append(torch.softmax(logits.double(), 1).float().cpu())
        return torch.cat(feats).numpy(), torch.cat(probs).numpy()


# ---------------------------------------------------------------------------


def has_evaluator_recipe(dataset: str) -> bool:
    """Whether `gan-tui evaluator train DATASET` can build a domain evaluator (the IDX sets)."""
    from gan_tui.data.idx import IDX_SETS

    return dataset in IDX_SETS


def pick_extractor(dataset: str, features: str = "auto", device: torch.device | str = "cpu",
                   inception_weights: str | os.PathLike | None = None,
                   domain_weights: str | os.PathLike | None = None) -> tuple[FeatureExtractor, list[str]]:
    """(extractor, notes) for a dataset name. `features` is "auto", "inception" or "domain".

    Toys always use their points. A note explains a fallback, once per process.
    """
    if features not in ("auto", "inception", "domain"):
        raise BadInput(f'--features is "{features}"; use auto, inception or domain.')
    if dataset in TOY_DATASETS:
        return PointFeatures(), []
    if features == "domain":
        return DomainFeatures(dataset, device, domain_weights), []
    path = inception_weights_path(inception_weights, download=True)
    if features == "inception":
        if path is None:
            raise BadInput(f"Inception-v3 weights are not available here; {INCEPTION_HOW}.")
        return InceptionFeatures(path, device), []
    if path is not None and torch_fidelity_available():
        return InceptionFeatures(path, device), []
    why = ("torch-fidelity is not installed" if path is not None else
           f"Inception-v3 weights are not available (no ${INCEPTION_ENV}, none cached, no download)")
    try:
        domain = DomainFeatures(dataset, device, domain_weights)
    except BadInput:
        other = (f"or train one with `gan-tui evaluator train {dataset}`" if has_evaluator_recipe(dataset) else
                 "or set eval.every = 0 to train without evaluations (the domain evaluator knows only "
                 "Fashion-MNIST and MNIST)")
        raise BadInput(f'{why}, and dataset "{dataset}" has no domain evaluator; {INCEPTION_HOW}, {other}.') from None
    notes = say_once(f"{why}: using the domain evaluator instead, so scores are labelled \"FID (domain)\" "
                     f"and are not comparable with published FIDs.")
    return domain, notes
