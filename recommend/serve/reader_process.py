"""A reader or compute process of ``shopgraph serve --workers N`` (:mod:`recommend.serve.workers`):
``python -m recommend.serve.reader_process SPEC_JSON`` for a reader;
:mod:`recommend.serve.compute` starts the compute process from the same parts.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import sys
from pathlib import Path

from recommend.serve import API_KEY_ENV, NAMED_KEYS_ENV
from recommend.serve.app import ServeConfig
from recommend.serve.reader import ReaderState
from recommend.serve.workers import ReaderSpec, reader_config

LOGGER = logging.getLogger("shopgraph.serve")


def _die_with_parent(parent: int) -> None:
    """Ask Linux for SIGKILL when the writer's thread that started us ends; exit when it
    already has."""
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        LOGGER.warning("no PR_SET_PDEATHSIG here: a killed writer leaves this reader running")
    if os.getppid() != parent:
        sys.exit(1)


def reader_parts(argv: list[str]) -> tuple[ReaderSpec, ServeConfig, ReaderState]:
    """The spec (``argv[0]``, JSON), the config and the loaded state of a process the writer
    started (tied to the writer's life first)."""
    spec = ReaderSpec(**json.loads(argv[0]))
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="shopgraph serve: %(message)s")
    LOGGER.setLevel(logging.INFO)
    _die_with_parent(spec.parent)
    from kg.version import shopgraph_version
    from recommend.serve.cache import ResponseCache
    from recommend.serve.served import base_id
    from recommend.serve.shared_cache import SharedResponses

    named = tuple((str(name), str(key))
                  for name, key in json.loads(os.environ.get(NAMED_KEYS_ENV) or "[]"))
    config = reader_config(spec.options, os.environ.get(API_KEY_ENV) or None, named)
    stamp = f"{base_id(Path(spec.artifact))} {shopgraph_version()}"  # what answers come from
    shared = None if spec.shared_cache is None else SharedResponses(
        spec.shared_cache, config.cache_seconds, config.cache_entries, stamp,
        config.stale_seconds)
    state = ReaderState(spec.artifact, spec.state, spec.writer_socket, worker=spec.worker,
                        cache=ResponseCache(config.cache_seconds, config.cache_entries),
                        shared=shared)
    return spec, config, state


def reader_main(argv: list[str]) -> int:
    """A reader process (:mod:`recommend.serve.workers`)."""
    import uvicorn

    from recommend.serve.app import create_app
    from recommend.serve.compute import ComputeClient
    from recommend.serve.warm import warm

    spec, config, state = reader_parts(argv)
    if spec.compute_socket is not None:
        state.compute = ComputeClient(spec.compute_socket)
    sock = socket.socket(fileno=spec.fd)
    server = uvicorn.Server(uvicorn.Config(create_app(state, config), log_level="warning",
                                           timeout_graceful_shutdown=10))
    warm(state, config.images_dir, spec.worker, spec.readers)
    os.nice(config.reader_nice)  # the compute process first (ServeConfig.reader_nice)
    state.ready()  # listen once every reader has loaded (and warmed)
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(reader_main(sys.argv[1:]))
