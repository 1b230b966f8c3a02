"""How many candidates each component brings to the pool: quotas sized by its own recall.

The pool is the union of each component's top ``n_c`` allowed products
(:func:`recommend.hybrid.candidates.gather`). One ``n`` for every component spends as many
slots on a component whose list holds few of the held-out items (content on ML-100K: 19%
of them in its top 200, against cf's 70%) as on the one that finds them, and a pool of
5 x 200 held 86% of ML-100K's validation items where cf's top 720 alone held 94%.
:func:`pool_quotas` gives every component ``step`` slots (each one's best always reaches
the blend), then ``step`` more at a time to the component whose next slots bring the most
held-out items not yet in the pool, until the pool holds ``target`` of them, no
component brings any more, or the slots reach ``budget`` (the uniform grid's largest
pool: never more candidates than one size for all allowed).

>>> import numpy as np
>>> ranks = np.array([[0, 90], [40, 80], [70, 5], [100, np.inf]], float)
>>> pool_quotas(ranks, target=0.75, step=30, budget=200)
(array([60, 30]), 0.75)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from recommend.hybrid.config import HybridConfig

__all__ = ["component_sizes", "configured_quotas", "pool_quotas"]


def pool_quotas(ranks: np.ndarray, *, target: float, step: int, budget: int
                ) -> tuple[np.ndarray, float]:
    """Per component (a column of ``ranks``: each held-out pair's rank in that component's
    list, 0 = first, inf = no evidence), its quota (module doc), and the share of the pairs
    the pool of those quotas holds. Equal gains go to the first component."""
    if step < 1 or budget < 1:
        raise ValueError(f"step and budget must be >= 1, got {step} and {budget}")
    ranks = np.asarray(ranks, np.float64)
    n_pairs, n_comps = ranks.shape
    quotas = np.full(n_comps, step, np.int64)
    held = (ranks < quotas).any(axis=1)
    while n_pairs and held.mean() < target and quotas.sum() + step <= budget:
        free = ~held
        gains = [int(np.count_nonzero(free & (ranks[:, j] >= quotas[j])
                                      & (ranks[:, j] < quotas[j] + step)))
                 for j in range(n_comps)]
        j = int(np.argmax(gains))
        if gains[j] == 0:
            break
        quotas[j] += step
        held |= ranks[:, j] < quotas[j]
    return quotas, float(held.mean()) if n_pairs else 0.0



def configured_quotas(config: HybridConfig, quotas: dict[str, int]) -> tuple[int, ...]:
    """``quotas`` (by component name) as ``blend.candidate_quotas``: one per configured
    component in order, ``blend.candidates_per_component`` for those not sized."""
    return tuple(int(quotas.get(n, config.blend.candidates_per_component))
                 for n in config.components)


def component_sizes(config: HybridConfig, names: Sequence[str]) -> list[int]:
    """Each of the components ``names``' candidate size: its ``blend.candidate_quotas`` entry,
    or ``blend.candidates_per_component`` where the config has no quotas (a ValueError
    naming the field when they do not match ``components``)."""
    quotas, order = config.blend.candidate_quotas, tuple(config.components)
    if not quotas:
        return [config.blend.candidates_per_component] * len(names)
    if len(quotas) != len(order) or not set(names) <= set(order):
        raise ValueError(f"HybridConfig.blend.candidate_quotas: {len(quotas)} sizes for the "
                         f"components {order}, asked for {tuple(names)}")
    return [quotas[order.index(n)] for n in names]
