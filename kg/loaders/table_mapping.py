"""Which source table and columns become which record fields, for ``shopgraph import table``.

A mapping names, per record kind (``products``, ``users``, ``events``), the file it is read
from and the column of each field: ``products.id=Handle``, ``events.ts=Created at``,
``products.attributes.colour=Colour`` (an attribute). It comes from ``--map KIND.FIELD=COLUMN``
options, or from a small JSON or TOML file of the same content, options winning::

    [products]                    # TOML; JSON is {"products": {"file": ..., "id": ...}, ...}
    file = "orders.csv"           # relative to the mapping file; default: the SRC argument
    id = "Lineitem sku"
    title = "Lineitem name"
    price = "Lineitem price"

    [events]
    user = "Email"
    target = "Lineitem sku"
    ts = "Created at"             # an event's kind is "purchase" unless events.kind is mapped

Users need no mapping when events have one: the ids in ``events.user`` become users.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The record kinds a table can fill, in reading order, and the fields a column may fill.
FIELDS: dict[str, tuple[str, ...]] = {
    "products": ("id", "title", "description", "brand", "categories", "price", "image", "year"),
    "users": ("id", "name", "age", "gender", "location", "bio"),
    "events": ("user", "target", "kind", "value", "ts", "text"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "products": ("id", "title"),
    "users": ("id",),
    "events": ("user", "target"),
}
ATTRIBUTES = "attributes."


@dataclass
class TableSpec:
    """One record kind's source file (None: the default source) and field -> column."""

    file: Path | None = None
    columns: dict[str, str] = field(default_factory=dict)


def _check_field(kind: str, name: str, where: str) -> None:
    if kind not in FIELDS:
        raise ValueError(f"{where}: unknown record kind {kind!r}, expected one of "
                         f"{', '.join(FIELDS)}")
    if kind != "events" and name.startswith(ATTRIBUTES) and len(name) > len(ATTRIBUTES):
        return
    if name not in FIELDS[kind]:
        extra = f", {ATTRIBUTES}NAME" if kind != "events" else ""
        raise ValueError(f"{where}: {kind} has no field {name!r}, expected one of "
                         f"{', '.join(FIELDS[kind])}{extra}")


def parse_map_option(text: str) -> tuple[str, str, str]:
    """``"products.id=Handle"`` as ``("products", "id", "Handle")``; ValueError naming it."""
    target, sep, column = text.partition("=")
    kind, dot, name = target.strip().partition(".")
    if not sep or not dot or not column.strip():
        raise ValueError(f"--map {text!r}: expected KIND.FIELD=COLUMN, e.g. products.id=Handle")
    _check_field(kind, name, f"--map {text!r}")
    return kind, name, column.strip()


def load_mapping_file(path: Path) -> dict[str, TableSpec]:
    """A JSON (``.json``) or TOML mapping file as specs; files relative to its folder."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: mapping file not found")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() == ".json":
            data: Any = json.loads(text)
        else:
            import tomllib  # Python 3.11+; a JSON mapping works everywhere

            data = tomllib.loads(text)
    except ImportError:
        raise ValueError(f"{path}: TOML needs Python 3.11+; write the mapping as JSON") from None
    except ValueError as err:  # JSONDecodeError and TOMLDecodeError are ValueErrors
        raise ValueError(f"{path}: not a valid mapping file ({err})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a table of record kinds, got {type(data).__name__}")
    specs: dict[str, TableSpec] = {}
    for kind, entries in data.items():
        if not isinstance(entries, dict):
            raise ValueError(f"{path}: {kind!r} must be a table of FIELD = COLUMN")
        spec = specs.setdefault(kind, TableSpec())
        for name, column in _flatten(entries):
            if not isinstance(column, str) or not column.strip():
                raise ValueError(f"{path}: {kind}.{name} must name a column (a string)")
            if name == "file":
                if kind not in FIELDS:
                    _check_field(kind, "file", str(path))
                spec.file = path.parent / column
                continue
            _check_field(kind, name, str(path))
            spec.columns[name] = column
    return specs


def _flatten(entries: dict[str, Any]) -> list[tuple[str, Any]]:
    """``{"attributes": {"colour": "C"}}`` as ``[("attributes.colour", "C")]``."""
    out: list[tuple[str, Any]] = []
    for name, value in entries.items():
        if name == "attributes" and isinstance(value, dict):
            out += [(f"{ATTRIBUTES}{k}", v) for k, v in value.items()]
        else:
            out.append((name, value))
    return out


def build_mapping(map_options: list[str], mapping_file: Path | None = None,
                  files: dict[str, Path | None] | None = None) -> dict[str, TableSpec]:
    """The mapping from a file, then ``--map`` options and per-kind files on top."""
    specs = load_mapping_file(mapping_file) if mapping_file is not None else {}
    for text in map_options:
        kind, name, column = parse_map_option(text)
        specs.setdefault(kind, TableSpec()).columns[name] = column
    for kind, path in (files or {}).items():
        if path is not None:
            specs.setdefault(kind, TableSpec()).file = path
    for kind, spec in specs.items():
        missing = [f for f in REQUIRED[kind] if f not in spec.columns]
        if missing:
            raise ValueError(f"mapping of {kind}: no column for {', '.join(missing)} "
                             f"(give --map {kind}.{missing[0]}=COLUMN)")
    if not specs:
        raise ValueError("import table: no mapping; give --map KIND.FIELD=COLUMN or --mapping")
    return specs
