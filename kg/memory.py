"""Handing memory a finished build step no longer needs back to the operating system.

A build's stages make and drop millions of small objects (spaCy docs, records, mention
lists) and large arrays. CPython frees them into glibc's heap, which keeps most freed pages
mapped, so the process's resident size after the nlp stage stays where the stage left it
and every later peak stacks on top. :func:`release_memory` runs the cyclic collector, then
``malloc_trim(0)``, which returns the heap's free pages; measured after parsing 3,000 posts
with spaCy and dropping the pipeline: 534 MB resident before the trim, 458 MB after. Where
the C library is not glibc, only the collector runs.

A full collection walks every object the process holds, not only the build's: with torch,
spaCy and transformers imported that is ~520k objects and 0.3-1.5 s a walk, six walks a build
(in a test session's long-lived process, far more objects: 62% of the any-dataset property
test's time was these walks). :func:`collect_only_new` keeps what was alive before a build out
of its walks.

Serving has the same cost: a loaded artifact holds ~100k tracked objects (the nodes'
attribute dicts: 80k posts on the size world), and a full collection then took 100-375 ms in
the middle of a request. :func:`frozen_while_alive` keeps what is alive when a model starts
being served out of the walks for as long as it is served; :func:`thaw` (a new model
published) gives them back, and what survives the next full collection is frozen again.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache

_scopes = 0  # collect_only_new scopes running
_owners = 0  # frozen_while_alive owners alive
_refreeze = False  # freeze again at the end of the next full collection
# reentrant: an owner's finalizer may run inside a collection triggered while it is held
_scopes_lock = threading.RLock()


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc: no malloc_trim
        return None


def release_memory() -> bool:
    """Collect garbage and return free heap pages to the OS; whether a trim was possible."""
    gc.collect()
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


@contextmanager
def collect_only_new() -> Iterator[None]:
    """Within, the cyclic collector leaves alone every object alive when the scope began.

    ``gc.freeze`` moves them to a permanent generation that collections skip; on the way out
    ``gc.unfreeze`` returns them to the oldest generation, so whatever of them became garbage
    meanwhile is found by the next full collection. Nested or concurrent scopes freeze once,
    at the first, and unfreeze at the last one's end.
    """
    global _scopes
    with _scopes_lock:
        if _scopes == 0:
            gc.freeze()
        _scopes += 1
    try:
        yield
    finally:
        with _scopes_lock:
            _scopes -= 1
            if _scopes == 0:
                gc.unfreeze()
                _thawed()


def as_long_lived() -> None:
    """Move every object the cyclic collector tracks into its oldest generation without
    walking them: what a load just made (an artifact's decoded graph) lives as long as the
    graph, yet each young collection after it walked all of it (the size world's 38k node
    attributes and id lists: a 106 ms and a 125 ms walk in its load). Whatever of them is, or
    becomes, garbage is found by the next full collection. While anything is frozen (a
    :func:`collect_only_new` scope, or any other ``gc.freeze``) nothing moves: the unfreeze
    would thaw it."""
    with _scopes_lock:
        if _scopes == 0 and gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()


def frozen_while_alive(owner: object) -> None:
    """Leave every object alive now out of the cyclic collector's walks while ``owner`` (or
    another owner) lives: what a served model holds is never garbage while it is served.

    What is garbage at the call (a cycle no collection has reached yet) is kept meanwhile, and
    collected once the last owner is gone (``owner`` must then be freed by reference counting:
    a cycle through it would keep it frozen too)."""
    global _owners
    with _scopes_lock:
        gc.freeze()
        _owners += 1
    weakref.finalize(owner, _owner_gone).atexit = False


def _owner_gone() -> None:
    global _owners, _refreeze
    with _scopes_lock:
        _owners -= 1
        if _owners == 0:
            _refreeze = False
            if _scopes == 0:
                gc.unfreeze()


def thaw() -> None:
    """Give every frozen object back to the collector (a replaced model may now be garbage);
    while an owner lives, what survives the next full collection is frozen again."""
    with _scopes_lock:
        gc.unfreeze()
        _thawed()


def _thawed() -> None:
    global _refreeze
    _refreeze = _owners > 0


def _after_collection(phase: str, info: dict[str, int]) -> None:
    """At the end of a full collection after a :func:`thaw`: freeze what is left (it all
    survived a full walk, so none of it is garbage). Takes no lock: it runs in whichever
    thread collects, maybe one holding it."""
    global _refreeze
    if phase == "stop" and info["generation"] == 2 and _refreeze and _scopes == 0:
        _refreeze = False
        gc.freeze()


gc.callbacks.append(_after_collection)
