"""Nothing read from a profile or a run directory is executed (issue 8).

The package source is parsed and every way of running code from data is looked for: pickle and
its relatives, torch.load without weights_only=True, numpy loads that allow pickles, eval/exec,
YAML, shells. A regression fails here, naming the file and line.
"""

import ast
from pathlib import Path

import numpy as np
import pytest
import torch

from gan_tui.errors import BadInput

PACKAGE = Path(__file__).resolve().parent.parent / "gan_tui"
UNSAFE_MODULES = {"pickle", "cPickle", "dill", "cloudpickle", "marshal", "shelve", "jsonpickle", "yaml", "joblib"}
UNSAFE_BUILTINS = {"eval", "exec", "compile", "__import__", "execfile"}


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _keyword(call: ast.Call, name: str):
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def unsafe_uses(source: str, filename: str) -> list[str]:
    """file:line: what, for every way `source` could run code it reads from a file."""
    found = []
    tree = ast.parse(source, filename)
    for node in ast.walk(tree):
        where = f"{filename}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                if name.split(".")[0] in UNSAFE_MODULES:
                    found.append(f"{where}: imports {name}")
        if not isinstance(node, ast.Call):
            continue
        func = _dotted(node.func)
        if isinstance(node.func, ast.Name) and func in UNSAFE_BUILTINS:
            found.append(f"{where}: calls {func}()")
        if func.endswith("torch.load"):
            weights_only = _keyword(node, "weights_only")
            if not (isinstance(weights_only, ast.Constant) and weights_only.value is True):
                found.append(f"{where}: torch.load without weights_only=True")
        if func in ("np.load", "numpy.load"):
            allow = _keyword(node, "allow_pickle")
            if allow is not None and not (isinstance(allow, ast.Constant) and allow.value is False):
                found.append(f"{where}: np.load with allow_pickle")
        if func in ("torch.hub.load", "hub.load"):
            found.append(f"{where}: torch.hub.load runs the hub's code")
        if func in ("os.system", "os.popen") or func.startswith("subprocess.") and any(
                kw.arg == "shell" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False)
                for kw in node.keywords):
            found.append(f"{where}: runs a shell")
        if func.endswith("safe_load") or func.endswith("yaml.load"):
            found.append(f"{where}: YAML")
    return found


def test_the_package_never_runs_code_from_what_it_reads():
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 30
    problems = [p for f in files for p in unsafe_uses(f.read_text(), str(f.relative_to(PACKAGE.parent)))]
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("snippet, what", [
    ("import pickle\npickle.loads(b'')", "imports pickle"),
    ("from yaml import load", "imports yaml"),
    ("import torch\ntorch.load('x.pt')", "torch.load without weights_only=True"),
    ("import torch\ntorch.load('x.pt', weights_only=False)", "torch.load without weights_only=True"),
    ("import numpy as np\nnp.load('x.npy', allow_pickle=True)", "np.load with allow_pickle"),
    ("eval(open('profile.toml').read())", "calls eval()"),
    ("import subprocess\nsubprocess.run(cmd, shell=True)", "runs a shell"),
    ("import os\nos.system('ls')", "runs a shell"),
])
def test_the_scan_catches_each_unsafe_use(snippet, what):
    found = unsafe_uses(snippet, "x.py")
    assert any(what in f for f in found), found


def test_safe_uses_pass_the_scan():
    safe = ("import torch, numpy as np\ntorch.load(p, map_location='cpu', weights_only=True)\n"
            "np.load(p, allow_pickle=False)\nnp.load(p)\nmodel.eval()\nsubprocess.call([editor, path])\n")
    assert unsafe_uses(safe, "x.py") == []


def test_data_that_would_run_code_is_refused(tmp_path):
    """A pickled object in a run's sample array or checkpoint state is refused, never loaded."""
    from gan_tui.train.checkpoint import load_checkpoint, save_checkpoint

    np.save(tmp_path / "step-0000001.npy", np.array([print], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="allow_pickle"):
        np.load(tmp_path / "step-0000001.npy")  # the RunReader's call: pickles stay refused by default
    save_checkpoint(tmp_path / "ck", 1, {"w": torch.ones(1)}, {"step": 1}, keep=1)
    torch.save({"step": 1, "hook": print}, tmp_path / "ck" / "step-0000001" / "state.pt")
    with pytest.raises(BadInput, match="checkpoint cannot be read"):
        load_checkpoint(tmp_path / "ck" / "step-0000001", torch.device("cpu"))


def test_profile_paths_are_checked_before_use(tmp_path):
    from gan_tui.profile import load_profile

    for value in ("a\\u0000b", "x" * 5000):
        path = tmp_path / "p.toml"
        path.write_text(f'extends = "ring8"\n[data]\npath = "{value}"\n')
        with pytest.raises(BadInput, match='key "data.path" is not a usable path'):
            load_profile(str(path))
