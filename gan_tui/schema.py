"""Turn plain TOML tables into typed settings, with one-sentence errors.

A settings class is a dataclass whose fields may carry metadata:
`min`, `max` (inclusive bounds), `choices` (allowed strings) and `length`
(for lists). Nested dataclasses are TOML tables.
"""

import copy
import dataclasses
import difflib
import math
import typing
from typing import Any, Callable

from gan_tui.errors import BadInput

# Names the source of a key: the profile file, or the `--set` that changed it.
SourceOf = Callable[[str], str]


def field(default: Any, init: bool = True, **meta: Any) -> Any:
    """A dataclass field with validation metadata; mutable defaults are copied per instance.

    `init=False` marks bookkeeping that is not a profile key.
    """
    if isinstance(default, (list, dict)) or dataclasses.is_dataclass(default):
        return dataclasses.field(default_factory=lambda: copy.deepcopy(default), init=init, metadata=meta)
    return dataclasses.field(default=default, init=init, metadata=meta)


def did_you_mean(word: str, known: list[str], prefix: str = "") -> str:
    """'did you mean "x"?' for a close match, else the list of known names."""
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    if close:
        return f'did you mean "{prefix}{close[0]}"?'
    return "known: " + ", ".join(prefix + k for k in sorted(known)) + "."


def _describe(value: Any) -> str:
    kind = {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "a table"}.get(type(value), type(value).__name__)
    return f"{value!r} ({kind})"


def _coerce(value: Any, hint: Any, key: str, source: str, meta: dict) -> Any:
    """Check one value against its type hint and metadata bounds."""
    origin = typing.get_origin(hint)
    if hint is bool:
        ok = isinstance(value, bool)
        want = "true or false"
    elif hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        want = "an integer"
    elif hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        want = "a number"
        if ok:
            try:
                value = float(value)
            except OverflowError:  # an integer beyond any float
                value = math.inf
            if not math.isfinite(value):  # nan and inf pass every bound check: refuse them here
                raise BadInput(f'{source}: key "{key}" is {value}, not a finite number; give a finite value.')
    elif hint is str:
        if meta.get("int_ok") and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # a key that takes a name or an index
        ok = isinstance(value, str)
        want = "a string"
    elif origin is list:
        (item,) = typing.get_args(hint)
        ok = isinstance(value, list)
        want = "a list"
        if ok:
            bounds = {k: meta[k] for k in ("min", "max") if k in meta}  # on a list: bounds of each item
            value = [_coerce(v, item, f"{key}[{i}]", source, bounds) for i, v in enumerate(value)]
            length = meta.get("length")
            if length is not None and len(value) != length:
                raise BadInput(f'{source}: key "{key}" must be a list of {length} values, got {len(value)}; fix its value.')
    elif origin is dict:
        ok = isinstance(value, dict)
        want = "a table"
    else:  # pragma: no cover - a schema bug, not user input
        raise TypeError(f"unsupported type {hint} for {key}")
    if not ok:
        raise BadInput(f'{source}: key "{key}" must be {want}, not {_describe(value)}; fix its value.')
    if origin is not list:
        _check_bounds(value, key, source, meta)
    return value


def _check_bounds(value: Any, key: str, source: str, meta: dict) -> None:
    lo, hi, choices = meta.get("min"), meta.get("max"), meta.get("choices")
    if choices is not None and value not in choices:
        raise BadInput(f'{source}: key "{key}" is {value!r}, which is not one of {", ".join(map(repr, choices))}; pick one of those.')
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if lo is not None and value < lo:
            raise BadInput(f'{source}: key "{key}" is {value}, below its minimum {lo}; use a value of at least {lo}.')
        if hi is not None and value > hi:
            raise BadInput(f'{source}: key "{key}" is {value}, above its maximum {hi}; use a value of at most {hi}.')


def build(cls: type, raw: dict, prefix: str, source_of: SourceOf) -> Any:
    """Build dataclass `cls` from `raw`, refusing unknown keys and wrong types."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    for key in raw:
        if key not in fields:
            full = prefix + key
            hint = did_you_mean(key, list(fields), prefix)
            raise BadInput(f'{source_of(full)}: unknown key "{full}"; {hint} Rename or remove it.')
    values = {}
    for name, f in fields.items():
        if name not in raw:
            continue
        key = prefix + name
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            if not isinstance(raw[name], dict):
                raise BadInput(f'{source_of(key)}: key "{key}" must be a table ([{key}]), not {_describe(raw[name])}; fix it.')
            values[name] = build(hint, raw[name], key + ".", source_of)
        else:
            values[name] = _coerce(raw[name], hint, key, source_of(key), dict(f.metadata))
    return cls(**values)


def to_dict(obj: Any) -> dict:
    """A settings dataclass as plain TOML-ready tables (fields with init=False left out)."""
    out = {}
    for f in dataclasses.fields(obj):
        if not f.init:
            continue
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            value = to_dict(value)
        elif isinstance(value, dict):
            value = {k: to_dict(v) if dataclasses.is_dataclass(v) else v for k, v in value.items()}
        out[f.name] = value
    return out


def keys_of(cls: type, prefix: str = "") -> list[str]:
    """Every dotted key the schema accepts (tables included)."""
    hints = typing.get_type_hints(cls)
    keys = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        keys.append(prefix + f.name)
        if dataclasses.is_dataclass(hints[f.name]):
            keys.extend(keys_of(hints[f.name], prefix + f.name + "."))
    return keys
