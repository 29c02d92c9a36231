"""Property-based tests: whatever a profile file holds, loading it gives a valid profile or one
sentence (BadInput, exit 2) naming the file and the key, never a traceback (issue 8)."""

import itertools
import math
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from badinput import classify, profile_texts, sentence_problem
from conftest import run_cli

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
_names = itertools.count()


def _floats(obj, prefix=""):
    """Every float setting of a loaded profile, as (dotted key, value)."""
    from dataclasses import fields, is_dataclass

    if is_dataclass(obj):
        for f in fields(obj):
            yield from _floats(getattr(obj, f.name), f"{prefix}{f.name}.")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _floats(v, f"{prefix}{k}.")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _floats(v, f"{prefix}{i}.")
    elif isinstance(obj, float):
        yield prefix.rstrip("."), obj


def check_valid(profile) -> None:
    """What a profile that loads must promise the trainer."""
    bad = [key for key, value in _floats(profile) if not math.isfinite(value)]
    assert not bad, f"non-finite settings accepted: {bad}"
    for opt in (profile.optim.g, profile.optim.d):
        assert all(0.0 <= b < 1.0 for b in opt.betas), opt.betas
    assert 0 <= profile.train.seed < 2**63
    assert profile.to_dict()  # serialisable again (the run directory saves it)


@FUZZ
@given(text=profile_texts())
def test_any_profile_file_loads_or_is_refused_in_one_sentence(tmp_path, text):
    path = tmp_path / f"fuzz{next(_names)}.toml"
    path.write_bytes(text)
    outcome, detail = classify(path)
    assert outcome != "traceback", f"{text!r}\n{detail}"
    if outcome == "bad":
        assert not sentence_problem(detail, path), (sentence_problem(detail, path), detail)
    else:
        check_valid(detail)


override_keys = st.sampled_from(["train.steps", "optim.g.lr", "optim.d.betas", "tricks.ema.decay", "tricks.ema",
                                 "data", "train.seed", "log", "tricks.", "x.y", "", "train.steps.x", "eval.n"])
override_values = st.sampled_from(["5", "nan", "inf", "-1", "[1, 2]", "[0.5, 1.5]", "{a = 1}", "", "=", "true",
                                   "1e400", "99999999999999999999999", "'text'", '"ring8"', "2026-01-01", "[", "0.1"])


@FUZZ
@given(pairs=st.lists(st.tuples(override_keys, override_values), max_size=3), raw=st.lists(st.text(max_size=8),
                                                                                            max_size=1))
def test_any_set_override_is_accepted_or_refused_in_one_sentence(tmp_path, pairs, raw):
    overrides = [f"{k}={v}" for k, v in pairs] + raw
    outcome, detail = classify("ring8", overrides)
    assert outcome != "traceback", f"{overrides!r}\n{detail}"
    if outcome == "bad":
        assert "\n" not in detail and ("--set" in detail or "ring8" in detail), detail
    else:
        check_valid(detail)


# A handful through the real command line: exit 2, one line on stderr, no traceback, no run left.
CLI_CASES = {
    "nan-lr.toml": b'extends = "ring8"\n[optim.g]\nlr = nan\n',
    "huge-seed.toml": b'extends = "ring8"\n[train]\nseed = 9223372036854775807\nsteps = 1\n',
    "beta.toml": b'extends = "ring8"\n[optim.d]\nbetas = [0.5, 1.5]\n',
    "null-extends.toml": b'extends = "ring8\\u0000"\n',
    "syntax.toml": b'[train\nsteps = 5\n',
    "binary.toml": bytes(range(256)),
    "null-path.toml": b'extends = "ring8"\n[data]\npath = "a\\u0000b"\n',
}


@pytest.mark.parametrize("name", sorted(CLI_CASES))
def test_bad_profiles_through_the_command_line(tmp_path, name):
    from faultlib import cli

    path = tmp_path / name
    path.write_bytes(CLI_CASES[name])
    code, out = cli(["run", str(path), "--quiet", "--runs-dir", tmp_path / "runs", "--set", "train.device=cpu",
                     "--set", "train.steps=1"], tmp_path / "out.txt")
    lines = out.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: ") and str(path) in lines[0], out
    assert not (tmp_path / "runs").exists() or not os.listdir(tmp_path / "runs")


def test_one_bad_profile_through_a_fresh_interpreter(tmp_path):
    path = tmp_path / "nan.toml"
    path.write_bytes(CLI_CASES["nan-lr.toml"])
    result = run_cli("profiles", "show", str(path))
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and 'key "optim.g.lr"' in result.stderr and str(path) in result.stderr
