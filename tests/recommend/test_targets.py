"""The target relations widen only when the configured ones leave too few users."""

from __future__ import annotations

from kg.build import build_graph
from kg.records import Dataset, Event, Product, User
from recommend.hybrid.targets import eligible_users, resolve_targets

CONFIGURED = ("purchased", "carted", "rated")


def _graph(kinds_per_user: dict[str, list[tuple[str, str]]]):
    products = sorted({p for acts in kinds_per_user.values() for _, p in acts})
    return build_graph(Dataset(
        products=[Product(p, f"thing {p}") for p in products],
        users=[User(u) for u in kinds_per_user],
        events=[Event(u, p, "product", kind, ts=float(i)) for u, acts in kinds_per_user.items()
                for i, (kind, p) in enumerate(acts)]), progress=False)


def test_enough_buyers_keep_the_configured_relations() -> None:
    graph = _graph({f"u{i}": [("purchase", "a"), ("purchase", "b"), ("view", "c")]
                    for i in range(5)})
    targets, record = resolve_targets(graph, CONFIGURED, 2, min_users=5)
    assert targets == CONFIGURED and not record["widened"] and record["eligible_users"] == 5


def test_tiers_are_added_in_order_until_enough_users() -> None:
    acts = {f"u{i}": [("like", "a"), ("like", "b")] for i in range(3)}
    acts |= {f"v{i}": [("click", "a"), ("view", "b")] for i in range(4)}
    graph = _graph(acts)
    assert eligible_users(graph, CONFIGURED, 2) == 0
    # likes give 3 users; their clicks give the others one product each, with views two
    targets, record = resolve_targets(graph, CONFIGURED, 2, min_users=7)
    assert targets == (*CONFIGURED, "liked", "clicked", "viewed")
    assert record == {"relations": list(targets), "eligible_users": 7, "widened": True}
    assert resolve_targets(graph, CONFIGURED, 2, min_users=3)[0] == (*CONFIGURED, "liked")


def test_tiers_that_add_no_user_are_left_out() -> None:
    graph = _graph({"u": [("view", "a"), ("click", "a")]})
    targets, record = resolve_targets(graph, CONFIGURED, 2, min_users=1)
    assert targets == CONFIGURED and record["eligible_users"] == 0
