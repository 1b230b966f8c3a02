"""pool.largest: the first of pool.merged's candidates, without making every instance a path."""

from __future__ import annotations

import numpy as np
import pytest

from recommend.paths.path import Path
from recommend.paths.pool import largest, merged


def _path(nodes: tuple[tuple[str, int], ...], relations: tuple[str, ...], tag: str) -> Path:
    ids = tuple(f"{t}:{i}" for t, i in nodes)
    edges = tuple((a, r, b) for a, r, b in zip(ids[:-1], relations, ids[1:], strict=True))
    return Path(ids, edges, tag, 0.0, "")


def _nodes_of(p: Path) -> tuple[tuple[str, int], ...]:
    return tuple((n.partition(":")[0], int(n.partition(":")[2])) for n in p.nodes)


def _case(rng: np.random.Generator):  # type: ignore[no-untyped-def]
    """An item's instances (keys repeat: one path found by two scorers or meta-paths) and
    evidence paths (some the same path as an instance, some through the same nodes over
    other edges), values on a coarse grid so that totals tie."""
    shapes = [(("user", 0), ("product", int(a)), ("product", int(b)))
              for a, b in rng.integers(0, 4, size=(6, 2))]
    relations = [("rated", "co_rated"), ("rated", "similar")]
    keys = [(shapes[int(rng.integers(len(shapes)))],
             (("rated", "out"), (relations[int(rng.integers(2))][1], "out")))
            for _ in range(int(rng.integers(0, 12)))]
    values = rng.integers(1, 5, size=len(keys)) / 8.0
    forbidden = {k for k in set(keys) if rng.random() < 0.2}
    sums: dict = {}
    for key, v in zip(keys, values.tolist(), strict=True):
        sums[key] = sums.get(key, 0.0) + v
    names = [str(rng.choice(["graph", "social"])) for _ in keys]

    def build(r: int):  # type: ignore[no-untyped-def]
        key = keys[r]
        if key in forbidden:
            return None
        relations_of = tuple(rel for rel, _ in key[1])
        return (float(values[r]), names[r], _path(key[0], relations_of, f"mp{r}"))

    evidence = []
    for e in range(int(rng.integers(0, 6))):
        nodes = shapes[int(rng.integers(len(shapes)))]
        rel = relations[int(rng.integers(2))]
        evidence.append((float(rng.integers(1, 5)) / 8.0, str(rng.choice(["cf", "session"])),
                         _path(nodes, rel, f"ev{e}")))
    evidence = [c for c in evidence if not any(
        c[2].nodes == _path(k[0], tuple(r for r, _ in k[1]), "").nodes
        and c[2].edges == _path(k[0], tuple(r for r, _ in k[1]), "").edges
        for k in forbidden)]  # privacy forbids the same path whoever finds it
    return keys, sums, values.tolist(), build, evidence


@pytest.mark.parametrize("seed", range(300))
def test_largest_is_the_first_merged_candidate(seed: int) -> None:
    keys, sums, values, build, evidence = _case(np.random.default_rng(seed))
    everything = [c for r in range(len(keys)) if (c := build(r)) is not None] + evidence
    want = merged(everything)
    made: list[int] = []

    def counted(r: int):  # type: ignore[no-untyped-def]
        made.append(r)
        return build(r)

    got = largest(keys, sums, values, counted, evidence, _nodes_of)
    assert got == (want[0] if want else None)
    assert len(made) <= len(set(keys))  # at most one instance made per distinct path
