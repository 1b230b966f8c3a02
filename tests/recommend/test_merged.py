"""One candidate per distinct path, as the two-dict merge (6b5a376) made it."""

from __future__ import annotations

import numpy as np
import pytest

from recommend.paths.path import Path
from recommend.paths.pool import merged


def old_merged(paths):
    best, total = {}, {}
    for c in paths:
        key = (c[2].nodes, c[2].edges)
        total[key] = total.get(key, 0.0) + c[0]
        if key not in best or c[0] > best[key][0]:
            best[key] = c
    out = [(total[key], name, p) for key, (_, name, p) in best.items()]
    out.sort(key=lambda e: -e[0])
    return out


@pytest.mark.parametrize("seed", range(20))
def test_merged_sums_and_keeps_as_before(seed: int) -> None:
    rng = np.random.default_rng(seed)
    routes = [(("user:1", f"product:{a}", f"product:{b}"),
               (("user:1", "rated", f"product:{a}"), (f"product:{a}", "co_rated", f"product:{b}")))
              for a in range(3) for b in range(2)]
    paths = []
    for _ in range(int(rng.integers(0, 25))):
        nodes, edges = routes[int(rng.integers(len(routes)))]
        value = float(rng.choice([0.1, 0.2, 0.3, 1e-17, -0.0]))
        value = np.float64(value) if rng.random() < 0.5 else value
        paths.append((value, str(rng.choice(["graph", "cf", "social"])),
                      Path(nodes, edges, None, 0.0, "")))
    got, want = merged(paths), old_merged(paths)
    assert [(repr(t), n, id(p)) for t, n, p in got] == [(repr(t), n, id(p)) for t, n, p in want]
