"""``shopgraph serve``: the recommender over HTTP, with live feedback and a storefront.

Modules, one concept each: :mod:`~recommend.serve.app` (the FastAPI app and its lifecycle),
:mod:`~recommend.serve.api` (the ``/v1`` routes), :mod:`~recommend.serve.state` (the served
Recommender, its write-ahead log, replay and snapshots), :mod:`~recommend.serve.wal` (the
log), :mod:`~recommend.serve.served` (what the writer and the readers share),
:mod:`~recommend.serve.workers` (``--workers N``: one writer, N reader processes and a
compute one), :mod:`~recommend.serve.reader_process` (a reader process's start),
:mod:`~recommend.serve.reader` (a reader's model, following the log through
:mod:`~recommend.serve.follow`), :mod:`~recommend.serve.compute` (the readers' cache misses
and precomputes, off their GIL), :mod:`~recommend.serve.writes` (a request validated as
dataset files are), :mod:`~recommend.serve.feedback` ("not interested"),
:mod:`~recommend.serve.catalogue` (product facts, user search, profiles),
:mod:`~recommend.serve.security` (API key, body limits, ids), :mod:`~recommend.serve.metrics`
(Prometheus) and
:mod:`~recommend.serve.storefront` (the HTML pages). FastAPI and uvicorn are the ``serve``
extra: importing :mod:`recommend` never loads them.
"""

#: The environment variable holding the write API key (the CLI's, handed on to readers).
API_KEY_ENV = "SHOPGRAPH_API_KEY"
#: Where the writer hands its readers the named keys of a key file (JSON [[name, key], ...]).
NAMED_KEYS_ENV = "SHOPGRAPH_NAMED_API_KEYS"
#: When the writer loads the sentence model new products' texts need
#: (:func:`recommend.serve.embedded.load_ahead`): in the background at start, in the background
#: at the first write of any kind, or when a product write needs it (that write waits).
ENCODER_LOADS = ("start", "write", "product")
