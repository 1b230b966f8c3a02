"""``shopgraph serve ARTIFACT [--host 127.0.0.1] [--port 8000]``: the recommender over HTTP.

The JSON API is under ``/v1`` (OpenAPI at ``/docs``), health at ``/v1/health``, Prometheus
metrics at ``/metrics``, a storefront page at ``/``. Writes (``POST /v1/events`` and the
records) need the API key from ``SHOPGRAPH_API_KEY`` or ``--api-key-file``, sent as
``X-API-Key``; without a key the server is read-only. Accepted writes go to a write-ahead log
in the ``--state`` folder (default ``ARTIFACT-serve`` beside the artifact) before they are
answered; the server snapshots there (``snapshot/``, an artifact) every ``--snapshot-every``
seconds and at shutdown, and replays the log on start (:mod:`recommend.serve.state`).
``--workers N`` (default: the cores this process may use) answers with N reader processes
beside the one writer (:mod:`recommend.serve.workers`); ``--workers 1`` is one process.
Each process answering reads keeps the recommendations it served and sends them again until
a write concerning the user (at once), a catalogue write, or ``--cache-seconds``
(:mod:`recommend.serve.cache`).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from recommend.serve import API_KEY_ENV, ENCODER_LOADS
from recommend.serve.cache import DEFAULT_ENTRIES, DEFAULT_SECONDS
from recommend.serve.stale import DEFAULT_BOUND


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``serve`` sub-command."""
    parser = subparsers.add_parser("serve", help="serve recommendations over HTTP",
                                   description=__doc__.split("\n\n")[0])
    parser.add_argument("artifact", type=Path, metavar="ARTIFACT")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (8000)")
    parser.add_argument("--state", type=Path, default=None, metavar="DIR",
                        help="folder of the write-ahead log and snapshots "
                        "(default: ARTIFACT-serve beside the artifact)")
    parser.add_argument("--api-key-file", type=Path, default=None,
                        help="file holding the write API key, or one 'NAME KEY' line per "
                        f"caller (idempotency keys are scoped by NAME; else ${API_KEY_ENV})")
    parser.add_argument("--keyed-reads", action="store_true",
                        help="reads need the API key too (turns the storefront off)")
    parser.add_argument("--cors", action="append", default=[], metavar="ORIGIN",
                        help="allow this browser origin (repeatable)")
    parser.add_argument("--max-body", type=int, default=1 << 20, metavar="BYTES",
                        help="largest request body accepted (1 MiB)")
    parser.add_argument("--max-image-bytes", type=int, default=8 << 20, metavar="BYTES",
                        help="largest photo POST /v1/look accepts (8 MiB)")
    parser.add_argument("--snapshot-every", type=float, default=300.0, metavar="SECONDS",
                        help="snapshot interval when anything changed (300; 0: only at exit)")
    parser.add_argument("--images", type=Path, default=None, metavar="DIR",
                        help="the dataset folder product image paths are relative to")
    parser.add_argument("--no-storefront", action="store_true", help="serve no HTML pages")
    parser.add_argument("--cache-seconds", type=float, default=DEFAULT_SECONDS,
                        metavar="SECONDS",
                        help="send a user's recommendations again for up to this long while "
                        "no write of theirs came (others' writes reach them after at most "
                        f"this; {DEFAULT_SECONDS:g}; 0: cache off)")
    parser.add_argument("--cache-entries", type=int, default=DEFAULT_ENTRIES, metavar="N",
                        help=f"responses kept per process, least recently used dropped "
                        f"first ({DEFAULT_ENTRIES})")
    parser.add_argument("--stale-seconds", type=float, default=DEFAULT_BOUND, metavar="SECONDS",
                        help="with --workers N, for this long after a user's write send their "
                        "kept list with the write's direct effect applied (its products taken "
                        "out) while the fresh one is computed, then wait for it "
                        f"({DEFAULT_BOUND:g}; 0: off; under 1)")
    parser.add_argument("--reader-nice", type=int, default=10, metavar="N",
                        help="with --workers N, the readers' nice value once warm, so the "
                        "process computing written users' lists comes first (10; 0: same "
                        "priority; up to 19)")
    parser.add_argument("--encoder-load", choices=ENCODER_LOADS, default="start",
                        help="when the writer loads the sentence model new products' texts "
                        "need (~0.5 GB): in the background at start (default), at the first "
                        "write, or when the first product write needs it (that write waits "
                        "for the load)")
    parser.add_argument("--workers", type=int, default=default_workers(), metavar="N",
                        help="reader processes answering HTTP beside the writer; 1: one "
                        f"process for everything (default: the cores, {default_workers()})")
    parser.set_defaults(func=run_serve)


def default_workers() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def api_keys(key_file: Path | None) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """The write keys from ``key_file`` (:func:`recommend.serve.security.read_key_file`) or
    the environment: the key given alone (None: none) and the named ones."""
    if key_file is not None:
        from recommend.serve.security import read_key_file

        return read_key_file(key_file)
    return os.environ.get(API_KEY_ENV, "").strip() or None, ()


def run_serve(args: argparse.Namespace) -> int:
    """Load, replay, and serve until interrupted (then snapshot)."""
    import uvicorn

    from recommend.serve.app import ServeConfig, create_app
    from recommend.serve.cache import ResponseCache
    from recommend.serve.security import Access
    from recommend.serve.state import ServedState
    from scripts.console import LOGGER

    if not 0 < args.port < 65536:
        raise ValueError(f"--port {args.port}: not a TCP port")
    for name in ("max_body", "max_image_bytes"):
        if getattr(args, name) < 1024:
            raise ValueError(f"--{name.replace('_', '-')} {getattr(args, name)}: at least "
                             "1024 bytes")
    if not 1 <= args.workers <= 32:
        raise ValueError(f"--workers {args.workers}: from 1 to 32")
    if args.images is not None and not args.images.is_dir():
        raise NotADirectoryError(f"--images {args.images}: not a folder")
    if not 0 <= args.cache_seconds <= 86400 or args.cache_entries < 1:
        raise ValueError(f"--cache-seconds {args.cache_seconds:g} --cache-entries "
                         f"{args.cache_entries}: seconds from 0 (off) to 86400, entries >= 1")
    if not 0 <= args.reader_nice <= 19:
        raise ValueError(f"--reader-nice {args.reader_nice}: from 0 to 19")
    if not 0 <= args.stale_seconds < 1:
        raise ValueError(f"--stale-seconds {args.stale_seconds:g}: from 0 (off) to under 1")
    key, named = api_keys(args.api_key_file)
    if key is None and not named:
        LOGGER.warning("no API key (%s or --api-key-file): serving read-only", API_KEY_ENV)
    state_dir = args.state or args.artifact.with_name(args.artifact.name + "-serve")
    # with readers the writer answers no reads: its model catches up at each snapshot
    # with readers the writer's cache stays off: they answer every read, each with its own
    cache = ResponseCache(args.cache_seconds if args.workers == 1 else 0, args.cache_entries)
    state = ServedState(args.artifact, state_dir, defer_model=args.workers > 1, cache=cache,
                        encoder_load=args.encoder_load)
    LOGGER.info("serving %s (state %s, %d log entries replayed) on http://%s:%d with %s",
                args.artifact, state_dir, state.replayed, args.host, args.port,
                f"{args.workers} reader processes" if args.workers > 1 else "one process")
    config = ServeConfig(access=Access(key, args.keyed_reads, named), cors_origins=tuple(args.cors),
                         max_body_bytes=args.max_body, max_image_bytes=args.max_image_bytes,
                         snapshot_every=args.snapshot_every,
                         images_dir=args.images, storefront=not args.no_storefront,
                         cache_seconds=args.cache_seconds, cache_entries=args.cache_entries,
                         stale_seconds=args.stale_seconds, reader_nice=args.reader_nice)
    if args.workers > 1:
        from recommend.serve.workers import serve_workers

        serve_workers(state, args.host, args.port, args.workers, config)
        return 0
    uvicorn.run(create_app(state, config), host=args.host, port=args.port,
                log_level="warning", timeout_graceful_shutdown=10)
    return 0
