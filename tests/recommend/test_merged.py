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


def test_path_values_key_each_meta_paths_steps_as_spelt() -> None:
    from recommend.paths import MetaPath, Step
    from recommend.paths.pool import path_values

    a = MetaPath("a", (Step("rated", "out", "product"), Step("in_category", "out"),
                       Step("in_category", "in")))
    b = MetaPath("b", (Step("rated", "out", "product"), Step("also_viewed")))
    raw = [(0.5, "graph", (0.5, m.name, idx, 1), m, m.types, False, 1.0)
           for m, idx in ((a, (0, 1, 2, 3)), (b, (0, 1, 3)), (a, (0, 1, 2, 3)), (a, (0, 4, 2, 3)))]
    for _ in range(2):  # (the second time from the remembered steps)
        keys, values = path_values(raw)
        want = [((m.types, inst[2]), tuple((s.relation, s.direction) for s in m.steps))
                for _, _, inst, m, *_ in raw]
        assert keys == want
        assert values == {want[0]: 1.0, want[1]: 0.5, want[3]: 0.5}
