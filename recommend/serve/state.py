"""The served state: the Recommender, its write-ahead log, the refusals, and snapshots.

A state folder (``--state``) holds ``log.jsonl`` (:mod:`recommend.serve.wal`) and
``snapshot/``, an artifact written by :meth:`recommend.Recommender.save` (atomic, stamped,
verified on load; without the SPARQL store, which the server does not expose and which cost
~15 s of a snapshot's ~16 on ML-100K). The snapshot's manifest records ``serve.log_seq``,
the last log entry it holds, and ``serve.base``, the artifact the server started from.

A write (:meth:`ServedState.write`), under one lock: validate against the served graph
(:mod:`recommend.serve.writes`; a rejection applies and logs nothing), append to the log and
fsync, then apply with :meth:`Recommender.add` (``atomic=True``) and publish. The answer
(2xx) comes after all three, so the next recommendation already reflects it. Requests that
arrive while one is being applied are committed together: each validated and logged alone,
then added in one call (group commit: with one add per request, 32 clients on ML-100K
queued writes for 7 s and 130 of them timed out). A request whose ``Idempotency-Key`` was
logged is answered that write's answer (:mod:`recommend.serve.idempotency`).

Reads never wait for a write: they take no lock, and answer from the model published last
(:mod:`recommend.snapshot`); a write builds the next model beside it and publishes it with one
reference swap. An add of events costs what the events touch (:mod:`recommend.updates`:
~6 ms of CPU for one event on ML-100K, against 0.25-0.5 s when every derived matrix was
rebuilt), so a write takes little CPU from the reads, and the caches a reader would otherwise
rebuild after it (adjacencies, head counts) are made by the writer before it publishes.

The ``--workers N`` writer answers no reads (its readers do, each applying the log itself),
so it keeps its model behind (``defer_model``): a write is validated against the writer's own
graph, grown by every logged write (what :meth:`Recommender.add` would grow the model's
graph into: records of later requests merge with earlier ones as they would), and the model
applies the logged entries only when a snapshot needs it, in batches (:func:`replay`). Each
write then costs the writer its validation, the log and the graph's growth (no component
refresh: ~5 ms of CPU per event on ML-100K, paid by every process before). A request with
new products has their texts embedded first, outside the write lock, into the state folder's
embedding cache (:mod:`recommend.serve.embedded`): the processes applying it load no model.

On start: load ``snapshot/`` when it exists (else the artifact), then replay the log entries
after its ``log_seq`` (in batches; an entry the graph refuses is logged and skipped) and every
"not interested". A snapshot (:meth:`ServedState.snapshot`, periodic and at shutdown) saves
the model, then compacts the log to the entries it does not hold: later ones, and the
refusals (kept only in the log).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recommend.serve import ENCODER_LOADS
from recommend.serve.cache import ResponseCache, forget
from recommend.serve.embedded import compact_embeddings, embed_new_products, load_ahead
from recommend.serve.feedback import Refusals
from recommend.serve.idempotency import DEFAULT_CALLER, IdempotencyKeys, KeyReused, fingerprint
from recommend.serve.served import (
    LOG_FILE,
    REPLAY_BATCH,
    SNAPSHOT_DIR,
    WriteResult,
    apply_entries,
    base_id,
    hold_folder,
    load_served,
    note_entry,
    replay,
)
from recommend.serve.wal import Entry, WriteAheadLog
from recommend.serve.writes import Checked, Ticket, check_request

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

LOGGER = logging.getLogger("shopgraph.serve")


class ServedState:
    """The Recommender being served, with its log, refusals and snapshots."""

    def __init__(self, artifact: str | os.PathLike[str], state_dir: str | os.PathLike[str],
                 *, defer_model: bool = False, cache: ResponseCache | None = None,
                 encoder_load: str = "product") -> None:
        """``encoder_load``: when the sentence model loads (:data:`ENCODER_LOADS`)."""
        if encoder_load not in ENCODER_LOADS:
            raise ValueError(f"encoder_load {encoder_load!r}: one of {', '.join(ENCODER_LOADS)}")
        self.artifact = Path(artifact)
        self.state_dir = Path(state_dir)
        self._hold = hold_folder(self.state_dir)
        self.lock = threading.Lock()
        self._snapshot_lock = threading.Lock()  # one snapshot (and catch-up) at a time
        self._queue_lock = threading.Lock()
        self._embed_lock = threading.Lock()
        self._queue: list[Ticket] = []
        self.refusals = Refusals()
        self.cache = ResponseCache() if cache is None else cache  # read with --workers 1
        self.shared = None  # one process: no other shares its responses
        self.compute = None  # nor computes them
        self.applied: dict[str, int] = {}  # feedback applied since start, per event kind
        self.worker = 0  # the writer; readers are 1..N (recommend.serve.workers)
        self.rec, self.snapshot_seq = load_served(self.artifact, self.state_dir,
                                                  writer=True)
        self.log = WriteAheadLog(self.state_dir / LOG_FILE, after=self.snapshot_seq)
        self.keys = IdempotencyKeys.load(self.state_dir)  # of the logged writes, noted below
        self.replayed = self._replay()
        self.applied_seq = self.log.last_seq
        # defer_model: the graph writes grow, and the logged entries the model lacks
        self._graph = self.rec.graph.fork() if defer_model else None
        self._behind: list[Entry] = []
        self._load_at = encoder_load
        self.loading: threading.Thread | None = None  # the sentence model's load ahead
        self._load_ahead("start")

    # ----- start -----
    def _replay(self) -> int:
        """Apply the log's entries the snapshot lacks, and every refusal; how many entries."""
        pending = [e for e in self.log.entries() if e["seq"] > self.snapshot_seq]
        for entry in self.log.entries():
            note_entry(entry, self.refusals, None)
            self.keys.note_entry(entry)
        replay(self.rec, pending)
        if pending:
            LOGGER.info("replayed %d log entries (seq %d..%d)", len(pending),
                        pending[0]["seq"], pending[-1]["seq"])
        return len(pending)

    @property
    def graph(self) -> KnowledgeGraph:
        """The graph writes are validated against: the model's, or (``defer_model``) the
        writer's own, grown by every logged write (module doc)."""
        return self.rec.graph if self._graph is None else self._graph

    # ----- writes -----
    def write(self, route: str, body: Any, key: str | None = None,
              caller: str = DEFAULT_CALLER) -> WriteResult:
        """Validate, log (fsync'd) and apply one write request (module doc);
        :class:`recommend.serve.writes.WriteRefused` when any record is bad. An
        Idempotency-Key ``key`` ``caller`` already logged: that write's answer
        (:meth:`_answered`).

        Group commit: the request joins a queue; whoever holds the lock next applies every
        queued request, each validated and logged alone, then added in one
        :meth:`Recommender.add` (one call's fixed costs, the copies of the touched matrices,
        are paid once)."""
        self._load_ahead("write")  # the first write: a product write may follow
        ticket = Ticket(route, body, key, "" if key is None else fingerprint(route, body),
                        caller)
        if route == "products" and self._graph is not None:
            self._embed_ahead(ticket)
        with self._queue_lock:
            self._queue.append(ticket)
        with self.lock:
            if not ticket.done:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                self._commit(batch)
        if ticket.error is not None:
            raise ticket.error
        assert ticket.result is not None
        return ticket.result

    def _load_ahead(self, when: str) -> None:
        if self._load_at == when:
            self._load_at = "loading"
            self.loading = load_ahead(self.rec)

    def _embed_ahead(self, ticket: Ticket) -> None:
        """``defer_model``: embed a product request's new texts into the shared cache before
        it queues, outside the write lock (the first loads the model, ~8 s of CPU: other
        writes go on meanwhile). The check and the grown graph are kept on the ticket:
        :meth:`_commit_to_graph` takes them when no write changed the graph since (else it
        checks again, and finds the texts in the cache). A request that is refused, or fails
        here, is left to the locked path, which says why."""
        with self._embed_lock, contextlib.suppress(Exception):  # one model load
            base = self.graph
            checked = check_request(base, "products", ticket.body)
            if checked.count:
                grown = base.fork()
                grown.add_records(checked.dataset)
                embed_new_products(self.rec, grown)
                ticket.ahead = (base, checked, grown)

    def _commit(self, batch: list[Ticket]) -> None:
        """Validate and log each request of ``batch``, add the accepted ones together, and
        settle every ticket (its result or its error). Caller holds ``self.lock``."""
        try:
            if self._graph is not None:
                for ticket in batch:
                    self._commit_to_graph(ticket)
            else:
                self._commit_to_model(batch)
        finally:  # before any write of the batch is answered
            forget(self.cache, [{"files": t.checked.files,
                                 "not_interested": t.checked.not_interested}
                                for t in batch if t.checked is not None], self.rec.user_id)

    def _commit_to_model(self, batch: list[Ticket]) -> None:
        """:meth:`_commit` of a state answering reads: every accepted request of ``batch``
        added to the model together."""
        logged: list[tuple[Ticket, Checked, int]] = []
        for ticket in batch:
            try:
                if self._answered(ticket):
                    continue
                checked = check_request(self.graph, ticket.route, ticket.body)
                if checked.count == 0 and not checked.not_interested:
                    ticket.settle(WriteResult(0, checked.merged, 0, None))
                    continue
                logged.append((ticket, checked, self._log(ticket.entry(checked))))
            except Exception as err:  # a refusal (422) or a failing disk: this request's
                ticket.settle(error=err)
        adding = [(t, c, seq) for t, c, seq in logged if c.count]
        if len(adding) > 1 and apply_entries(self.rec, [{"seq": seq, "files": c.files}
                                                        for _, c, seq in adding]):
            adding = []  # all added at once
        for ticket, checked, seq in adding:  # one at a time: alone, or the batch was refused
            result = self.rec.add(checked.dataset, atomic=True)
            if result.rejected:  # validated a moment ago against the same graph
                ticket.settle(error=RuntimeError(f"log seq {seq}: refused after validation: "
                                                 f"{result.rejected[0].reason}"))
        for ticket, checked, seq in logged:
            if not ticket.done:
                self._settle(ticket, checked, seq)

    def _commit_to_graph(self, ticket: Ticket) -> None:
        """``defer_model``: validate one request against the writer's graph, log it and grow
        the graph by it (on a fork, swapped in whole); the model applies it later."""
        if self._answered(ticket):
            return
        ahead = ticket.ahead
        done = (ahead[1:] if ahead is not None and ahead[0] is self.graph  # checked, embedded
                else self._check_and_grow(ticket))
        if done is None:  # refused, or nothing to do: settled
            return
        checked, grown = done
        entry = ticket.entry(checked)
        try:
            seq = self._log(entry)
        except Exception as err:  # a failing disk: this request's
            ticket.settle(error=err)
            return
        if grown is not None:
            self._graph = grown
            self._behind.append({**entry, "seq": seq})
        self._settle(ticket, checked, seq)

    def _answered(self, ticket: Ticket) -> bool:
        """Settle ``ticket`` when its Idempotency-Key's write was logged: with that write's
        answer, or with KeyReused (409) when that write had another body; whether settled."""
        if ticket.key is None:
            return False
        try:
            answer = self.keys.answer(ticket.key, ticket.fingerprint, caller=ticket.caller)
        except KeyReused as err:
            ticket.settle(error=err)
            return True
        if answer is not None:
            ticket.settle(WriteResult(**answer, replayed=True))
        return answer is not None

    def _log(self, entry: Entry) -> int:
        """Append ``entry`` (fsync'd); its Idempotency-Key, if any, is noted once logged."""
        seq = self.log.append(entry)
        self.keys.note_entry({**entry, "seq": seq})
        return seq

    def _check_and_grow(self, ticket: Ticket
                        ) -> tuple[Checked, KnowledgeGraph | None] | None:
        """:meth:`_commit_to_graph`'s check of ``ticket`` against the writer's graph and the
        graph grown by it (None: nothing to add); None when the ticket is settled (refused,
        or nothing to do)."""
        try:
            checked = check_request(self.graph, ticket.route, ticket.body)
        except Exception as err:  # a refusal (422)
            ticket.settle(error=err)
            return None
        if checked.count == 0:
            if checked.not_interested:
                return checked, None
            ticket.settle(WriteResult(0, checked.merged, 0, None))
            return None
        try:
            grown = self.graph.fork()
            grown.add_records(checked.dataset)
        except Exception as err:  # validated a moment ago: the replay would refuse it too
            ticket.settle(error=RuntimeError(f"refused after validation: {err}"))
            return None
        if checked.dataset.products:  # before the log: no reader embeds them again
            try:
                embed_new_products(self.rec, grown)
            except Exception:  # each process applying the entry embeds them, as before
                LOGGER.exception("embedding the new products of a %s write failed",
                                 ticket.route)
        return checked, grown

    def _settle(self, ticket: Ticket, checked: Checked, seq: int) -> None:
        """Keep an applied request's refusals, count it, and answer it."""
        for user, item in checked.not_interested:
            self.refusals.add(user, item)
        ticket.checked = checked
        self.applied_seq = max(self.applied_seq, seq)
        self._count(checked)
        ticket.settle(WriteResult(checked.count, checked.merged,
                                  len(checked.not_interested), seq))

    def catch_up(self, upto: int | None = None) -> int:
        """``defer_model``: apply the logged entries the model lacks, up to log seq ``upto``
        (all when None), a batch at a time (:func:`replay`); how many. The write lock is held
        only to take and to drop a batch: writes meanwhile grow the writer's own graph, never
        the model. An entry leaves the list only once applied. Caller holds the snapshot
        lock (one catch-up at a time)."""
        done = 0
        while True:
            with self.lock:
                batch = [e for e in self._behind[:REPLAY_BATCH]
                         if upto is None or e["seq"] <= upto]
            if not batch:
                return done
            replay(self.rec, batch)
            with self.lock:
                del self._behind[:len(batch)]
            done += len(batch)

    def _count(self, checked: Checked) -> None:
        for event in checked.dataset.events:
            self.applied[event.kind] = self.applied.get(event.kind, 0) + 1
        if checked.not_interested:
            self.applied["not-interested"] = (self.applied.get("not-interested", 0)
                                              + len(checked.not_interested))

    # ----- snapshots -----
    def snapshot(self) -> bool:
        """Save the served model to ``snapshot/`` atomically and compact the log; False when
        nothing changed since the last snapshot (or the state was detached). With
        ``defer_model`` the model first catches up to the log seq of the moment, and is saved,
        outside the write lock (writes never touch the model then, so none waits for a save)."""
        with self._snapshot_lock:
            if self._graph is None:
                with self.lock:
                    return self._save_snapshot(self.applied_seq)
            with self.lock:
                seq = self.applied_seq
                if seq == self.snapshot_seq or self._hold < 0:
                    return False
            self.catch_up(seq)
            return self._save_snapshot(seq)

    def _save_snapshot(self, seq: int) -> bool:
        """:meth:`snapshot`'s save, the model holding every entry up to ``seq``. Caller holds
        ``self.lock``, or with ``defer_model`` the snapshot lock (the log compacts under its
        own)."""
        if seq == self.snapshot_seq or self._hold < 0:  # unchanged, or detached
            return False
        self.rec.manifest = {**self.rec.manifest,
                             "serve": {"log_seq": seq, "base": base_id(self.artifact)}}
        self.rec.save(self.state_dir / SNAPSHOT_DIR, rdf_store=False)  # no SPARQL served
        self.snapshot_seq = seq
        self.keys.save(self.state_dir)  # before the entries recording them are compacted
        dropped = self.log.compact(lambda e: e["seq"] > seq or bool(e.get("not_interested")))
        try:
            merged = compact_embeddings(self.rec, self.state_dir)
        except OSError:  # a cache: the snapshot holds, and the shards stay as they were
            LOGGER.exception("merging the embedding cache's shards failed")
            merged = 0
        LOGGER.info("snapshot at log seq %d; %d log entries compacted, %d embedding shards "
                    "merged", seq, dropped, merged)
        return True

    def log_bytes(self) -> int:
        """The write-ahead log's size in bytes."""
        return self.log.size()

    def version(self) -> str:
        """The served artifact's version: its folder and the last applied log seq."""
        return f"{self.rec.folder.name if self.rec.folder else '-'}+{self.applied_seq}"

    def close(self) -> None:
        """Snapshot (when anything changed), close the log, let the folder go."""
        if self._hold < 0:
            return
        try:
            self.snapshot()
        finally:
            self.detach()

    def detach(self) -> None:
        """Close the log and let the folder go, without a snapshot (as a crash leaves it)."""
        self.log.close()
        if self._hold >= 0:
            os.close(self._hold)
            self._hold = -1
