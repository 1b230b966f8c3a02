"""The served state of a Recommender, swapped whole so that readers never see a mix.

A :class:`Snapshot` is one model (its graph and components) with the per-state caches
derived from it (prices, influencers). It is never changed after it is published, apart
from those caches filling in (each computed from the snapshot's own model).

:class:`Serving` holds the current snapshot. Writers (``add``) build the next model beside
it and :meth:`Serving.publish` it under :attr:`Serving.write_lock`: one reference
assignment, atomic for readers, who take no lock. A reading method decorated with
:func:`reads_snapshot` reads the reference once on entry and *pins* it for its thread until
it returns (nested reading calls keep the outer pin), so every ``self.model`` /
``self.graph`` inside one request is the same snapshot: a request answers from the old
state or the new one, never from both.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, Protocol, TypeVar

if TYPE_CHECKING:
    import numpy as np

    from recommend.hybrid.model import HybridModel

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(eq=False)
class Snapshot:
    """One served state: the model, and caches derived from it (None until first needed)."""

    model: HybridModel
    prices: np.ndarray | None = None
    influencers: dict[str, frozenset[str]] | None = None


class Serving:
    """The current :class:`Snapshot`, a per-thread pin of it, and the writers' lock."""

    def __init__(self, model: HybridModel) -> None:
        self.write_lock = threading.RLock()
        self._pins = threading.local()
        self._current = self._prepared(model)

    @staticmethod
    def _prepared(model: HybridModel) -> Snapshot:
        # readers must find the graph's edge columns consolidated: doing it lazily would
        # rebind a block's columns while another thread reads them
        model.graph.consolidate()
        return Snapshot(model)

    def current(self) -> Snapshot:
        """The snapshot pinned by this thread's reading call, else the latest one."""
        pinned = getattr(self._pins, "snapshot", None)
        return self._current if pinned is None else pinned

    def latest(self) -> Snapshot:
        """The snapshot published last (what a writer builds on)."""
        return self._current

    def publish(self, model: HybridModel, *, keep: tuple[str, ...] = ()) -> None:
        """Serve ``model`` from now on (hold :attr:`write_lock`); the caches named in
        ``keep`` are carried over from the current snapshot (the caller knows the change
        leaves them valid)."""
        snapshot = self._prepared(model)
        for name in keep:
            setattr(snapshot, name, getattr(self._current, name))
        self._current = snapshot

    @contextlib.contextmanager
    def pinned(self) -> Iterator[Snapshot]:
        """Pin the current snapshot for this thread (kept if already pinned)."""
        pins = self._pins
        outer = getattr(pins, "snapshot", None)
        if outer is not None:
            yield outer
            return
        pins.snapshot = self._current
        try:
            yield pins.snapshot
        finally:
            pins.snapshot = None


class _Served(Protocol):
    _serving: Serving


S = TypeVar("S", bound=_Served)


def reads_snapshot(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """Run ``method`` with its object's current snapshot pinned (see the module doc)."""

    @functools.wraps(method)
    def wrapper(self: S, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._serving.pinned():
            return method(self, *args, **kwargs)

    return wrapper


def snapshot_field(name: str) -> Any:
    """A property reading and writing field ``name`` of the pinned (or current) snapshot."""

    def get(self: _Served) -> Any:
        return getattr(self._serving.current(), name)

    def set_(self: _Served, value: Any) -> None:
        setattr(self._serving.current(), name, value)

    return property(get, set_, doc=f"The served snapshot's {name}.")
