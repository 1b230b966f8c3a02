"""The ``--workers N`` writer's internal app (:mod:`recommend.serve.workers`): a plain ASGI
callable on the writer's Unix socket, which only its readers reach.

- ``POST /write/{route}`` with a JSON body (and the client's ``Idempotency-Key`` header,
  with the caller it is scoped by, the reader's ``X-Shopgraph-Caller``) is ``state.write``
  on a worker thread: 200 with its result, 422 with the rejections
  (``{"rejections": [...]}``), 409 for a key used for another body, 404 for an unknown
  route, 400 for a body that is not JSON, 507 when the disk is full, 500 (logged) when the
  write failed otherwise (the reader answers 503: not acknowledged).
- ``POST /ready/{worker}`` answers once all ``readers`` have loaded (or after
  :data:`~recommend.serve.reader.READY_WAIT` s), so they start listening together and the
  kernel spreads connections over all of them (the first one up would otherwise get every
  client reconnecting after a restart).

It was a FastAPI app: its routing, validation, middleware and response objects took ~2 ms
of the writer's CPU per write under the mixed load on ML-100K (py-spy: 43% of the writer's
time, against 27% for the write itself), for two routes whose callers are this server's own
readers (they checked the API key and the body's size). Now it reads the body and answers
with Starlette's ``Request`` and ``JSONResponse`` only.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import TYPE_CHECKING

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse

from recommend.serve.idempotency import CALLER_HEADER, DEFAULT_CALLER, KeyReused
from recommend.serve.reader import READY_WAIT
from recommend.serve.writes import ROUTE_FILES, WriteRefused, storage_full

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

    from recommend.serve.state import ServedState

LOGGER = logging.getLogger("shopgraph.serve")


class WriterApp:
    """The writer's two routes over ``state`` for ``readers`` readers (module doc)."""

    def __init__(self, state: ServedState, readers: int) -> None:
        self.state, self.readers = state, readers
        self._ready: set[int] = set()
        self._loaded = threading.Condition()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        answer = await self._answer(Request(scope, receive))
        await answer(scope, receive, send)

    async def _answer(self, request: Request) -> JSONResponse:
        kind, _, name = request.url.path.strip("/").partition("/")
        if request.method != "POST" or "/" in name or kind not in ("write", "ready"):
            return JSONResponse({"detail": f"no route {request.url.path!r}"}, 404)
        if kind == "ready":
            if not (name.isascii() and name.isdigit()):
                return JSONResponse({"detail": f"no reader {name!r}"}, 404)
            ready = await anyio.to_thread.run_sync(self._reader_ready, int(name))
            return JSONResponse({"ready": ready})
        if name not in ROUTE_FILES:
            return JSONResponse({"detail": f"no write route {name!r}"}, 404)
        try:
            records = json.loads(await request.body())
        except ValueError as err:
            return JSONResponse({"detail": f"the body is not JSON: {err}"}, 400)
        key = request.headers.get("idempotency-key")  # checked by the reader
        caller = request.headers.get(CALLER_HEADER, DEFAULT_CALLER)  # told by the reader
        try:
            result = await anyio.to_thread.run_sync(self.state.write, name, records, key,
                                                    caller)
        except WriteRefused as err:
            return JSONResponse({"rejections": err.reasons}, 422)
        except KeyReused as err:
            return JSONResponse({"detail": str(err)}, 409)
        except Exception as err:  # a failing disk: not acknowledged, the reader says 503
            LOGGER.exception("write to %s failed", name)
            if (full := storage_full(err)) is not None:  # or 507
                return JSONResponse({"detail": full}, 507)
            return JSONResponse({"detail": f"{type(err).__name__}: {err}"}, 500)
        replayed = {"replayed": True} if result.replayed else {}  # Idempotent-Replayed
        return JSONResponse({**result.to_json(), **replayed})

    def _reader_ready(self, worker: int) -> int:
        with self._loaded:
            self._ready.add(worker)
            self._loaded.notify_all()
            self._loaded.wait_for(lambda: len(self._ready) >= self.readers,
                                  timeout=READY_WAIT)
            return len(self._ready)
