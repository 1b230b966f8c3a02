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
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache

_scopes = 0
_scopes_lock = threading.Lock()


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
