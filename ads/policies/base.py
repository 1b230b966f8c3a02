"""The one interface every ad policy implements, and its safe save/load.

A policy picks one of the context's candidate ads (``choose``), learns from the
reward (``update``) and says how likely each candidate was (``probabilities``: what
off-policy evaluation needs as propensities). State is saved as a single ``.npz``
(``allow_pickle=False``): arrays plus a JSON header with the class name, the
hyper-parameters and the random generator's state, so a reloaded policy continues
exactly where the saved one stopped.
"""

from __future__ import annotations

import io
import json
import os
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from ads.context import AdContext
from kg.atomic import atomic_write_bytes

_REGISTRY: dict[str, type[Policy]] = {}
_META_KEY = "__meta__"


class Policy(ABC):
    """An ad-delivery policy over ``n_arms`` ads (global arm ids ``0..n_arms-1``)."""

    name: ClassVar[str]

    def __init__(self, *, n_arms: int, seed: int = 0) -> None:
        if n_arms <= 0:
            raise ValueError(f"{type(self).__name__}: n_arms must be positive, got {n_arms}")
        self.n_arms = n_arms
        self.seed = seed
        self.rng_ = np.random.default_rng(seed)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            _REGISTRY[cls.name] = cls

    # -- the contract -------------------------------------------------------------
    @abstractmethod
    def probabilities(self, context: AdContext) -> np.ndarray:
        """Probability of showing each candidate (sums to 1, aligned with candidates)."""

    def choose(self, context: AdContext) -> int:
        """The arm id to show (one of ``context.candidates``)."""
        p = self.probabilities(context)
        return int(context.candidates[self.rng_.choice(len(p), p=p)])

    @abstractmethod
    def update(self, context: AdContext, action: int, reward: float) -> None:
        """Learn from showing arm ``action`` in ``context`` and observing ``reward``."""

    # -- persistence --------------------------------------------------------------
    @abstractmethod
    def get_params(self) -> dict[str, Any]:
        """Constructor keyword arguments (JSON-able)."""

    @abstractmethod
    def state_arrays(self) -> dict[str, np.ndarray]:
        """The learned state as named arrays."""

    @abstractmethod
    def set_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore the learned state from ``state_arrays()`` output."""

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the policy to ``path`` (.npz) atomically."""
        meta = {
            "class": self.name,
            "params": self.get_params(),
            "rng": self.rng_.bit_generator.state,
        }
        buffer = io.BytesIO()
        np.savez(buffer, **self.state_arrays(), **{_META_KEY: np.array(json.dumps(meta))})
        atomic_write_bytes(path, buffer.getvalue())

    @staticmethod
    def load(path: str | os.PathLike[str]) -> Policy:
        """Read a policy saved by :meth:`save`, whatever its class."""
        with np.load(path, allow_pickle=False) as data:
            if _META_KEY not in data:
                raise ValueError(f"{path}: not a saved ads policy (no {_META_KEY})")
            meta = json.loads(str(data[_META_KEY]))
            arrays = {k: data[k] for k in data.files if k != _META_KEY}
        cls = _REGISTRY.get(meta["class"])
        if cls is None:
            raise ValueError(f"{path}: unknown policy class {meta['class']!r}")
        policy = cls(**meta["params"])
        policy.set_state_arrays(arrays)
        policy.rng_.bit_generator.state = meta["rng"]
        return policy


def greedy_probabilities(scores: np.ndarray) -> np.ndarray:
    """Probability spread evenly over the best-scoring candidates (a tie is no preference)."""
    best = scores >= scores.max() - 1e-12
    return best / best.sum()


def registered_policies() -> dict[str, type[Policy]]:
    """Policy classes by name."""
    return dict(_REGISTRY)
