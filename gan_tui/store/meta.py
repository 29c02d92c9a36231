"""meta.json: what a run is and how it stands, written atomically."""

import json
import os
from pathlib import Path

META_NAME = "meta.json"


def write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as fh:
        json.dump(data, fh, indent=2, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_meta(run_dir: Path) -> dict:
    with open(Path(run_dir) / META_NAME) as fh:
        return json.load(fh)
