"""meta.json: what a run is and how it stands, written atomically."""

import json
import math
import os
from pathlib import Path

import numpy as np

META_NAME = "meta.json"


def write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w") as fh:
            json.dump(data, fh, indent=2, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:  # a full disk: the old file stays whole; leave no partial temp file behind
        tmp.unlink(missing_ok=True)
        if not exc.filename:
            exc.filename = str(path)
        raise


def read_meta(run_dir: Path) -> dict:
    with open(Path(run_dir) / META_NAME) as fh:
        return json.load(fh)


def jsonable(value):
    """Plain JSON types from numpy scalars and arrays; NaN and Inf become None."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    return value
