"""Reading a dataset folder of JSON Lines into validated records, quarantining bad lines.

The files of :data:`kg.records.DATASET_FILES` are read in that order (later files refer to
earlier ones); each is optional, other files in the folder are ignored. Every non-blank line
is either accepted or rejected, so ``read == accepted + rejected`` holds for every file:

- a line over :data:`MAX_LINE_BYTES` is rejected without being loaded whole;
- bytes that are not UTF-8 are rejected with the offset of the first bad byte;
- malformed JSON, a non-object, bad fields (:func:`kg.validate.parse_record`), unknown
  references and conflicting duplicates (:class:`kg.validate.Validator`) are rejected;
- an identical duplicate is accepted and merged (counted in ``accepted`` and ``merged``);
- a product, user or post with a bad optional field is kept without it, the field noted in
  ``dropped`` (:mod:`kg.optional_fields`).

Blank (whitespace-only) lines are skipped and not counted; line numbers stay physical
(1-based), so a rejection's ``line`` is the line an editor shows. A UTF-8 byte-order mark
at the start of a file is ignored. Timestamps must fall in one :class:`kg.timewindow.TimeWindow`
fixed when the read starts (by default 1990 to the wall clock plus a day).

A dataset file must be a regular file inside the folder (:func:`dataset_file`), else an
error naming it, before anything is read, the same whether an outside target exists or not.
"""

from __future__ import annotations

import codecs
import contextlib
import functools
import gc
import io
import json
import os
import re
import time
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, cast

from kg.atomic import atomic_write_chunks
from kg.jsonl import json_line
from kg.line_shape import long_line_hint, malformed_hint
from kg.optional_fields import FieldNote, parse_keeping
from kg.records import DATASET_FILES, Dataset, Event, Record
from kg.timewindow import TimeWindow
from kg.validate import KnownIds, RecordError, Validator, event_fields

MAX_LINE_BYTES = 1 << 20  # 1 MiB of content, not counting the line ending
RAW_CHARS = 2000  # how much of a rejected line the quarantine keeps
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_PROGRESS_EVERY = 1 << 14  # lines between progress-bar updates
_BLANK = object()  # _line_value's answer for a blank line
_SCAN = json.JSONDecoder().scan_once


@dataclass(frozen=True, slots=True)
class Rejection:
    """One quarantined line: where it was, why, and its text (truncated, repr-safe)."""

    file: str
    line: int
    reason: str
    raw: str


@dataclass(slots=True)
class FileCounts:
    """Lines of one file. ``merged`` identical duplicates are included in ``accepted``.

    ``seconds`` is the time spent reading the file (not compared, not shown).
    """

    read: int = 0
    accepted: int = 0
    rejected: int = 0
    merged: int = 0
    fields_dropped: int = field(default=0, repr=False)  # optional fields of kept records
    seconds: float = field(default=0.0, compare=False, repr=False)


@dataclass(slots=True)
class ReadResult:
    """The accepted records, the quarantined lines (in file and line order; the Spark
    build's streams them from its tables), per-file counts (by file name), the time
    window timestamps were checked against, and the ids of rejected products, users and
    posts with why (:meth:`kg.validate.Validator.refusals`); ``dropped``: the bad optional
    fields dropped from kept records (:mod:`kg.optional_fields`)."""

    dataset: Dataset
    rejections: Sequence[Rejection] = field(default_factory=list)
    counts: dict[str, FileCounts] = field(default_factory=dict)
    window: TimeWindow = field(default_factory=TimeWindow)
    refused: dict[str, dict[str, str]] = field(default_factory=dict)
    dropped: list[FieldNote] = field(default_factory=list)


_UTF16 = "the file looks UTF-16: save it as UTF-8"
_PACKED = (".gz", ".bz2", ".xz", ".zst", ".zip")  # a dataset file compressed: named, not read


def raw_text(data: bytes) -> str:
    """A rejected line as the quarantine keeps it: decoded (bad bytes escaped), at most
    :data:`RAW_CHARS` characters."""
    text = data[: RAW_CHARS * 4].decode("utf-8", "backslashreplace").rstrip("\r\n")
    return text if len(text) <= RAW_CHARS else text[:RAW_CHARS] + "… [truncated]"


def _skip_rest(handle: BinaryIO, head: bytes) -> int:
    """Consume a long line's remainder in bounded chunks; return the line's content size."""
    size = len(head)
    last = head
    while not last.endswith(b"\n"):
        chunk = handle.readline(MAX_LINE_BYTES)
        if not chunk:
            break
        size += len(chunk)
        last = chunk
    return size - (len(last) - _content_size(last))


def _content_size(line: bytes) -> int:
    end = len(line)
    if line.endswith(b"\n"):
        end -= 2 if line.endswith(b"\r\n") else 1
    return end


def _loads(text: str) -> Any:
    """``json.loads`` with failures as RecordError, and :data:`_BLANK` for a blank line."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        if text.isspace():
            return _BLANK
        if "\x00" in text:  # raw NULs: every other byte of ASCII in UTF-16
            raise RecordError(f"malformed JSON: holds NUL bytes ({_UTF16})") from None
        raise RecordError(f"malformed JSON: {error.msg} at character {error.pos + 1}"
                          f"{malformed_hint(text)}") from None
    except ValueError as error:  # e.g. an integer of more than 4300 digits
        raise RecordError(f"malformed JSON: {error}") from None
    except RecursionError:
        raise RecordError("malformed JSON: nested too deeply") from None


def decode_line(line: bytes) -> str:
    """The UTF-8 text of a record line; RecordError naming the first byte that is not."""
    try:
        return line.decode()
    except UnicodeDecodeError as error:
        bad = line[error.start : error.start + 1].hex()
        hint = f" ({_UTF16})" if line[:2] in (b"\xff\xfe", b"\xfe\xff") else \
            " (the file looks gzip-compressed: gunzip it)" if line[:2] == b"\x1f\x8b" else ""
        raise RecordError(f"not UTF-8: invalid byte 0x{bad} at byte offset {error.start}{hint}"
                          ) from None


def _has_lone_surrogate(text: str, obj: Any) -> bool:
    if not _SURROGATE_ESCAPE.search(text):
        return False
    try:
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class Refusal(str):
    """Why a line is rejected, as :func:`record_lines` gives it in place of the line's JSON
    value (a JSON value is never one)."""

    __slots__ = ()


def record_lines(handle: BinaryIO, first_line: int = 0, *, file_start: bool = True
                 ) -> Iterator[tuple[int, bytes, Any]]:
    """The line loop of every JSON Lines file read here: each non-blank line of ``handle`` as
    (its 1-based number counted from ``first_line``, its bytes, its JSON value or a
    :class:`Refusal`).

    A line is refused when its content is over :data:`MAX_LINE_BYTES` (its bytes are then the
    first ``MAX_LINE_BYTES + 2``, the rest is skipped in bounded chunks), not UTF-8, malformed
    JSON, or holds an unpaired ``\\u`` surrogate escape. Blank lines are skipped (their numbers
    count). ``file_start``: ``handle`` is at the start of a file (it must ``peek``), whose
    UTF-8 byte-order mark is skipped.
    """
    if file_start and handle.peek(3)[:3] == codecs.BOM_UTF8:
        handle.read(3)
    readline = handle.readline
    lineno = first_line
    while line := readline(MAX_LINE_BYTES + 2):
        lineno += 1
        if len(line) > MAX_LINE_BYTES and _content_size(line) > MAX_LINE_BYTES:
            size = _skip_rest(handle, line)
            yield lineno, line, Refusal(f"line is longer than 1 MB ({size:,} bytes)"
                                        f"{long_line_hint(line)}")
            continue
        value = _line_value(line)
        if value is not _BLANK:
            yield lineno, line, value


def _line_value(line: bytes) -> Any:
    """The JSON value of one line (:data:`_BLANK` for a blank line), or the
    :class:`Refusal` of bytes that are not UTF-8, malformed JSON or an unpaired surrogate
    escape."""
    try:
        text = decode_line(line)
        try:  # scan_once skips json.loads's wrappers, about half its time on short lines
            obj, end = _SCAN(text, 0)
            if end != len(text) and (end != len(text) - 1 or text[end] != "\n"):
                obj = _loads(text)  # trailing data, or a blank line
        except (StopIteration, ValueError, RecursionError):
            obj = _loads(text)
        if obj is not _BLANK and "\\u" in text and _has_lone_surrogate(text, obj):
            raise RecordError("invalid JSON string: an unpaired \\u surrogate escape")
    except RecordError as error:
        return Refusal(error)
    return obj


def _read_file(path: Path, kind: type[Record], validator: Validator, out: list[Record],
               result: ReadResult, progress: bool, window: TimeWindow) -> FileCounts:
    with open(path, "rb") as handle:
        return _read_lines(handle, path.name, os.path.getsize(path), kind, validator, out,
                           result, progress, window)


def _read_lines(handle: BinaryIO, name: str, size: int, kind: type[Record], validator: Validator,
                out: list[Record], result: ReadResult, progress: bool,
                window: TimeWindow | None = None, lenient: bool = True) -> FileCounts:
    """Read the lines of one dataset file from ``handle`` (buffered: it must ``peek``) into
    ``out`` and ``result``'s rejections and dropped fields (none unless ``lenient``), which
    name the file ``name``; ``window``: the accepted timestamps (None: the parsers' default)."""
    from tqdm.auto import tqdm

    started = time.perf_counter()
    is_event = kind is Event
    parse = (functools.partial(event_fields, window=window) if is_event
             else functools.partial(parse_keeping, kind, window=window, lenient=lenient))
    admit_event, check, refuse = validator.admit_event, validator.check, validator.refuse
    append = out.append
    counts = FileCounts()
    read = accepted = merged = lineno = 0
    rejections, dropped = cast(list[Rejection], result.rejections), result.dropped
    first_rejection, first_drop = len(rejections), len(dropped)

    def reject(reason: str, data: bytes) -> None:
        rejections.append(Rejection(name, lineno, reason, raw_text(data)))

    with tqdm(total=size, desc=name, unit="B", unit_scale=True, disable=not progress) as bar:
        for lineno, line, value in record_lines(handle):
            read += 1
            if not lineno % _PROGRESS_EVERY:
                bar.update(handle.tell() - bar.n)
            if type(value) is Refusal:
                reject(str(value), line)
                continue
            try:
                if is_event:
                    record = admit_event(*parse(value))
                else:
                    record, drops = parse(value)
                    record = check(record, where=(name, lineno))
                    dropped.extend(FieldNote(name, lineno, *drop) for drop in drops)
            except RecordError as error:
                reject(str(error), line)
                if not is_event:
                    refuse(kind, value, (name, lineno), str(error))
                continue
            accepted += 1
            if record is None:
                merged += 1
            else:
                append(record)
        bar.update(bar.total - bar.n)
    counts.read, counts.accepted, counts.merged = read, accepted, merged
    counts.rejected = len(rejections) - first_rejection
    counts.fields_dropped = len(dropped) - first_drop
    counts.seconds = time.perf_counter() - started
    return counts


def dataset_file(root: str | os.PathLike[str], name: str) -> Path | None:
    """``root/name`` if present (None if absent); ValueError unless it is a regular file inside
    ``root`` (a symlink to another file inside is fine)."""
    path = Path(root) / name
    if not path.is_symlink() and not path.exists():
        return None
    if not path.resolve().is_relative_to(Path(root).resolve()):
        raise ValueError(f"{path}: a symlink leading outside the dataset folder; dataset files "
                         "must be regular files inside it")
    if not path.is_file():
        raise ValueError(f"{path}: not a regular file (dataset files must be regular files)")
    return path


def read_dataset(
    folder: str | os.PathLike[str], *, known: KnownIds | None = None, progress: bool = True,
    window: TimeWindow | None = None, only: Collection[str] | None = None,
) -> ReadResult:
    """Read and validate the dataset in ``folder``; bad lines go to ``rejections``.

    ``known`` holds what an existing graph already has (for adding records to it); ``window``
    the accepted timestamps (default :meth:`TimeWindow.until`: 1990 to now plus a day);
    ``only``: read just these dataset files (the others count zero lines; for a reader that
    validates the rest elsewhere, :mod:`sparkbuild.records`).
    Raises FileNotFoundError if ``folder`` holds none of the dataset files, ValueError if one
    is not a regular file inside it (:func:`dataset_file`).

    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (root / "users.jsonl").write_text('{"id": "u1"}\\n{"id": ""}\\n')
    >>> result = read_dataset(root, progress=False)
    >>> result.counts["users.jsonl"]
    FileCounts(read=2, accepted=1, rejected=1, merged=0)
    >>> result.rejections[0].reason
    '"id": id must not be empty or blank'
    """
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such dataset folder")
    present = [(name, kind) for name, kind in DATASET_FILES if dataset_file(root, name)]
    if not present:
        names = ", ".join(name for name, _ in DATASET_FILES)
        packed = [f"{n}{x}" for n, _ in DATASET_FILES for x in _PACKED
                  if (root / f"{n}{x}").exists()]
        hint = f"; {', '.join(packed)}: compressed, not read (decompress them)" if packed else ""
        raise FileNotFoundError(f"{root}: not a dataset folder, none of {names} is here{hint}")
    window = window or TimeWindow.until()
    validator = Validator(known, window=window)
    rejections: list[Rejection] = []
    result = ReadResult(Dataset(), rejections, {name: FileCounts() for name, _ in DATASET_FILES},
                        window)
    with _no_cyclic_gc():
        for name, kind in present:
            if only is not None and name not in only:
                continue
            out = getattr(result.dataset, name.removesuffix(".jsonl"))
            result.counts[name] = _read_file(root / name, kind, validator, out, result,
                                             progress, window)
    result.refused = validator.refusals()
    return result


def read_buffers(
    files: Mapping[str, bytes], *, known: KnownIds | None = None, label: str = ""
) -> ReadResult:
    """Validate dataset files held in memory (file name -> its JSON Lines bytes) exactly as
    :func:`read_dataset` validates a folder's files: the same line loop, checks, counts and
    quarantine, but a bad optional field rejects its record (the caller can resend it).
    Rejections name the file ``label + name``.

    >>> result = read_buffers({"users.jsonl": b'{"id": "u1"}\\n{"id": 7.5}\\n'}, label="add():")
    >>> [u.id for u in result.dataset.users], result.rejections[0].file
    (['u1'], 'add():users.jsonl')
    """
    unknown = set(files) - {name for name, _ in DATASET_FILES}
    if unknown:
        raise ValueError(f"not dataset files: {sorted(unknown)}")
    validator = Validator(known)
    rejections: list[Rejection] = []
    result = ReadResult(Dataset(), rejections, {name: FileCounts() for name, _ in DATASET_FILES})
    for name, kind in DATASET_FILES:
        data = files.get(name)
        if data is None:
            continue
        out = getattr(result.dataset, name.removesuffix(".jsonl"))
        handle = io.BufferedReader(io.BytesIO(data))  # type: ignore[arg-type]
        result.counts[name] = _read_lines(handle, label + name, len(data), kind, validator,
                                          out, result, False, lenient=False)
    return result


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cycle collector: reading makes millions of long-lived acyclic objects, and
    its generational passes over them cost 10-20% of the time; reference counting still
    frees everything, and the collector resumes (if it was on) afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def write_rejections(path: str | os.PathLike[str], rejections: Iterable[Rejection]) -> None:
    """Write the quarantine atomically, streaming: one JSON object per line with file, line,
    reason and raw."""
    atomic_write_chunks(path, (json_line(_rejection_json(r)) for r in rejections))


def rejection_lines(rejections: Iterable[Rejection]) -> bytes:
    """The lines :func:`write_rejections` writes, as bytes (to append to a quarantine)."""
    return b"".join(json_line(_rejection_json(r)) for r in rejections)


def _rejection_json(r: Rejection) -> dict[str, Any]:
    return {"file": r.file, "line": r.line, "reason": r.reason, "raw": r.raw}
