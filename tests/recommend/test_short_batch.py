"""Several 1- and 2-step meta-paths' instances in one pass: each what its own pass gave."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommend.paths.group_batch import LastHops
from recommend.paths.instances import instances_as_groups
from recommend.paths.short_batch import top_instances_each


def meta_paths(seed: int, users: int = 8, firsts: int = 30, products: int = 25):
    """Random 1- and 2-step meta-paths with values that tie, some sharing a last step (an
    equal copy or the same object), a user row left empty."""
    rng = np.random.default_rng(seed)

    def step(rows, cols, density):
        m = sp.random(rows, cols, density=density, format="csr", random_state=rng)
        m.data = rng.choice([0.25, 0.5, 1.0, 0.1], m.nnz)
        return m

    last = step(firsts, products, 0.2)
    first = step(users, firsts, 0.3)
    first.data[first.indptr[2]:first.indptr[3]] = 0.0  # a row of zeros: nothing reached
    out = [[first, last], [step(users, firsts, 0.2), last.copy()], [step(users, products, 0.3)],
           [step(users - 2, products, 0.3)], [first, step(firsts, products, 0.2)]]
    return out


@pytest.mark.parametrize("seed", range(30))
def test_each_meta_path_gets_what_its_own_pass_gave(seed: int) -> None:
    rng = np.random.default_rng(seed)
    batch = meta_paths(seed)
    items = [rng.choice(25, int(rng.integers(1, 12)), replace=False) for _ in batch]
    items[1] = items[0].copy()  # (another object, equal: its last hops shared)
    k = int(rng.integers(1, 5))
    for u in range(8):
        lasts = LastHops()
        got = top_instances_each(list(zip(batch, items, strict=True)), u, k, lasts)
        for steps, its, found in zip(batch, items, got, strict=True):
            assert found == instances_as_groups(steps, u, its, k)
            for groups, total in found:  # Python floats, as one by one
                assert type(total) is float and all(type(v) is float for _, v, _ in groups)
        assert len(lasts.found) <= 4  # (the equal last steps into equal items: read once)


def test_longer_meta_paths_are_refused() -> None:
    m = sp.identity(3, format="csr")
    with pytest.raises(ValueError, match="1 or 2 steps, not 3"):
        top_instances_each([([m, m, m], np.arange(3))], 0, 2)
