"""``shopgraph serve --workers N``: one writer process, N reader processes and a compute one.

One Python process answers on one core (the GIL), so with N > 1 the server runs as:

- **the writer** (this process, :func:`serve_workers`): it owns the state folder (its lock,
  the write-ahead log, replay, the snapshots: :class:`recommend.serve.state.ServedState`)
  and answers only its readers, with the internal routes of
  :class:`~recommend.serve.writer_app.WriterApp` on a Unix socket in a private temporary
  folder. It binds the public port, hands one socket to
  each reader, and restarts a reader that dies.
- **N readers** (``python -m recommend.serve.reader_process``), each with its
  own model (:class:`recommend.serve.reader.ReaderState`), answer every public route. Each
  listens on its own ``SO_REUSEPORT`` socket bound to the same port, so the kernel spreads
  connections over them (one shared socket would let the first reader to wake take a whole
  burst of connections). A write goes to the writer and is answered once the log holds it
  (fsync'd) and this reader applied it; the other readers apply it within a poll. Their
  response caches share a level (:mod:`recommend.serve.shared_cache`, a file in the state
  folder), so a response one computed is a hit in the others, and each computes its share of
  the users' default recommendations before it listens (:mod:`recommend.serve.warm`).
- **a compute process** (with the shared level: :mod:`recommend.serve.compute`) computes the
  recommendations the readers' caches miss, off their GIL, and ahead of their next request
  those of the users each write concerns. It follows the log as a reader does and is
  watched (restarted) as they are. The readers give way to it: once warm they lower their
  priority (``--reader-nice``, ``ServeConfig.reader_nice``), so a written user's list is
  computed again before their next request instead of queueing behind the hits.

Before binding, a plain bind of the port checks it is free, so a second server cannot join
this one's ``SO_REUSEPORT`` group. A reader sets ``PR_SET_PDEATHSIG``, so a ``kill -9`` of the
writer takes the readers with it (nothing acknowledged is lost: the log holds it, and the
next start replays it). A stop (SIGINT or SIGTERM to the writer) stops the readers first
(they finish their requests, whose writes the writer still takes), then the writer
snapshots and lets the folder go. Readers run with ``MALLOC_ARENA_MAX=2`` (unless the
environment sets it): with glibc's default (up to 8 arenas per core, made as threads
contend) a reader held ~100 MB more after 25 s of load on ML-100K. Prometheus counters of
all readers are summed through ``prometheus_client``'s multiprocess mode
(:mod:`recommend.serve.metrics`), whose files every reader maps into memory: they live in
:data:`MEMORY_DIR` where the system has it, not in the state folder, where a full disk made
a reader growing one die of SIGBUS (three times in a row, and the server stopped).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import uvicorn

from recommend.serve import API_KEY_ENV, NAMED_KEYS_ENV
from recommend.serve.metrics import MULTIPROC_ENV
from recommend.serve.served import PeriodicSnapshots
from recommend.serve.shared_cache import FILE as SHARED_FILE
from recommend.serve.writer_app import WriterApp

if TYPE_CHECKING:
    from recommend.serve.app import ServeConfig
    from recommend.serve.state import ServedState

LOGGER = logging.getLogger("shopgraph.serve")
QUICK_DEATH = 30.0  # a reader dying this soon after its start counts as failing
MAX_FAILURES = 3  # failing starts in a row before the server gives up
STOP_SECONDS = 20.0  # a reader's graceful stop, before SIGKILL
#: Threads computing a reader's sync routes (a recommendation the cache misses). They share
#: one core (the GIL), so more add little throughput and make the event loop, which sends
#: every cache hit, wait for its turn: with misses computed on 1, 2, 4 and 6 threads of one
#: process on ML-100K, a hit waited p99 ~20, ~38, ~65 and ~94 ms for the loop (writes wait
#: on threads of their own: recommend.serve.api.WRITE_THREADS).
READER_THREADS = 2
#: glibc malloc arenas of a reader (unless the environment names its own; module doc): 2
#: took a reader's memory after 25 s of load on ML-100K from ~425 to ~320 MB.
READER_ARENAS = "2"
PRIVATE_DIR = ".workers"
#: A memory file system for the readers' metric files (module doc).
MEMORY_DIR = Path("/dev/shm")
MAX_SOCKET_PATH = 100  # a Unix socket's path is at most 107 bytes


@dataclass(frozen=True)
class ReaderSpec:
    """What a reader process is told (as JSON on its command line; the API key goes in its
    environment, never on a command line): where things are, and its ``options``
    (:func:`reader_options`)."""

    artifact: str
    state: str
    writer_socket: str
    fd: int
    worker: int
    parent: int
    options: dict[str, Any]
    shared_cache: str | None = None  # the readers' shared responses (None: cache off)
    readers: int = 1  # how many readers the writer starts
    compute_socket: str | None = None  # the compute process's (None: misses computed here)
    module: str = "recommend.serve.reader_process"  # what the process runs


#: The ServeConfig fields a reader is not told: the key goes in its environment (whether
#: reads need it is told, as ``keyed_reads``); readers never snapshot and answer on
#: READER_THREADS threads.
_NOT_TOLD = ("access", "snapshot_every", "threads")


def reader_options(config: ServeConfig) -> dict[str, Any]:
    """The part of the writer's ``config`` its readers serve with, as JSON
    (:func:`reader_config` reads it back)."""
    options = {f.name: getattr(config, f.name) for f in fields(config)
               if f.name not in _NOT_TOLD}
    options["images_dir"] = None if config.images_dir is None else str(config.images_dir)
    return {**options, "keyed_reads": config.access.keyed_reads}


def reader_config(options: dict[str, Any], api_key: str | None,
                  named: tuple[tuple[str, str], ...] = ()) -> ServeConfig:
    """A reader's :class:`~recommend.serve.app.ServeConfig`: the writer's ``options``
    (:func:`reader_options`), ``api_key`` and the ``named`` keys, no snapshots,
    :data:`READER_THREADS` threads."""
    from recommend.serve.app import ServeConfig
    from recommend.serve.security import Access

    told = dict(options)
    access = Access(api_key, told.pop("keyed_reads"), named)
    images = told.pop("images_dir")
    return ServeConfig(**{**told, "access": access, "cors_origins": tuple(told["cors_origins"]),
                          "images_dir": Path(images) if images else None,
                          "snapshot_every": 0, "threads": READER_THREADS})


def bind_sockets(host: str, port: int, n: int) -> list[socket.socket]:
    """``n`` sockets bound to ``host:port`` with ``SO_REUSEPORT`` (not yet listening: a
    reader listens once its model is loaded); OSError when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as err:
            raise OSError(f"{host}:{port}: {err.strerror} (is another server on it?)") from None
    out = []
    for _ in range(n):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.set_inheritable(True)
        out.append(sock)
    return out


def _private_folder(state_dir: Path) -> Path:
    """A folder only this user may enter, for the writer's socket and the readers' metric
    files: ``STATE/.workers`` (one a killed run left is cleared: the state folder's lock says
    no other server uses it), or a temporary one when that path is too long for a socket."""
    folder = state_dir.resolve() / PRIVATE_DIR
    if len(str(folder / "writer.sock")) > MAX_SOCKET_PATH:
        return Path(tempfile.mkdtemp(prefix="shopgraph-serve-"))
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()) or not _ours(folder):
        raise FileExistsError(f"{folder}: not a folder this server made; move it away")
    if folder.is_dir():
        shutil.rmtree(folder)
    folder.mkdir(mode=0o700)
    return folder


def _metrics_folder(state_dir: Path, private: Path) -> Path:
    """An empty folder for the readers' metric files: in :data:`MEMORY_DIR`, one per state
    folder and user (one a killed run left is cleared, as the private folder is), else
    ``private/metrics``."""
    if not (MEMORY_DIR.is_dir() and os.access(MEMORY_DIR, os.W_OK | os.X_OK)):
        (private / "metrics").mkdir()
        return private / "metrics"
    digest = hashlib.sha256(str(state_dir.resolve()).encode()).hexdigest()[:16]
    folder = MEMORY_DIR / f"shopgraph-metrics-{os.getuid()}-{digest}"
    if folder.is_symlink() or (folder.exists() and (
            not folder.is_dir() or folder.stat().st_uid != os.getuid())):
        raise FileExistsError(f"{folder}: not a folder this server made; move it away")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(mode=0o700)
    return folder


def _ours(folder: Path) -> bool:
    """Whether ``folder`` holds only what a server puts there (its sockets, the readers'
    metric files): a leftover a killed run left may go, a user's folder of that name not."""
    if not folder.is_dir():
        return True
    for entry in folder.iterdir():
        if entry.name == "metrics" and entry.is_dir() and not entry.is_symlink():
            if any(not (f.name.endswith(".db") and f.is_file()) for f in entry.iterdir()):
                return False
        elif entry.name not in ("writer.sock", "compute.sock") or not entry.is_socket():
            return False
    return True


class Readers:
    """The reader processes: started, watched (a dead one restarted) and stopped by one
    thread, which lives as long as they do (their parent-death signal is tied to it)."""

    def __init__(self, specs: list[ReaderSpec], env: dict[str, str],
                 on_give_up: Callable[[str], None]) -> None:
        self.specs, self.env, self.on_give_up = specs, env, on_give_up
        self.procs: list[subprocess.Popen[bytes] | None] = [None] * len(specs)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="readers", daemon=True)

    def start(self) -> None:
        """Start the readers (on the watching thread)."""
        self._thread.start()

    def _spawn(self, i: int) -> tuple[subprocess.Popen[bytes], float]:
        spec = self.specs[i]
        proc = subprocess.Popen(  # its own group: Ctrl-C reaches the writer alone
            [sys.executable, "-m", spec.module, json.dumps(asdict(spec))], env=self.env,
            pass_fds=(spec.fd,) if spec.fd >= 0 else (), process_group=0)
        return proc, time.monotonic()

    def _run(self) -> None:
        started = {}
        for i in range(len(self.specs)):
            self.procs[i], started[i] = self._spawn(i)
        failures = [0] * len(self.specs)
        while not self._stop.wait(0.2):
            for i, proc in enumerate(self.procs):
                if proc is None or proc.poll() is None:
                    continue
                quick = time.monotonic() - started[i] < QUICK_DEATH
                failures[i] = failures[i] + 1 if quick else 1
                LOGGER.error("reader %d (pid %d) exited with %s", i + 1, proc.pid,
                             proc.returncode)
                if failures[i] >= MAX_FAILURES:
                    self.procs[i] = None
                    self.on_give_up(f"reader {i + 1} failed {failures[i]} times in a row")
                    continue
                self.procs[i], started[i] = self._spawn(i)
        self._terminate()

    def _terminate(self) -> None:
        live = [p for p in self.procs if p is not None and p.poll() is None]
        for proc in live:
            proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for proc in live:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                LOGGER.error("reader pid %d did not stop within %.0f s; killed", proc.pid,
                             STOP_SECONDS)
                proc.kill()
                proc.wait()

    def stop(self) -> None:
        """Stop every reader (SIGTERM: they finish their requests) and wait for them."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def serve_workers(state: ServedState, host: str, port: int, n: int,
                  config: ServeConfig) -> None:
    """Serve ``state`` (a loaded :class:`~recommend.serve.state.ServedState`) on
    ``host:port`` with ``n`` readers (module doc) until SIGINT or SIGTERM, as ``config`` says
    (the readers: :func:`reader_options`). Closes ``state`` (a snapshot) at the end."""
    try:
        sockets = bind_sockets(host, port, n)
    except OSError:
        state.close()
        raise
    private = _private_folder(Path(state.state_dir))
    env = {k: v for k, v in os.environ.items()
           if k not in (API_KEY_ENV, NAMED_KEYS_ENV, MULTIPROC_ENV)}
    metrics = _metrics_folder(Path(state.state_dir), private)
    env[MULTIPROC_ENV] = str(metrics)
    env.setdefault("MALLOC_ARENA_MAX", READER_ARENAS)
    if config.access.api_key is not None:
        env[API_KEY_ENV] = config.access.api_key
    if config.access.named:
        env[NAMED_KEYS_ENV] = json.dumps(config.access.named)
    # in the state folder, not the private one: kept across a restart (shared_cache doc)
    shared = str(Path(state.state_dir) / SHARED_FILE) if config.cache_seconds > 0 else None
    compute = None if shared is None else str(private / "compute.sock")
    specs = [ReaderSpec(artifact=str(state.artifact), state=str(state.state_dir),
                        writer_socket=str(private / "writer.sock"), fd=sock.fileno(),
                        worker=i + 1, parent=os.getpid(), options=reader_options(config),
                        shared_cache=shared, readers=n, compute_socket=compute)
             for i, sock in enumerate(sockets)]
    if compute is not None:  # worker n + 1: answers the readers only
        specs.append(replace(specs[0], fd=-1, worker=n + 1, module="recommend.serve.compute"))
    failed: list[str] = []

    def give_up(reason: str) -> None:
        failed.append(reason)
        server.should_exit = True

    readers = Readers(specs, env, give_up)
    snapshots = PeriodicSnapshots(state, config.snapshot_every)

    def finish() -> None:  # readers first: their last writes still reach the writer
        readers.stop()
        snapshots.stop()
        try:
            state.close()  # a snapshot: a full disk refuses it (the log holds every write)
        finally:
            for sock in sockets:
                sock.close()
            shutil.rmtree(private, ignore_errors=True)  # made by this run
            shutil.rmtree(metrics, ignore_errors=True)

    server = WriterServer(uvicorn.Config(WriterApp(state, n), uds=specs[0].writer_socket,
                                         log_level="warning", timeout_graceful_shutdown=10,
                                         lifespan="off"), readers, finish)
    try:
        server.run()
    finally:
        finish()  # again after a failure (each step does nothing the second time)
    if failed:
        raise RuntimeError("; ".join(failed))


class WriterServer(uvicorn.Server):
    """uvicorn's Server for the writer's socket: starts the readers once it listens; on
    SIGINT/SIGTERM stops them before it stops itself, and runs ``finish`` (the snapshot)
    before the signal is passed on (uvicorn raises it again once it has stopped)."""

    def __init__(self, config: uvicorn.Config, readers: Readers,
                 finish: Callable[[], None]) -> None:
        super().__init__(config)
        self.readers, self.finish = readers, finish

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.readers.start()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await super().shutdown(sockets)
        await asyncio.to_thread(self.finish)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        def stop() -> None:
            self.readers.stop()
            super(WriterServer, self).handle_exit(sig, frame)

        threading.Thread(target=stop, name="stopping", daemon=True).start()
