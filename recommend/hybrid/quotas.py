"""How many candidates each component brings to the pool: quotas sized by its own recall.

The pool is the union of each component's top ``n_c`` allowed products
(:func:`recommend.hybrid.candidates.gather`). One ``n`` for every component spends as many
slots on a component whose list holds few of the held-out items (content on ML-100K: 19%
of them in its top 200, against cf's 70%) as on the one that finds them, and a pool of
5 x 200 held 86% of ML-100K's validation items where cf's top 720 alone held 94%.
:func:`pool_quotas` gives every component ``start`` slots (the build: the uniform size
:func:`recommend.hybrid.select.candidate_size` chose; cutting graph and session to 30 on
ML-100K while cf took 600 lowered the test NDCG@10 0.4455 -> 0.4270 at random and
0.2509 -> 0.2422 by time, at a pool recall of 0.90 against 0.83), then more to the
component whose list brings the most held-out items not yet in the pool per slot, looking
as deep as its next such item (a multiple of ``step``), until the pool holds ``target`` of
them, no component brings any more, or the slots would pass ``budget``. Looking ahead
matters on a sparse catalogue: on the size world (18k products) the held-out items lie
hundreds deep in every list, no component's next 30 slots held one and sizing 30 at a
time stopped at 0.56 whatever the budget.

The build's budget (``blend.candidate_budget``, :func:`quota_budget`) is a cap, not a size:
the sizing stops at the first pool that holds ``target`` (90%) of the validation items, so
the pool is the smallest the greedy rule finds for the recall, and only a catalogue whose
held-out items lie deeper than the cap stops short (its recall then says so). By default
the budget is 0: the uniform pool, because a cap large enough for the size world's 90%
bought no NDCG and cost where the issue's other targets are measured (session 22, cap
5,000; a request's thread CPU grew ~0.55 us a slot there: 12.3 ms at 6 x 200 slots, 14.1 ms
at 6 x 800, 21.9 ms at 6 x 3,000). The size world's sized pool (4,950 slots, content 2,210
of them) took its pool recall 0.46 -> 0.895 at random and 0.44 -> 0.85 by time (the cap
stopped it), NDCG@10 0.0338 -> 0.0339 and 0.0336 -> 0.0332, request CPU p50 10.8 -> 14.7 ms
(200 users, lockstep), the blend's fit 3.1x the seconds on ~4x the candidate rows, and one
reading of the build's resident size 3.2 GB (its target: 2 GB); ML-100K's (1,240 slots)
took 0.82 -> 0.90 with NDCG@10 0.4455 -> 0.4465 and 0.2509 -> 0.2512 and request CPU
within noise (1.009x). Where the items deep in a list matter more than the top 10, a budget
grows the pool.

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

__all__ = ["component_sizes", "configured_quotas", "pool_quotas", "quota_budget"]


def pool_quotas(ranks: np.ndarray, *, target: float, step: int, budget: int,
                start: int | None = None) -> tuple[np.ndarray, float]:
    """Per component (a column of ``ranks``: each held-out pair's rank in that component's
    list, 0 = first, inf = no evidence), its quota (module doc: from ``start``, ``step``
    when None), and the share of the pairs the pool of those quotas holds. Equal rates go
    to the first component."""
    if step < 1 or budget < 1:
        raise ValueError(f"step and budget must be >= 1, got {step} and {budget}")
    ranks = np.asarray(ranks, np.float64)
    n_pairs, n_comps = ranks.shape
    quotas = np.full(n_comps, step if start is None else start, np.int64)
    held = (ranks < quotas).any(axis=1)
    while n_pairs and held.mean() < target:
        free = ranks[~held]
        best, pick = 0.0, (-1, 0)
        for j in range(n_comps):
            ahead = free[:, j][(free[:, j] >= quotas[j]) & np.isfinite(free[:, j])]
            if not len(ahead):
                continue
            # slots to take the nearest (a rank r is in a pool of n > r), whole steps
            more = step * int(np.ceil((np.floor(ahead.min()) + 1 - quotas[j]) / step))
            rate = np.count_nonzero(ahead < quotas[j] + more) / more
            if rate > best and quotas.sum() + more <= budget:
                best, pick = rate, (j, more)
        j, more = pick
        if j < 0:
            break
        quotas[j] += more
        held |= ranks[:, j] < quotas[j]
    return quotas, float(held.mean()) if n_pairs else 0.0


def configured_quotas(config: HybridConfig, quotas: dict[str, int]) -> tuple[int, ...]:
    """``quotas`` (by component name) as ``blend.candidate_quotas``: one per configured
    component in order, ``blend.candidates_per_component`` for those not sized."""
    return tuple(int(quotas.get(n, config.blend.candidates_per_component))
                 for n in config.components)


def quota_budget(config: HybridConfig, n_components: int) -> int:
    """The most candidates the quotas of ``n_components`` components may take in all:
    ``blend.candidate_budget`` (the cap: module doc), or (0) the largest of
    ``blend.candidate_sizes`` for each (the uniform pool)."""
    blend = config.blend
    return blend.candidate_budget or max(blend.candidate_sizes) * n_components


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
