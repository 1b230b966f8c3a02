"""What every loader returns, and how an import is written beside the dataset.

A loader turns a public dataset into a :class:`kg.records.Dataset` plus what the
record schema cannot carry. :func:`write_load_result` writes it all into one folder:

- ``products.jsonl`` … ``events.jsonl``: the dataset, via :func:`kg.jsonl.write_dataset`;
- ``relations.jsonl`` (only when the dataset has some): edges that are not user records,
  typed ids, one per line: ``{"relation": "also_bought", "src": "product:X",
  "dst": "product:Y"}``. An endpoint may have no record (e.g. a related product outside
  the catalogue); a graph builder may walk through it but should not recommend it;
- ``heldout/<name>.jsonl``: held-out evaluation rows, never mixed into ``events``, e.g.
  ``test_purchases.jsonl`` with ``{"user": "A2…", "product": "B00…"}`` (raw ids);
- ``import_rejected.jsonl`` (always, maybe empty): source rows not converted, as
  ``{"file": "u.data", "line": 17, "reason": "…"}`` (1-based physical line numbers).

Every source row is either converted or listed in ``import_rejected.jsonl``.
"""

from __future__ import annotations

import gzip
import io
import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg.jsonl import write_dataset, write_jsonl
from kg.records import Dataset

RELATIONS_FILE = "relations.jsonl"
HELDOUT_DIR = "heldout"
REJECTED_FILE = "import_rejected.jsonl"
#: 9999-12-31T23:59:59Z: a source timestamp past it is a bad row (a later one can overflow
#: the float it becomes; the build's time window refuses far less anyway)
MAX_TS_SECONDS = 253_402_300_799


@dataclass(slots=True)
class RelationEdges:
    """The edges of one relation between non-user nodes, as aligned columns of typed ids:
    ``src[i]`` → ``dst[i]``, e.g. ``product:X`` also_bought ``product:Y``.

    Columns, not one object per edge, because a dataset may hold millions of edges.
    """

    relation: str
    src: list[str] = field(default_factory=list)
    dst: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.src)


@dataclass(frozen=True, slots=True)
class Rejection:
    """A source row that was not converted: where it is and why."""

    file: str
    line: int
    reason: str


@dataclass(slots=True)
class LoadResult:
    """A loaded dataset plus what the record files cannot carry.

    ``heldout`` maps a file name (``"test_purchases.jsonl"``) to its rows (plain dicts).
    ``rows_read`` counts the source rows the loader looked at, per source file.
    """

    dataset: Dataset
    relations: list[RelationEdges] = field(default_factory=list)
    heldout: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    rejected: list[Rejection] = field(default_factory=list)
    rows_read: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ImportCounts:
    """Rows written per output file (paths relative to the output folder)."""

    files: dict[str, int]
    rejected: int

    def summary(self) -> str:
        """One line: ``products.jsonl 1682, …, rejected 0``."""
        parts = [f"{name} {count}" for name, count in self.files.items()]
        return ", ".join([*parts, f"rejected {self.rejected}"])


def write_load_result(result: LoadResult, out_dir: str | Path) -> ImportCounts:
    """Write ``result`` into ``out_dir`` (each file atomically); return the row counts.

    Side files a previous import left behind (``relations.jsonl``, held-out files) are
    removed when this result has none, so the folder always describes one import.
    """
    out = Path(out_dir)
    files = dict(write_dataset(result.dataset, out))
    relations_path = out / RELATIONS_FILE
    if any(result.relations):
        files[RELATIONS_FILE] = write_jsonl(
            relations_path,
            (
                {"relation": edges.relation, "src": src, "dst": dst}
                for edges in result.relations
                for src, dst in zip(edges.src, edges.dst, strict=True)
            ),
        )
    else:
        relations_path.unlink(missing_ok=True)
    heldout_dir = out / HELDOUT_DIR
    if heldout_dir.is_dir():
        for stale in heldout_dir.glob("*.jsonl"):
            if stale.name not in result.heldout:
                stale.unlink()
    for name, rows in result.heldout.items():
        files[f"{HELDOUT_DIR}/{name}"] = write_jsonl(heldout_dir / name, rows)
    write_jsonl(
        out / REJECTED_FILE,
        ({"file": r.file, "line": r.line, "reason": r.reason} for r in result.rejected),
    )
    return ImportCounts(files=files, rejected=len(result.rejected))


MAX_DIGITS = 18  # the longest run of digits read as an integer: int64 holds it


def is_digits(text: str) -> bool:
    """Whether ``text`` is 1 to :data:`MAX_DIGITS` ASCII digits, which ``int`` reads and int64
    holds.

    ``str.isdigit`` alone also accepts superscripts and circled digits (``"²"``, ``"①"``,
    bytes 0xB2/0xB3/0xB9 of a latin-1 file), on which ``int`` raises, and any length (``int``
    refuses over 4,300 digits, numpy over 18).
    """
    return len(text) <= MAX_DIGITS and text.isascii() and text.isdigit()


def json_object(line: str, *required: str) -> tuple[dict[str, Any] | None, str]:
    """The JSON object of a source line and ``""``, or None and why it cannot be used:
    malformed JSON, an integer of more than 4,300 digits, nested too deeply (``json.loads``
    raises ValueError or RecursionError there, not JSONDecodeError), JSON but not an object,
    or one of the ``required`` keys not a non-blank string (:func:`missing_text`)."""
    try:
        value = json.loads(line)
    except json.JSONDecodeError as err:
        return None, f"invalid JSON: {err.msg}"
    except ValueError as err:
        return None, f"invalid JSON: {err}"
    except RecursionError:
        return None, "invalid JSON: nested too deeply"
    if not isinstance(value, dict):
        return None, "not a JSON object"
    reason = missing_text(value, *required)
    return (None, reason) if reason else (value, "")


def missing_text(record: dict[str, Any], *keys: str) -> str:
    """Why ``record`` cannot be used when one of ``keys`` is not a non-blank string
    (``missing or empty 'key'``, the first such key), else ``""``."""
    for key in keys:
        value = record.get(key)
        if not isinstance(value, str) or not value.strip():
            return f"missing or empty {key!r}"
    return ""


def read_lines(path: Path, *, encoding: str = "utf-8") -> list[str]:
    """The lines of a text file (gzip if it ends in ``.gz``), without line ends.

    A missing file raises ``FileNotFoundError`` naming it; one that is not gzip (for ``.gz``)
    or not ``encoding`` text, ``ValueError`` naming it (and the line of the first bad byte).
    """
    if not path.is_file():
        raise FileNotFoundError(f"{path}: source file not found")
    raw = path.read_bytes()
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as err:  # not gzip, truncated, corrupt
            raise ValueError(f"{path}: not a readable gzip file ({err})") from None
    try:
        text = io.TextIOWrapper(io.BytesIO(raw), encoding=encoding, newline=None).read()
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise ValueError(f"{path} line {line}: not {encoding} text (byte 0x"
                         f"{raw[err.start:err.start + 1].hex()} at offset {err.start})") from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines
