"""What a write request holds, validated exactly as the dataset files are.

A request body is one JSON object or a list of them, each a record with the fields of its
dataset file (docs/dataset.md). The objects are written as the JSON lines of that file and
read back by the reader's own line loop (:func:`kg.reader.read_buffers`) against the served
graph's ids, so a wrong field is the file's rejection with the file's reason. One rejection
and nothing of the request is applied (the server answers 422 with every reason).

Two additions for feedback (``POST /v1/events``):

- an event without ``ts`` is stamped with the time the server received it, so recency
  weighting sees it as new, and replaying the log gives the same event;
- ``kind: "not-interested"`` is no dataset event (nothing in the graph records it). It names a
  known user and a known product; the server keeps it beside the model
  (:mod:`recommend.serve.feedback`) and logs it like any write.
"""

from __future__ import annotations

import errno
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kg.held import known_ids
from kg.reader import Rejection, read_buffers
from kg.records import DATASET_FILES, Dataset
from recommend.request import check_id
from recommend.serve.idempotency import DEFAULT_CALLER

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph
    from recommend.serve.served import WriteResult
    from recommend.serve.wal import Entry

NOT_INTERESTED = "not-interested"
#: The file each write route's records belong to.
ROUTE_FILES = {"events": "events.jsonl", "products": "products.jsonl",
               "users": "users.jsonl", "follows": "follows.jsonl", "posts": "posts.jsonl"}
MAX_RECORDS = 1000
#: A write refused for want of room (its log append failed: nothing applied) is answered
#: 507 Insufficient Storage with ``Retry-After`` (docs/architecture.md, section 4).
STORAGE_FULL = (errno.ENOSPC, errno.EDQUOT)
FULL_RETRY_AFTER = "60"


def storage_full(err: BaseException) -> str | None:
    """The answer's detail when ``err`` is the disk out of room (else None)."""
    if not isinstance(err, OSError) or err.errno not in STORAGE_FULL:
        return None
    return (f"the write-ahead log could not be written ({err.strerror or err}): nothing of "
            f"the request was applied; send it again in {FULL_RETRY_AFTER} s or later "
            "(with the same Idempotency-Key)")


class WriteRefused(ValueError):
    """A request that cannot be applied: the reasons, one per bad record."""

    def __init__(self, reasons: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(r["reason"] for r in reasons))
        self.reasons = reasons


@dataclass
class Checked:
    """A validated request: its dataset lines (what the log keeps), the typed records to add,
    the not-interested pairs (typed user, typed product) and how many records merged."""

    files: dict[str, list[Any]]  # per dataset file, its objects (None: a blank line)
    dataset: Dataset
    not_interested: list[tuple[str, str]] = field(default_factory=list)
    merged: int = 0

    @property
    def count(self) -> int:
        """Records to add to the graph."""
        return sum(len(getattr(self.dataset, name[:-6])) for name, _ in DATASET_FILES)


@dataclass
class Ticket:
    """One write request waiting in the writer's group-commit queue, and how it ended."""

    route: str
    body: Any
    key: str | None = None  # its Idempotency-Key (recommend.serve.idempotency)
    fingerprint: str = ""  # of its route and body, with a key
    caller: str = DEFAULT_CALLER  # whose key: the API key's name (the Idempotency-Key's scope)
    result: WriteResult | None = None
    error: BaseException | None = None
    done: bool = False
    checked: Checked | None = None  # once applied
    #: products, ``defer_model``: the graph checked against, the check, the graph grown by it
    ahead: tuple[KnowledgeGraph, Checked, KnowledgeGraph] | None = None

    def settle(self, result: WriteResult | None = None, *,
               error: BaseException | None = None) -> None:
        """End the request with its result or its error."""
        self.result, self.error, self.done = result, error, True

    def entry(self, checked: Checked) -> Entry:
        """The log entry of this request, checked as ``checked`` (with its Idempotency-Key,
        caller and answer, to answer it again, after a restart too)."""
        entry: Entry = {"at": time.time(), "files": checked.files}
        if checked.not_interested:
            entry["not_interested"] = [list(p) for p in checked.not_interested]
        if self.key is not None:
            entry["idempotency"] = {"key": self.key, "caller": self.caller,
                                    "body": self.fingerprint, "answer": {
                                        "accepted": checked.count, "merged": checked.merged,
                                        "not_interested": len(checked.not_interested)}}
        return entry


def as_records(body: Any) -> list[Any]:
    """The request's records: one object or a list of them (at most :data:`MAX_RECORDS`)."""
    records = body if isinstance(body, list) else [body]
    if not records:
        raise WriteRefused([{"record": 0, "reason": "no record in the request"}])
    if len(records) > MAX_RECORDS:
        raise WriteRefused([{"record": 0, "reason": f"{len(records)} records in one request; "
                             f"at most {MAX_RECORDS}"}])
    return records


def _not_interested(graph: KnowledgeGraph, obj: dict[str, Any]) -> tuple[str, str]:
    """The typed (user, product) of a not-interested event; ValueError with the reason."""
    user = check_id(obj.get("user"), "user")
    target = check_id(obj.get("target"), "product")
    user_id = user if user.startswith("user:") else f"user:{user}"
    item_id = target if target.startswith("product:") else f"product:{target}"
    if not graph.has_node(user_id):
        raise ValueError(f'"user": unknown user {user!r}')
    if not graph.has_node(item_id):
        raise ValueError(f'"target": unknown product {target!r}')
    return user_id, item_id


def check_files(graph: KnowledgeGraph, files: dict[str, list[Any]], label: str) -> Checked:
    """Validate per-file objects against ``graph`` (:func:`kg.reader.read_buffers`);
    :class:`WriteRefused` naming every rejection."""
    buffers = {name: b"".join(b"\n" if o is None  # a blank line keeps the numbering
                              else json.dumps(o, separators=(",", ":")).encode() + b"\n"
                              for o in objs)
               for name, objs in files.items() if any(o is not None for o in objs)}
    result = read_buffers(buffers, known=known_ids(graph), label=label)
    if result.rejections:
        raise WriteRefused([_reason(r) for r in result.rejections])
    merged = sum(c.merged for c in result.counts.values())
    return Checked(files, result.dataset, merged=merged)


def _reason(rejection: Rejection) -> dict[str, Any]:
    return {"file": rejection.file, "record": rejection.line, "reason": rejection.reason}


def check_request(graph: KnowledgeGraph, route: str, body: Any, *,
                  now: float | None = None) -> Checked:
    """Validate a write request to ``route`` (a key of :data:`ROUTE_FILES`) against
    ``graph``: the checked records, or :class:`WriteRefused` with every reason."""
    name = ROUTE_FILES[route]
    records = as_records(body)
    stamp = time.time() if now is None else now
    rows: list[Any] = []
    not_interested: list[tuple[int, dict[str, Any]]] = []
    for position, obj in enumerate(records, start=1):
        if route == "events" and isinstance(obj, dict):
            if obj.get("kind") == NOT_INTERESTED:
                not_interested.append((position, obj))
                rows.append(None)
                continue
            if obj.get("ts") is None:
                obj = {**obj, "ts": stamp}
        rows.append(obj)
    pairs, reasons = [], []
    for position, obj in not_interested:
        try:
            pairs.append(_not_interested(graph, obj))
        except ValueError as err:
            reasons.append({"file": f"POST /v1/{route}", "record": position, "reason": str(err)})
    try:
        checked = check_files(graph, {name: rows}, label=f"POST /v1/{route}: ")
    except WriteRefused as err:
        reasons = sorted(err.reasons + reasons, key=lambda r: r["record"])
    if reasons:
        raise WriteRefused(reasons)
    checked.not_interested = pairs
    return checked
