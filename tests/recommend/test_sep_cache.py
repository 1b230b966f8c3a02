"""A shared entity's SEP, read once per popularity array: what the array holds, and the new
array's value once the graph changes."""

from __future__ import annotations

from kg.graph import KnowledgeGraph
from recommend.paths.path import Path
from recommend.paths.quality import entity_popularity, shared_entity
from recommend.paths.select import _known, _sep


def shop() -> KnowledgeGraph:
    g = KnowledgeGraph()
    g.add_edges("rated", ["user:1"], ["product:A"])
    g.add_edges("in_category", ["product:A", "product:X", "product:B"],
                ["category:c", "category:c", "category:d"])
    return g


def test_a_sep_is_the_arrays_value_kept_per_array() -> None:
    g = shop()
    nodes = ("user:1", "product:A", "category:c", "product:X")
    edges = (("user:1", "rated", "product:A"), ("product:A", "in_category", "category:c"),
             ("product:X", "in_category", "category:c"))
    path = Path(nodes, edges, "m", 1.0, "")
    assert shared_entity(nodes, edges) == "category:c"
    values = entity_popularity(g, "category")
    got = _sep(g, path, {}, {})
    assert got == float(values[g.index("category:c")])
    assert _known(values, None, dict)["category:c"] == got  # kept for the next request
    g.add_edges("in_category", [f"product:n{k}" for k in range(6)], ["category:d"] * 6)
    fresh = entity_popularity(g, "category")
    assert fresh is not values  # (the graph changed: a new array, read anew)
    assert fresh[g.index("category:c")] != values[g.index("category:c")]
    assert _sep(g, path, {}, {}) == float(fresh[g.index("category:c")])
