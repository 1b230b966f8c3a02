"""The audience's category weight ``b``, first chosen per artifact on the build's validation split.

The audience (:mod:`recommend.marketer.audience`) is ``(1 - b) * hybrid + b * category``. How
much the users' appetite for a product's categories adds to the hybrid differs by data: on the
bench's validation cuts (``bench/marketer.py``) ML-100K preferred ``b = 0.5``, the demo worlds
and Amazon 2018 ``0.05``. So the build chooses it on what it already holds apart:

- the hybrid fitted on the validation split's training graph (the served blend), whose "seen"
  leaves the held-out pairs out, so their users are candidates of the product's audience;
- the held-out pairs themselves: a product's held-out users are the people who took it next.

For up to ``n_products`` products with at least ``min_takers`` held-out users (a seeded
choice; fewer than ``min_products`` such products keep the fixed weight: a mean over a
handful of products would choose by chance), each ``b`` of the config's
``audience.category_weights`` ranks every candidate once (the components' columns are
computed once per product, :class:`~recommend.marketer.audience.AudienceParts`), and its
recall of the held-out users is taken at n = 100 and n = 5% of users (each only where n is
below the number of candidates: a list of everyone says nothing). The best mean recall
(ties: the smaller ``b``) replaces the fixed ``audience.category_weight`` only when its paired
per-product gain over it exceeds twice its standard error. The bench showed why
(``bench/marketer.py``): with the best mean alone, Amazon 2018's 19 products chose 0.5 over
0.3 by 0.015 of recall on validation, and its test recall@100 halved (0.47 to 0.38).

This is the build's first choice of ``b``, and its fallback: the build then chooses ``b``
and the take rate's weight ``a`` together on a time cut of its own graph
(:mod:`recommend.marketer.cut_choice`), which asks what the audience is asked (who takes the
product in the coming period); where that cut cannot judge (no times, too few products with
takers after it) this ``b`` is served. The split cannot judge ``a``: it holds out each
validated user's latest products but keeps their other takes of the same days, so the
probe's taste already knows who was active then (ML-100K's validation: 0.57 recall without
the rate, 0.40 to 0.54 with it; the bench's true time cut says the opposite).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np

from recommend.hybrid.blend import record_float
from recommend.marketer.audience import activity, audience_parts, top_users
from recommend.marketer.cut_choice import audience_blend, pick_weights

if TYPE_CHECKING:
    import scipy.sparse as sp

    from recommend.hybrid.blend import Blend
    from recommend.hybrid.config import HybridConfig
    from recommend.hybrid.model import HybridModel
    from recommend.hybrid.split import HoldoutSplit

__all__ = ["audience_sizes", "choose_category_weight", "tune_audience"]


def audience_sizes(n_users: int) -> dict[str, int]:
    """The audience sizes judged: 100 and 5% of users (at least 1)."""
    return {"100": 100, "5%": max(1, n_users // 20)}


def choose_category_weight(model: HybridModel, held_out: sp.csr_matrix,
                           weights: tuple[float, ...], fixed: float, *, n_products: int = 50,
                           min_products: int = 10, min_takers: int = 5, seed: int = 0
                           ) -> tuple[float | None, dict[str, Any]]:
    """The best ``b`` of ``weights`` for ``model`` (fitted on the validation training graph)
    at finding each product's ``held_out`` users (users x products), if it beats the
    ``fixed`` one clearly, and the record of the choice; None when fewer than
    ``min_products`` products have ``min_takers`` held-out users (module docstring)."""
    began = time.perf_counter()
    takers = held_out.tocsc()
    eligible = np.flatnonzero(np.diff(takers.indptr) >= min_takers)
    if not weights or len(eligible) < min_products:
        return None, {"note": f"{len(eligible)} products have {min_takers} held-out users, "
                              f"fewer than {min_products}: the fixed weight is kept"}
    rng = np.random.default_rng(seed)
    items = np.sort(rng.choice(eligible, min(n_products, len(eligible)), replace=False))
    sizes = audience_sizes(held_out.shape[0])
    active = activity(model)
    weights = tuple(sorted({*weights, fixed}))
    found: dict[float, list[float]] = {b: [] for b in weights}
    judged_any = False
    for i in items.tolist():
        truth = takers.indices[takers.indptr[i]:takers.indptr[i + 1]]
        parts = audience_parts(model, i)
        judged = [n for n in sizes.values() if n < int(parts.cand.sum())]
        if not judged:
            continue
        judged_any = True
        for b in weights:
            top = top_users(parts.score(b), max(judged), active)
            found[b].append(float(np.mean([np.isin(top[:n], truth).sum() / len(truth)
                                           for n in judged])))
    if not judged_any:
        return None, {"note": "every audience size covers all candidates: the fixed weight "
                              "is kept"}
    recall = {b: float(np.mean(r)) for b, r in found.items()}
    # the time cut's rule (ties to the smaller b), over settings (b, a=0)
    picked = pick_weights({(b, 0.0): r for b, r in found.items()}, (fixed, 0.0))
    chosen, best, gain, margin = picked[0][0], picked[1][0], picked[2], picked[3]
    return chosen, {"chosen": chosen, "best": best, "fixed": fixed,
                    "products": len(found[fixed]), "gain_over_fixed": round(gain, 4),
                    "two_standard_errors": record_float(margin, 4), "sizes": sizes,
                    "recall": {f"{b:g}": round(r, 4) for b, r in recall.items()},
                    "seconds": round(time.perf_counter() - began, 3)}


def tune_audience(split: HoldoutSplit, config: HybridConfig, train: dict[str, Any],
                  blend: Blend) -> tuple[HybridConfig, dict[str, Any]]:
    """``config`` with ``audience.category_weight`` chosen on the validation split for the
    served ``blend`` of the components ``train`` fitted on ``split``'s training graph, and
    the choice's record (the fallback of :func:`recommend.marketer.cut_choice.choose_on_cut`,
    which the build asks next). A linear blend's components of weight 0 are left out
    (:func:`~recommend.marketer.cut_choice.audience_blend`)."""
    from recommend.hybrid.model import HybridModel

    blend = audience_blend(blend)
    probe = HybridModel(split.train_graph, config, {n: train[n] for n in blend.names}, blend)
    chosen, record = choose_category_weight(probe, split.relevant,
                                            config.audience.category_weights,
                                            config.audience.category_weight, seed=config.seed)
    if chosen is not None:
        config = config.updated(audience={"category_weight": chosen})
    return config, record
