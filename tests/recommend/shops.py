"""A small timed shop for fit tests: two taste groups of 12 products."""

from __future__ import annotations

import numpy as np


def two_group_shop(n_users: int, per_user: int, *, described: bool = False, seed: int = 0):
    """Odd users buy ``per_user`` of products 0-11, even users of 12-23, a minute apart
    (``described``: the groups' titles say "garden" / "kitchen")."""
    from kg.build import build_graph
    from kg.records import Dataset, Event, Product, User

    rng = np.random.default_rng(seed)
    kind = ["garden " if described and i < 12 else "kitchen " if described else ""
            for i in range(24)]
    products = [Product(f"P{i}", f"{kind[i]}thing {i}") for i in range(24)]
    events = []
    for u in range(n_users):
        group = np.arange(12) if u % 2 else np.arange(12, 24)
        for t, i in enumerate(rng.choice(group, per_user, replace=False)):
            events.append(Event(str(u), f"P{i}", "product", "purchase", ts=1e6 * u + 60.0 * t))
    return build_graph(Dataset(products=products, users=[User(str(u)) for u in range(n_users)],
                               events=events), progress=False)
