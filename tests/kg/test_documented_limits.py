"""docs/dataset.md's "Limits" table is the code's: each documented value equals the constant
its row names, every limit constant of the readers has a row, and `shopgraph build`'s options
default to the same constants (the CLI spells its defaults out for --help)."""

from __future__ import annotations

import dataclasses
import importlib
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "dataset.md"
#: the modules whose limit constants the table must list
SOURCES = [*sorted((ROOT / "kg").glob("*.py")), *sorted((ROOT / "kg" / "loaders").glob("*.py")),
           ROOT / "vision" / "images.py", ROOT / "nlp" / "config.py"]
#: module-level names that are limits by their name
LIMIT_NAME = re.compile(r"^((?:DEFAULT_)?MAX_\w+|\w+_RANGE|\w+_CAP|EARLIEST|DEFAULT_TOLERANCE|"
                        r"RAW_CHARS|LOCK_TIMEOUT)\s*(?::[^=]*)?=", re.M)
_UNITS = {"MiB": 1 << 20, "GiB": 1 << 30, "day": 86_400, "days": 86_400}


def documented_rows() -> list[tuple[str, str, str]]:
    """(what, limit, constant) of each row of the Limits table."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("\n## Limits\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and re.fullmatch(r"`[\w.]+`", cells[2]):
            rows.append((cells[0], cells[1], cells[2].strip("`")))
    return rows


def number(text: str) -> float:
    return float(text.replace(",", ""))


def parse_limit(text: str) -> Any:
    """A documented limit as a value: ``1 MiB``, ``2,000``, ``1e12``, ``0..150``, an ISO date."""
    if ".." in text:
        low, high = text.split("..")
        return (number(low), number(high))
    if re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:]+Z", text):
        return datetime.fromisoformat(text[:-1]).replace(tzinfo=timezone.utc).timestamp()
    amount, _, unit = text.partition(" ")
    return number(amount) * (_UNITS[unit] if unit else 1)


def constant(path: str) -> Any:
    """The value a dotted name holds; a dataclass field's default for ``Class.field``."""
    parts = path.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            if dataclasses.is_dataclass(obj) and isinstance(obj, type):
                obj = {f.name: f.default for f in dataclasses.fields(obj)}[name]
            else:
                obj = getattr(obj, name)
        return obj
    raise AssertionError(f"{path}: no such module")


def test_the_table_is_there_and_names_real_constants():
    rows = documented_rows()
    assert len(rows) >= 15, rows


@pytest.mark.parametrize("what,limit,name", documented_rows(), ids=lambda v: str(v)[:40])
def test_each_documented_limit_is_the_codes_constant(what, limit, name):
    value = constant(name)
    if isinstance(value, tuple):
        value = tuple(float(v) for v in value)
    assert parse_limit(limit) == value, f"docs/dataset.md says {limit!r} for {name} = {value!r}"


def test_every_limit_constant_of_the_readers_is_documented():
    listed = {name for _, _, name in documented_rows()}
    missing = []
    for path in SOURCES:
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for found in LIMIT_NAME.finditer(path.read_text(encoding="utf-8")):
            if f"{module}.{found.group(1)}" not in listed:
                missing.append(f"{module}.{found.group(1)}")
    assert not missing, f"limits not in docs/dataset.md's Limits table: {missing}"


def test_build_options_default_to_the_constants():
    from kg.timewindow import DEFAULT_TOLERANCE, EARLIEST
    from nlp.config import NlpConfig
    from scripts.cli import build_parser
    from vision.images import DEFAULT_LIMITS

    args = build_parser().parse_args(["build", "data", "--out", "art"])
    assert args.image_max_pixels == DEFAULT_LIMITS.max_pixels
    assert args.image_max_side == DEFAULT_LIMITS.max_side
    assert args.image_max_aspect == DEFAULT_LIMITS.max_aspect
    assert args.max_text_chars == NlpConfig().max_text_chars
    assert args.future_tolerance_days * 86_400 == DEFAULT_TOLERANCE
    assert args.earliest is None and parse_limit("1990-01-01T00:00:00Z") == EARLIEST
