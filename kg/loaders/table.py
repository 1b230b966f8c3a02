"""Tables as shopgraph records: CSV or Parquet exports, or pandas DataFrames.

Each source row becomes the JSON object of a record (mapped cells; an empty cell is a
missing field) and is validated exactly as a line of a dataset file is
(:func:`kg.validate.parse_record`, then :class:`kg.validate.Validator` for references and
duplicates, kinds in dataset-file order: products, users, events). A row that fails is listed
with its file, line and reason (``"product: …"``, ``"event: …"``, since one row of an orders
export can make all three); an identical repeat (the same product on many orders) merges.

- CSV is read with the standard library (UTF-8, a byte-order mark allowed); ``line`` is the
  physical line the row starts on, the header being line 1. Parquet needs pandas and pyarrow
  (``pip install 'shopgraph[tables]'``); its ``line`` is the 1-based row number.
- Cells are text in CSV: ``price``, ``value``, ``age``, ``year`` and ``ts`` that read as numbers
  become numbers (``ts`` may also be an ISO 8601 date); ``categories`` is split on ``>``
  (``Home > Lighting``). An event's target is a product id; its kind is ``purchase`` unless
  ``events.kind`` is mapped. Users not mapped are the ids events name.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from kg.loaders.common import LoadResult, Rejection
from kg.loaders.table_mapping import ATTRIBUTES, FIELDS, TableSpec
from kg.reader import MAX_LINE_BYTES
from kg.reader import Rejection as ReaderRejection
from kg.records import DATASET_FILES, Dataset, Event, Product, Record, User
from kg.validate import RecordError, Validator, parse_record

_KINDS: dict[str, type[Record]] = {"products": Product, "users": User, "events": Event}
_SINGULAR = {"products": "product", "users": "user", "events": "event"}
_NUMBERS = {"price", "value", "ts"}
_INTEGERS = {"age", "year"}
#: fields whose typed cell may be an integral float pandas made of an integer column with a
#: gap (a float is no id); up to 2**53, where floats still hold every integer
_WHOLE = _INTEGERS | {"id", "user", "target"}

Row = dict[str, Any]
ROW_ERROR = "\0error"  # a row that could not be read carries only this key: the reason


def read_table(path: Path) -> tuple[list[str], Iterator[tuple[int, Row]]]:
    """The header and (line, row) pairs of a ``.csv`` or ``.parquet`` file."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: source table not found")
    if path.suffix.lower() in (".parquet", ".pq"):
        return _read_parquet(path)
    return _read_csv(path)


def _read_csv(path: Path) -> tuple[list[str], Iterator[tuple[int, Row]]]:
    # a cell may be as long as a dataset file's line (the csv module's own limit is 128 Ki
    # characters: a long HTML description failed the whole import); longer is an error
    csv.field_size_limit(max(csv.field_size_limit(), MAX_LINE_BYTES))
    try:
        with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
            header = next(csv.reader(handle), None)
    except csv.Error as err:
        raise ValueError(f"{path}: not a readable CSV header ({err})") from None
    if header is None:
        raise ValueError(f"{path}: empty file, no header row")
    if any(_not_utf8(name) for name in header):
        raise ValueError(f"{path}: the header row is not UTF-8 text")
    return header, _csv_rows(path, header)


def _csv_rows(path: Path, header: list[str]) -> Iterator[tuple[int, Row]]:
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        start = reader.line_num + 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as err:
                raise ValueError(f"{path} line {start}: unreadable CSV ({err})") from None
            if any(c.strip() for c in cells):
                bad = next((c for c in cells if not c.isprintable() and _not_utf8(c)), None)
                yield start, ({ROW_ERROR: "not UTF-8 text"} if bad is not None
                              else dict(zip(header, cells, strict=False)))
            start = reader.line_num + 1


def _not_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _read_parquet(path: Path) -> tuple[list[str], Iterator[tuple[int, Row]]]:
    try:
        import pandas as pd
    except ImportError:
        raise ValueError(f"{path}: reading Parquet needs pandas and pyarrow "
                         "(pip install 'shopgraph[tables]')") from None
    try:
        frame = pd.read_parquet(path)
    except ImportError as err:
        raise ValueError(f"{path}: reading Parquet needs pyarrow "
                         f"(pip install 'shopgraph[tables]'): {err}") from None
    return [str(c) for c in frame.columns], frame_rows(frame)


def frame_rows(frame: Any) -> Iterator[tuple[int, Row]]:
    """(1-based row number, row) of a DataFrame, cells as plain Python values."""
    columns = [str(c) for c in frame.columns]
    for n, values in enumerate(frame.itertuples(index=False, name=None), start=1):
        yield n, {c: _plain(v) for c, v in zip(columns, values, strict=True)}


def _plain(value: Any) -> Any:
    """numpy / pandas cell values as JSON-like Python values; missing ones as None."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if hasattr(value, "isoformat") and hasattr(value, "tzinfo"):  # Timestamp, datetime
        return None if value != value else value.isoformat()  # NaT != NaT
    if hasattr(value, "tolist"):  # numpy scalars and arrays (a list of categories)
        value = value.tolist()
    if isinstance(value, float) and math.isnan(value):
        return None
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
    return value


def _cell(name: str, value: Any) -> Any:
    """One mapped cell as the record field's JSON value (None: missing)."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if name in _NUMBERS or name in _INTEGERS:
            try:
                number = float(text)
            except ValueError:
                return value  # the parser names the field and the bad text
            return int(number) if name in _INTEGERS and number.is_integer() else number
        if name == "categories":
            return [part.strip() for part in text.split(">") if part.strip()]
        return value
    return _whole(name, value)


def row_object(kind: str, columns: dict[str, str], row: Row) -> dict[str, Any]:
    """The JSON object of a ``kind`` record from one row (``columns``: field -> column)."""
    obj: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    for name, column in columns.items():
        value = _cell(name.removeprefix(ATTRIBUTES), row.get(column))
        if value is None:
            continue
        if name.startswith(ATTRIBUTES):
            attributes[name.removeprefix(ATTRIBUTES)] = value
        else:
            obj[name] = value
    if attributes:
        obj["attributes"] = attributes
    if kind == "events":
        obj.setdefault("kind", "purchase")
        if isinstance(obj.get("target"), (str, int)):
            obj["target"] = f"product:{obj['target']}"
    return obj


class TableConverter:
    """Rows of any tables to validated records, collecting the rows that fail."""

    def __init__(self) -> None:
        self.validator = Validator()
        self.dataset = Dataset()
        self.rejected: list[Rejection] = []
        self.rows_read: dict[str, int] = {}

    def add_rows(self, kind: str, columns: dict[str, str], rows: Iterable[tuple[int, Row]],
                 source: str) -> None:
        """Convert and validate the rows of one source into ``kind`` records."""
        record_type = _KINDS[kind]
        out = getattr(self.dataset, kind)
        count = 0
        for line, row in rows:
            count += 1
            if ROW_ERROR in row:
                self.rejected.append(Rejection(source, line, row[ROW_ERROR]))
                continue
            try:
                record = self.validator.check(parse_record(record_type,
                                                           row_object(kind, columns, row)),
                                              where=(source, line))
            except RecordError as err:
                self.rejected.append(Rejection(source, line, f"{_SINGULAR[kind]}: {err}"))
                continue
            if record is not None:
                out.append(record)
        self.rows_read[source] = max(self.rows_read.get(source, 0), count)

    def add_event_users(self, user_column: str, rows: Iterable[tuple[int, Row]],
                        source: str) -> None:
        """Users of the ids an events table names (rows without a valid id are left to the
        event's own rejection)."""
        for line, row in rows:
            try:
                record = self.validator.check(
                    parse_record(User, row_object("users", {"id": user_column}, row)),
                    where=(source, line))
            except RecordError:
                continue
            if record is not None:
                self.dataset.users.append(record)

    def result(self) -> LoadResult:
        """The converted dataset, the rejected rows and rows read per source file."""
        rejected = sorted(self.rejected, key=lambda r: (r.file, r.line))  # stable: kind order
        return LoadResult(self.dataset, rejected=rejected, rows_read=dict(self.rows_read))


def load_tables(specs: dict[str, TableSpec], default: Path | None = None) -> LoadResult:
    """Read every mapped table (``default``: the file of specs without one) into records."""
    files: dict[str, Path] = {}
    for kind in FIELDS:
        if kind in specs:
            path = specs[kind].file or default
            if path is None:
                raise ValueError(f"import table: no file for {kind}; give SRC or its own file")
            files[kind] = path
    headers = {path: read_table(path)[0] for path in set(files.values())}
    for kind, path in files.items():
        absent = [c for c in specs[kind].columns.values() if c not in headers[path]]
        if absent:
            raise ValueError(f"{path}: no column {absent[0]!r} (mapped for {kind}); its "
                             f"columns: {', '.join(headers[path])}")
        twice = [c for c in specs[kind].columns.values() if headers[path].count(c) > 1]
        if twice:  # a row's dict would keep the last cell of the name, unsaid
            raise ValueError(f"{path}: the header names column {twice[0]!r} twice (mapped for "
                             f"{kind}); rename one of them")
    converter = TableConverter()
    if "users" not in specs and "events" in specs:
        converter.add_event_users(specs["events"].columns["user"],
                                  read_table(files["events"])[1], files["events"].name)
    for kind, path in files.items():
        converter.add_rows(kind, specs[kind].columns, read_table(path)[1], path.name)
    return converter.result()


def frames_to_dataset(frames: dict[str, Any], rejected: list[ReaderRejection] | None = None
                      ) -> Dataset:
    """Validated records from DataFrames whose columns are named as the record fields
    (``kg.records``; other columns are ignored, as unknown JSON keys are), each row checked
    like a dataset line. A failing row goes to ``rejected`` (frame name, 1-based row, reason,
    the row), or, when no list is given, raises ValueError naming the first ones."""
    validator = Validator()
    dataset = Dataset()
    bad: list[ReaderRejection] = []
    unknown = set(frames) - {name.removesuffix(".jsonl") for name, _ in DATASET_FILES}
    if unknown:
        raise ValueError(f"from_pandas: unknown record kind(s) {sorted(unknown)}")
    for name, record_type in DATASET_FILES:
        kind = name.removesuffix(".jsonl")
        frame = frames.get(kind)
        if frame is None:
            continue
        for n, row in frame_rows(frame):
            obj = {k: _whole(k, v) for k, v in row.items() if v is not None}
            try:
                record = validator.check(parse_record(record_type, obj), where=(kind, n))
            except RecordError as err:
                bad.append(ReaderRejection(kind, n, str(err), repr(row)[:2000]))
                continue
            if record is not None:
                getattr(dataset, kind).append(record)
    if rejected is not None:
        rejected.extend(bad)
    elif bad:
        first = "; ".join(f"{r.file} row {r.line}: {r.reason}" for r in bad[:3])
        raise ValueError(f"from_pandas: {len(bad)} row(s) rejected ({first}); pass "
                         "rejected=[] to keep the valid rows and collect the others")
    return dataset


def _whole(name: str, value: Any) -> Any:
    """A cell as given, except an integral float where an integer is expected (pandas turns
    an integer column with a missing cell into floats; a CSV cell typed as a number)."""
    if (name in _WHOLE and isinstance(value, float) and value.is_integer()
            and abs(value) <= 2**53):
        return int(value)
    return value
