"""Typed events the trainer emits; sinks (run store, console, dashboard) consume them.

Events hold plain Python and numpy values only, never device tensors, so a
sink on another thread can keep them without touching the GPU.
"""

from dataclasses import dataclass, field

import numpy as np


@dataclass
class RunStarted:
    run_id: str
    run_dir: str
    profile_name: str
    total_steps: int
    start_step: int
    device: str
    data_kind: str  # "points" or "images"
    output_kind: str  # "probability" or "score": how to read D's outputs
    batch_size: int  # per process
    world_size: int = 1  # processes training together (torchrun)
    data_shape: tuple = ()  # one example: (2,) for points, (C, H, W) for images
    num_classes: int = 0  # classes G and D are conditioned on; 0 when unconditional

    @property
    def where(self) -> str:
        """The device, and under torchrun how many processes train together: "cuda:0 ×4 processes"."""
        return self.device if self.world_size <= 1 else f"{self.device} ×{self.world_size} processes"


@dataclass
class Scalars:
    """Means over the log interval that ends at `step` (d_loss, g_loss, d_real, d_fake, extras)."""

    step: int
    values: dict[str, float]
    wall_time: float


@dataclass
class Progress:
    step: int
    total: int
    it_per_s: float  # over the last report window; at the last step, the mean since this session began
    images_per_s: float
    elapsed: float
    eta: float
    gpu_mem: int = 0  # bytes allocated now
    gpu_peak: int = 0  # peak bytes since the run started


@dataclass
class Histograms:
    """D's outputs on the last real and fake batches (sigmoid for probabilities)."""

    step: int
    kind: str
    real: np.ndarray
    fake: np.ndarray


@dataclass
class Heartbeat:
    """A paused run is alive: sent once a minute while paused, so readers on other hosts, which
    see only meta.json's mtime, can tell a pause from a dead process."""

    step: int


@dataclass
class Samples:
    """G's output on the fixed noise: images (N, C, H, W) uint8, or 2D points with
    real points and D's decision surface over [-extent, extent]^2 (rows = y, top = +y)."""

    step: int
    images: np.ndarray | None = None
    points: np.ndarray | None = None
    real_points: np.ndarray | None = None
    surface: np.ndarray | None = None
    extent: float = 0.0
    labels: np.ndarray | None = None  # class of each image, for conditional models
    columns: int = 0  # images per row of the grid; 0 = the default layout (square, or one column per class)
    caption: str = ""  # what the grid shows, e.g. "A → B → A | B → A → B"; "" = plain fixed-noise samples


@dataclass
class CheckpointSaved:
    step: int
    path: str


@dataclass
class StatusChanged:
    """running, paused, finished, failed, diverged or interrupted, with a sentence why."""

    status: str
    step: int
    message: str = ""
    extra: dict = field(default_factory=dict)


@dataclass
class EvaluationStarted:
    """An evaluation of the sampler at `step` began on the evaluation thread."""

    step: int
    on_demand: bool = False  # asked for (`f`, Command.EVALUATE) rather than scheduled


@dataclass
class Evaluated:
    """The result of one evaluation at `step`: metrics/evaluate.py's dict of plain values
    (fid, kid_mean, kid_std, precision, recall, density, coverage, diversity,
    near_duplicates, modes_captured/per_mode or classes_covered/class_histogram,
    labels: the display label of each score, seconds, features, ...)."""

    step: int
    metrics: dict
    on_demand: bool = False


@dataclass
class EvaluationFailed:
    step: int
    message: str


@dataclass
class CollapseAlarm:
    """The collapse detector fired: `rule` held since step `since`; `reason` is one sentence."""

    step: int
    rule: str
    reason: str
    since: int


Event = (RunStarted | Scalars | Progress | Histograms | Samples | CheckpointSaved | StatusChanged
         | EvaluationStarted | Evaluated | EvaluationFailed | CollapseAlarm)
