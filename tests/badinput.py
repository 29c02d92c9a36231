"""Random profile files for the property-based tests and benchmarks/faults.py.

`profile_texts()` draws TOML documents made of known keys (dotted paths of the schema and of
the tricks), misspelt and invented keys, and values of every TOML type (huge and non-finite
numbers, dates, nested tables, mixed lists, odd strings), then sometimes breaks the syntax or
the encoding. `classify(path)` loads one and says how it went: a valid profile, a BadInput
that names the file in one sentence, or anything else (a traceback: a bug).
"""

import datetime
import math
import traceback
from pathlib import Path

import tomli_w
from hypothesis import strategies as st

from gan_tui.errors import BadInput
from gan_tui.profile import Profile, load_profile
from gan_tui.schema import keys_of
from gan_tui.tricks import TRICKS

SCHEMA_KEYS = [k for k in keys_of(Profile)]
TRICK_KEYS = [f"tricks.{name}.{f}" for name, cls in TRICKS.items() for f in cls.__dataclass_fields__]
NAMES = ["ring8", "grid25", "mnist", "fashion-mnist", "folder", "mlp", "dcgan", "resnet", "stylegan", "progan",
         "cyclegan", "nonsat", "bce", "hinge", "wgan", "wgan-gp", "lsgan", "r1", "adam", "sgd", "rmsprop",
         "cpu", "cuda", "cuda:0", "cuda:99999999999999999999", "auto", "fp32", "bf16", "stop", "rollback",
         "projection", "cbn", "concat", "none", "translate", "color", "cutout", "off", "default", "sneaker"]

words = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
odd_text = st.one_of(words, st.sampled_from(["", " ", "\x00", "a\x00b", "../../etc/passwd", "~", "x" * 5000,
                                             "\u202e", "ring8\n", "C:\\\\data", "$HOME"]))
ints = st.one_of(st.integers(-3, 300), st.sampled_from([0, 1, -1, 2**31, 2**63 - 1, -(2**63), 10**18]))
floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                   st.sampled_from([0.0, -0.0, 1e-300, 1e300, math.nan, math.inf, -math.inf, 0.5, 0.999, 1.0]))
dates = st.one_of(st.datetimes(min_value=datetime.datetime(1900, 1, 1)), st.dates(), st.times())
scalars = st.one_of(ints, floats, st.booleans(), odd_text, st.sampled_from(NAMES), dates)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(words, inner, max_size=3)), max_leaves=6)


def _misspell(key: str) -> st.SearchStrategy:
    return st.sampled_from([key + "s", key[:-1], key.replace(".", "_"), key.upper(), key + ".x", "x." + key])


keys = st.one_of(st.sampled_from(SCHEMA_KEYS), st.sampled_from(TRICK_KEYS),
                 st.sampled_from(SCHEMA_KEYS + TRICK_KEYS).flatmap(_misspell), words.filter(bool))


def _field(dotted: str):
    """(type hint, metadata) of a schema or trick key; None for tables and unknown keys."""
    import dataclasses
    import typing

    parts = dotted.split(".")
    cls = TRICKS.get(parts[1]) if parts[0] == "tricks" and len(parts) == 3 else Profile
    parts = parts[2:] if cls is not Profile else parts
    for i, part in enumerate(parts):
        hints = typing.get_type_hints(cls)
        found = {f.name: f for f in dataclasses.fields(cls)}.get(part)
        if found is None:
            return None
        if dataclasses.is_dataclass(hints[part]):
            cls = hints[part]
            continue
        return (hints[part], dict(found.metadata)) if i == len(parts) - 1 else None
    return None


def _near(bound) -> list:
    return [bound, bound - 1, bound + 1, bound * 2, -bound] if isinstance(bound, int) else \
        [bound, bound * (1 - 1e-9), bound * (1 + 1e-9), bound + 1.0, -bound]


def typed_values(dotted: str) -> st.SearchStrategy:
    """Values of the key's own type, near its bounds and beyond: what a careless edit writes."""
    found = _field(dotted)
    if found is None:
        return values
    hint, meta = found
    edges = [b for b in (meta.get("min"), meta.get("max")) if b is not None]
    if meta.get("choices"):
        return st.one_of(st.sampled_from(meta["choices"]), odd_text, st.sampled_from(NAMES))
    if hint is bool:
        return st.one_of(st.booleans(), ints, odd_text)
    if hint is int:
        return st.one_of(ints, st.sampled_from([x for b in edges for x in _near(int(b))] or [0]), floats)
    if hint is float:
        return st.one_of(st.sampled_from([math.nan, math.inf, -math.inf]), floats, ints,
                         st.sampled_from([x for b in edges for x in _near(float(b))] or [0.0]))
    if hint is str:
        return st.one_of(odd_text, st.sampled_from(NAMES), ints)
    return st.one_of(st.lists(st.one_of(floats, ints, st.sampled_from([0.0, 0.9, 0.999, 1.0, 1.5, -0.1])),
                              max_size=3), values)


_typed = st.sampled_from(SCHEMA_KEYS + TRICK_KEYS).flatmap(lambda key: st.tuples(st.just(key), typed_values(key)))
keyed_values = st.one_of(_typed, _typed, _typed, st.tuples(keys, values))  # mostly known keys, own types


def _place(doc: dict, dotted: str, value) -> None:
    parts = dotted.split(".")
    node = doc
    for part in parts[:-1]:
        nxt = node.setdefault(part, {})
        if not isinstance(nxt, dict):
            return  # already a value there: skip this one
        node = nxt
    if isinstance(node.get(parts[-1]), dict) and not isinstance(value, dict):
        return
    node[parts[-1]] = value


@st.composite
def documents(draw) -> dict:
    doc: dict = {}
    if draw(st.booleans()):
        doc["extends"] = draw(st.sampled_from(["ring8", "ring8", "grid25", "dcgan-fashion", "nope", ""]))
    for key, value in draw(st.lists(keyed_values, max_size=4)):
        _place(doc, key, value)
    return doc


def _break(text: str, draw) -> bytes:
    """Damage a TOML document: cut it, insert a stray character, or make it not UTF-8."""
    data = text.encode()
    how = draw(st.sampled_from(["cut", "insert", "latin1", "bytes", "dup"]))
    if how == "cut" and data:
        return data[: draw(st.integers(0, len(data) - 1))]
    if how == "insert":
        at = draw(st.integers(0, len(data)))
        return data[:at] + draw(st.sampled_from([b"[", b"]", b"=", b'"', b"\n[data]\n", b"\xff", b"\x00", b"{"])) + data[at:]
    if how == "latin1":
        return ("# caf\u00e9\n" + text).encode("latin-1", errors="replace")
    if how == "dup":
        return data + b"\n" + data
    return draw(st.binary(max_size=64))


@st.composite
def profile_texts(draw) -> bytes:
    """The bytes of a profile file: a valid TOML document of random settings, or a broken one."""
    text = tomli_w.dumps(draw(documents()))
    return _break(text, draw) if draw(st.integers(0, 4)) == 0 else text.encode()


def classify(path: Path, overrides: list[str] | None = None) -> tuple[str, str]:
    """("valid", ""), ("bad", message) or ("traceback", the traceback) for one profile file."""
    try:
        profile = load_profile(str(path), overrides)
    except BadInput as exc:
        return "bad", str(exc)
    except Exception:  # noqa: BLE001 - exactly what the tests look for
        return "traceback", traceback.format_exc()
    return "valid", profile


def sentence_problem(message: str, path: Path) -> str:
    """"" when `message` is one sentence naming `path` (and what in it is wrong), else what is off."""
    if "\n" in message:
        return "more than one line"
    if str(path) not in message and "--set" not in message:
        return "does not name the file"
    if not any(word in message for word in ('key "', 'trick "', "TOML", "UTF-8", "cannot be read")):
        return "names neither a key nor the syntax"
    return ""
