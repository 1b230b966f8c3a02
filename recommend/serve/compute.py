"""The ``--workers N`` compute process: recommendations the readers' caches miss, off their GIL.

A reader answers a cache hit on its event loop in well under a millisecond, but a miss (a
user's first request after their own write) costs ~8 ms of CPU on ML-100K. Computed on a
reader's threads, a miss held the reader's GIL while the hits queued behind it, and misses
queued behind each other on two saturated cores (quiet, 32 clients: hits p99 29 ms, misses
p50 160 ms). So one more process, started by the writer beside the readers, computes them:

- **Misses.** A reader sends the request (the user, the query, and the least log seq a right
  answer must hold for that user: the user's last write and the catalogue's, as the reader
  applied them, :meth:`~recommend.serve.shared_cache.SharedResponses.least`) over a Unix
  socket (:class:`ComputeClient`, on its event loop: no thread) and awaits the answer. The
  compute process takes it once its own model holds that seq (meanwhile it computes
  others: a thread waiting on the log held every miss behind it), computes the response
  (:func:`recommend.serve.api.computed`: kept in the level the readers share,
  :mod:`recommend.serve.shared_cache`) and answers it. Misses are computed one at a time in
  arrival order, ahead of any precompute.
- **Refreshes.** A write's answer waits for its user's default list computed again from a
  model holding it (:func:`recommend.serve.api.refresh_written`): the reader asks as for a
  miss, flagged ``refresh``, and this process computes it after the misses waiting and
  ahead of every precompute (the same user's precompute waiting is dropped: this computes
  it). So the user's next request, to any reader, is a hit on the fresh list, and the
  requests that queue for recomputes after writes are the writes, not the reads.
- **Precomputes.** It follows the log as a reader does (:class:`ReaderState`); for every entry
  it applies, it computes the default recommendations (``RecsQuery()``) of each user the
  entry concerns (:func:`recommend.serve.cache.entry_users`), when no miss is waiting, and
  keeps them in the shared level: the user's next request, to any reader, is a hit. A
  response the shared level already holds right (a reader computed that miss itself) is
  not computed again. A
  catalogue write (which makes every response stale) is not precomputed for everyone.
  The newest write's user is computed first: a precompute is of use
  only when it lands before the user's next request, and when the writes come faster than
  this process computes (the mixed load on two busy cores), oldest first made every one of
  them late (the last record: 59% of the reads after a write missed), while newest
  first makes only the ones left behind late; their users' requests come as misses, which
  go ahead of every precompute.
- **Warm-up.** Whenever nothing else waits, it computes the default recommendations of every
  known user the shared level holds no right answer for (from the last user by id: the
  readers warm theirs from the first, :mod:`recommend.serve.warm`, and stop after
  ``WARM_SECONDS``; on a busy machine they stopped a third of the way through ML-100K),
  paced to :data:`WARM_SHARE` of its time.
- **A reader never depends on it.** When the compute process does not answer (starting,
  restarted after a crash, a failure of its own), or :data:`MAX_IN_FLIGHT` of the reader's
  misses already wait for it, the reader computes the miss itself as before
  (:func:`recommend.serve.api.cached`).

Requests are JSON lines; an answer is ``STATUS LENGTH SEQ\\n`` and the body: the route's own
status and JSON body (a 422 for a bad filter is the route's 422), and the log seq the model
that computed it held.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socketserver
import sys
import threading
import time
from collections import OrderedDict, deque
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import HTTPException

from recommend.serve.api import RecsQuery, computed
from recommend.serve.cache import entry_users
from recommend.serve.reader import POLL_SECONDS, SEEN_TIMEOUT, ReaderState
from recommend.serve.served import ComputeUnavailable
from recommend.serve.wal import Entry

LOGGER = logging.getLogger("shopgraph.serve")
#: Seconds a reader waits for the compute process before computing the miss itself.
CLIENT_TIMEOUT = 10.0
#: A reader's misses waiting for the compute process at most; more are computed by the
#: reader (a machine too busy for one process to keep up has the readers' threads help).
MAX_IN_FLIGHT = 3
#: A reader's refreshes (a write's answer waiting for its user's list) waiting at most; a
#: write beyond it is answered without (its user's list is precomputed as before).
MAX_REFRESHING = 32
MAX_AHEAD = 10_000  # precomputes waiting at most (the oldest dropped)
#: The share of its time the warm-up may take: after a warm-up job of t s, the next waits
#: t * (1 / WARM_SHARE - 1) s unless other work comes. The readers give way to this process
#: (recommend.serve.app.ServeConfig.reader_nice), so an unpaced warm-up, while the readers' own had
#: not finished (a busy machine), took their CPU away as the load began.
WARM_SHARE = 0.25
MAX_LINE = 64 * 1024  # a request's JSON line


def _query_json(query: RecsQuery) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(query).items()}


def _query(raw: dict[str, Any]) -> RecsQuery:
    return RecsQuery(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})


class ComputeClient:
    """A reader's connections to the compute process (kept open, one per miss in flight), at
    most ``max_in_flight`` at once (:data:`MAX_IN_FLIGHT`)."""

    def __init__(self, path: str | Path, timeout: float = CLIENT_TIMEOUT,
                 max_in_flight: int = MAX_IN_FLIGHT,
                 max_refreshing: int = MAX_REFRESHING) -> None:
        self.path, self.timeout, self.max_in_flight = str(path), timeout, max_in_flight
        self.max_refreshing = max_refreshing
        self.in_flight = self.refreshing = 0
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def recommendations(self, query: RecsQuery, user: str,
                              seq: int) -> tuple[int, bytes, int]:
        """The route's status and body for typed ``user``, computed from a model holding at
        least log ``seq``, and the seq it held; :class:`ComputeUnavailable` when the process
        does not answer, or when ``max_in_flight`` of this reader's misses already wait for
        it."""
        if self.in_flight >= self.max_in_flight:
            raise ComputeUnavailable(f"{self.in_flight} misses already wait for it")
        self.in_flight += 1
        try:
            return await self._ask(query, user, seq)
        finally:
            self.in_flight -= 1

    async def refresh(self, user: str, seq: int, timeout: float) -> tuple[int, bytes, int]:
        """As :meth:`recommendations` for the default query, asked for a write's answer
        (module doc: after the misses, ahead of the precomputes), waiting at most
        ``timeout`` s; at most ``max_refreshing`` at once."""
        if self.refreshing >= self.max_refreshing:
            raise ComputeUnavailable(f"{self.refreshing} refreshes already wait for it")
        self.refreshing += 1
        try:
            return await self._ask(RecsQuery(), user, seq, refresh=True, timeout=timeout)
        finally:
            self.refreshing -= 1

    async def _ask(self, query: RecsQuery, user: str, seq: int, *, refresh: bool = False,
                   timeout: float | None = None) -> tuple[int, bytes, int]:
        asked = {"user": user, "seq": seq, "query": _query_json(query)}
        line = json.dumps({**asked, "refresh": True} if refresh else asked).encode()
        try:
            conn = self._idle.pop() if self._idle else await asyncio.open_unix_connection(
                self.path, limit=MAX_LINE)
        except OSError as err:
            raise ComputeUnavailable(f"{type(err).__name__}: {err}") from None
        try:
            answer = await asyncio.wait_for(_exchange(*conn, line), timeout or self.timeout)
        except (OSError, EOFError, ValueError, asyncio.IncompleteReadError,
                asyncio.LimitOverrunError, asyncio.TimeoutError) as err:
            conn[1].close()
            raise ComputeUnavailable(f"{type(err).__name__}: {err}") from None
        self._idle.append(conn)
        return answer

    def close(self) -> None:
        """Close the idle connections."""
        for _, writer in self._idle:
            writer.close()
        self._idle.clear()


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    line: bytes) -> tuple[int, bytes, int]:
    writer.write(line + b"\n")
    await writer.drain()
    status, length, seq = (await reader.readuntil(b"\n")).split()
    return int(status), await reader.readexactly(int(length)), int(seq)


class _Job:
    """One response to compute, and (for a miss) who waits for it. ``seq`` is the least log
    seq its answer must hold: a miss's, what the reader asked; a precompute's and a warm-up's
    0 (the shared level's notes judge what is right)."""

    def __init__(self, user: str, query: RecsQuery, seq: int, warm: bool = False) -> None:
        self.user, self.query, self.seq, self.warm = user, query, seq, warm
        self.asked = time.monotonic()
        self.done = threading.Event()
        self.status, self.body, self.computed_at = 500, b"", 0  # computed_at: its log seq


class Computer:
    """The compute process's queue and its one computing thread (module doc)."""

    def __init__(self, state: ReaderState, images: Path | None,
                 warm: list[str] | None = None) -> None:
        self.state, self.images = state, images
        self._misses: deque[_Job] = deque()
        self._refreshes: deque[_Job] = deque()  # after the misses, ahead of the precomputes
        self._ahead: OrderedDict[tuple[Any, ...], _Job] = OrderedDict()
        self._warm = deque(warm or ())  # typed users, when nothing else waits
        self._rest_until = 0.0  # no warm-up before this (time.monotonic(): WARM_SHARE)
        self._ready = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="compute", daemon=True)
        self._thread.start()

    def miss(self, user: str, query: RecsQuery, seq: int, refresh: bool = False) -> _Job:
        """Queue a reader's miss, or (``refresh``) a write's refresh after the misses (both
        ahead of every precompute; the same one waiting ahead is dropped: this computes
        it)."""
        job = _Job(user, query, seq)
        with self._ready:
            self._ahead.pop(query.key(user), None)
            (self._refreshes if refresh else self._misses).append(job)
            self._ready.notify()
        if seq > self.state.applied_seq:
            self.state.nudge()
        return job

    def applied(self, entries: list[Entry]) -> None:
        """Queue the default recommendations of the users log ``entries`` concern (called
        once they are applied; a catalogue write queues nobody)."""
        query = RecsQuery()
        with self._ready:
            for entry in entries:
                users, catalogue = entry_users(entry, self.state.rec.user_id)
                if catalogue:
                    continue
                for user in users:  # one waiting moves to the end, as the newest: it
                    key = query.key(user)  # computes from the model of its turn, which
                    if key in self._ahead:  # holds these entries
                        self._ahead.move_to_end(key)
                    else:
                        self._ahead[key] = _Job(user, query, 0)
            while len(self._ahead) > MAX_AHEAD:
                self._ahead.popitem(last=False)
            self._ready.notify()

    def _next(self) -> _Job | None:
        """The first miss this model can answer (its log seq applied; one waiting over
        ``SEEN_TIMEOUT`` is answered 503), else the first such refresh, else the newest
        precompute (module doc), else a warm-up; the thread never blocks on the log while
        anything else waits."""
        with self._ready:
            while not self._stop:
                for waiting in (self._misses, self._refreshes):
                    if (job := self._answerable(waiting)) is not None:
                        return job
                if self._ahead:
                    return self._ahead.popitem()[1]  # the newest
                if self._warm and time.monotonic() >= self._rest_until:
                    return _Job(self._warm.popleft(), RecsQuery(), 0, warm=True)
                self._ready.wait(POLL_SECONDS)  # woken by a miss and by each applied entry
            return None

    def _answerable(self, waiting: deque[_Job]) -> _Job | None:
        """The first job of ``waiting`` whose log seq this model holds, taken out (those
        waiting over ``SEEN_TIMEOUT`` are answered 503: the reader computes it)."""
        applied, now = self.state.applied_seq, time.monotonic()
        for job in list(waiting):
            if job.seq <= applied:
                waiting.remove(job)
                return job
            if now - job.asked > SEEN_TIMEOUT:
                waiting.remove(job)
                job.status = 503
                job.done.set()
        return None

    def _run(self) -> None:
        while (job := self._next()) is not None:
            began = time.monotonic()
            try:
                self._compute(job)
            except Exception:  # answered 500: the reader computes it itself
                LOGGER.exception("compute: %s for %s failed", job.query, job.user)
            finally:
                job.done.set()
            if job.warm:
                now = time.monotonic()
                self._rest_until = now + (now - began) * (1 / WARM_SHARE - 1)

    def _compute(self, job: _Job) -> None:
        state = self.state
        key = job.query.key(job.user)
        hit = state.cache.get(key)
        if hit is None and state.shared is not None:
            # a reader computed it meanwhile (its warm-up, or a miss it computed itself while
            # its misses in flight were at their bound): right for this model's notes, and for
            # a miss at least as new as the reader asked
            hit = state.shared.get(key, job.user)
        if hit is not None and (hit.seq or 0) >= job.seq:
            job.status, job.body, job.computed_at = 200, hit.body, hit.seq or 0
            return
        try:
            job.body, job.computed_at = computed(
                state, key, job.user, partial(job.query.body, state, job.user, self.images))
            job.status = 200
        except HTTPException as err:  # the route's own answer (a bad filter: 422)
            job.status, job.body = err.status_code, json.dumps({"detail": err.detail}).encode()

    def stop(self) -> None:
        """Stop the computing thread (the job under way finishes)."""
        with self._ready:
            self._stop = True
            self._ready.notify()
        self._thread.join(timeout=30)


class _Handler(socketserver.StreamRequestHandler):
    """One reader connection: requests answered in turn (module doc)."""

    server: ComputeServer

    def handle(self) -> None:
        while line := self.rfile.readline(MAX_LINE):
            try:
                raw = json.loads(line)
                job = self.server.computer.miss(str(raw["user"]), _query(raw["query"]),
                                                int(raw["seq"]), bool(raw.get("refresh")))
            except (ValueError, KeyError, TypeError) as err:
                LOGGER.warning("compute: a request not understood: %s", err)
                return
            job.done.wait()
            try:
                self.wfile.write(b"%d %d %d\n" % (job.status, len(job.body), job.computed_at)
                                 + job.body)
            except OSError:  # the reader stopped waiting (a refresh's bound): kept anyway
                return


class ComputeServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """The compute process's socket: a thread per reader connection, every request queued on
    one :class:`Computer` over ``state``, which also precomputes what the log's entries make
    stale (module doc). :meth:`serve_forever` answers; :meth:`close` stops it all."""

    daemon_threads = True

    def __init__(self, state: ReaderState, path: str | Path, images: Path | None,
                 warm: list[str] | None = None) -> None:
        self.computer = Computer(state, images, warm)
        state.on_applied = self.computer.applied
        Path(path).unlink(missing_ok=True)  # one a killed compute process left (private folder)
        super().__init__(str(path), _Handler)

    def close(self) -> None:
        """Stop answering (after :meth:`serve_forever` returned) and computing."""
        self.server_close()
        self.computer.stop()


def compute_main(argv: list[str]) -> int:
    """The compute process: ``python -m recommend.serve.compute SPEC_JSON`` (the readers'
    :class:`~recommend.serve.workers.ReaderSpec`, ``compute_socket`` its socket)."""
    from recommend.serve.reader_process import reader_parts

    spec, config, state = reader_parts(argv)
    assert spec.compute_socket is not None
    users = [state.rec.user_id(raw) for raw in sorted(state.rec.graph.raw_ids("user"))]
    server = ComputeServer(state, spec.compute_socket, config.images_dir, users[::-1])
    LOGGER.info("compute: listening for the readers' misses")
    server.serve_forever()  # until killed with the writer (its parent-death signal)
    return 0


if __name__ == "__main__":
    sys.exit(compute_main(sys.argv[1:]))
