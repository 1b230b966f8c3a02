"""A meta-path instance that is an evidence path carrying more is not made a path
(recommend/paths/pool.evidence_keys, used by recommend/paths/explain.scored_paths_many): the
paths shown are the ones shown when every instance is made a path and merged, on random
shops."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import recommend.paths.explain as explain
from kg.graph import KnowledgeGraph
from recommend.hybrid.evidence import Evidence
from recommend.paths import GraphPathScorer, MetaPath, Step
from recommend.paths.path import Path
from recommend.paths.pool import evidence_keys, path_values
from recommend.paths.privacy import Privacy
from recommend.paths.select import Selection

PRODUCTS = [f"product:P{k}" for k in range(8)]
CATEGORIES = ["category:a", "category:b", "category:c"]
METAPATHS = [
    MetaPath("bought>co_purchased", (Step("purchased", "out", "product"),
                                      Step("co_purchased", min_people=2))),
    MetaPath("bought>category", (Step("purchased", "out", "product"),
                                 Step("in_category", "out", "category"),
                                 Step("in_category", "in", "product"))),
]


def _shop(rng: np.random.Generator) -> KnowledgeGraph:
    """user:1 bought a few products; 8 people bought some; each product in a category or two."""
    g = KnowledgeGraph()
    for p in PRODUCTS:
        g.add_node(p, title=p)
    mine = rng.choice(len(PRODUCTS), size=int(rng.integers(1, 4)), replace=False)
    g.add_edges("purchased", ["user:1"] * len(mine), [PRODUCTS[k] for k in mine],
                ts=[float(t) for t in range(len(mine))])
    crowd = [(f"user:c{c}", PRODUCTS[p]) for c in range(8) for p in range(len(PRODUCTS))
             if rng.random() < 0.5]
    g.add_edges("purchased", [u for u, _ in crowd], [p for _, p in crowd])
    held = [(p, c) for p in PRODUCTS for c in CATEGORIES if rng.random() < 0.45]
    held += [(p, CATEGORIES[0]) for p in PRODUCTS if all(q != p for q, _ in held)]
    g.add_edges("in_category", [p for p, _ in held], [c for _, c in held])
    return g


def _case(seed: int) -> tuple[Any, ...]:
    """A random shop, the items not bought, the graph's shares and the other components'
    evidence (cf, content and popularity linking the user's products, shares on a coarse
    grid so that values tie), the items' scores and a floor some paths are below."""
    rng = np.random.default_rng(seed)
    g = _shop(rng)
    scorer = GraphPathScorer(METAPATHS).prepare(g)
    scorer.weights_ = rng.integers(1, 4, size=len(METAPATHS)) / 4.0
    own = [g.index(p) for p in PRODUCTS if g.has_edge("user:1", "purchased", p)]
    items = [p for p in PRODUCTS if g.index(p) not in own]
    # some graph parts small: their paths reach the floor only with the evidence's
    shares = (rng.integers(0, 4, size=len(items)) / rng.choice([8.0, 64.0], size=len(items))
              ).tolist()
    evidence = []
    for _ in items:
        found = []
        for name in ("cf", "content", "popularity"):
            if rng.random() < 0.7:
                links = tuple((a, float(rng.integers(1, 5)) / 4.0) for a in own
                              if rng.random() < 0.8)
                found.append(Evidence(name, float(rng.integers(1, 4)) / 8.0,
                                      () if name == "popularity" else links))
        evidence.append(found)
    totals = [s + sum(e.share for e in ev) + 0.01 for s, ev in zip(shares, evidence,
                                                                      strict=True)]
    return g, items, scorer, shares, evidence, totals, float(rng.choice([0.05, 0.1, 0.2]))


class _Unnamed(list):  # type: ignore[type-arg]
    """An item's instance keys (path_values'), none of them given by position: the
    reference route makes every instance a path and merges them all (iterated whole, as
    pool.largest does, they are the keys)."""

    def __getitem__(self, r: Any) -> Any:
        return None


def _shown(case: tuple[Any, ...], monkeypatch: pytest.MonkeyPatch, reference: bool
           ) -> tuple[list[Any], int]:
    g, items, scorer, shares, evidence, totals, floor = case
    made = [0]
    built = explain.built_path

    def counted(*args: Any, **kwargs: Any) -> Any:
        made[0] += 1
        return built(*args, **kwargs)

    def unnamed(raw: Any) -> Any:
        keys, values = path_values(raw)
        return _Unnamed(keys), values

    with monkeypatch.context() as m:
        m.setattr(explain, "built_path", counted)
        if reference:
            m.setattr(explain, "path_values", unnamed)
        out = explain.scored_paths_many(
            g, "user:1", items, [("graph", scorer, shares, ())], max_paths=3,
            privacy=Privacy(min_people=2), selection=Selection(), evidence=evidence,
            totals=totals, min_share=floor)
    return [[(p.nodes, p.edges, p.text, p.component, p.metapath, p.contribution, p.kind)
             for p in paths] for paths in out], made[0]


def test_the_paths_shown_are_those_of_every_instance_made(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    fewer = 0
    for seed in range(60):
        case = _case(seed)
        want, made_all = _shown(case, monkeypatch, reference=True)
        got, made = _shown(case, monkeypatch, reference=False)
        assert got == want, seed
        assert made <= made_all
        fewer += made < made_all
    assert fewer >= 10  # instances that were only merged into evidence paths were not made


def _path(nodes: tuple[str, ...], hops: tuple[tuple[str, str], ...]) -> Path:
    edges = tuple((a, r, b) if way == "out" else (b, r, a)
                  for a, b, (r, way) in zip(nodes[:-1], nodes[1:], hops, strict=True))
    return Path(nodes, edges, None, 0.0, "")


@pytest.mark.parametrize("seed", range(100))
def test_evidence_keys_name_exactly_the_instances_that_are_the_path(seed: int) -> None:
    rng = np.random.default_rng(seed)
    g = KnowledgeGraph()
    for p in PRODUCTS[:3]:
        g.add_node(p)
    g.add_node("user:1")

    def shape() -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
        nodes = ("user:1", *(PRODUCTS[int(k)] for k in rng.integers(0, 3, size=2)))
        hops = (("purchased", "out"), (str(rng.choice(["similar", "co_purchased"])),
                                       str(rng.choice(["out", "in"]))))
        return nodes, hops

    evidence = [(float(rng.integers(1, 4)) / 4.0, "cf", _path(*shape())) for _ in range(4)]
    memo: dict[str, tuple[str, int]] = {}
    relations = {("purchased", "co_purchased")} | (
        {("purchased", "similar")} if rng.random() < 0.7 else set())  # the meta-paths'
    keys = evidence_keys(g, evidence, memo, relations)
    for _ in range(20):
        nodes, hops = shape()
        p = _path(nodes, hops)
        types = tuple(n.partition(":")[0] for n in nodes)
        key = ((types, tuple(g.index(n) for n in nodes)), hops)  # as path_values names it
        same = [c[0] for c in evidence if (c[2].nodes, c[2].edges) == (p.nodes, p.edges)]
        named = bool(same) and tuple(r for r, _ in hops) in relations
        assert (key in keys) == named
        if named:
            assert keys[key][0] == max(same)
            assert (keys[key][1].nodes, keys[key][1].edges) == (p.nodes, p.edges)
