"""Association rules find planted co-purchases with the right support, confidence and lift."""

from __future__ import annotations

import numpy as np
import pytest

from cf.rules import baskets_from_arrays, baskets_from_events, mine_rules
from kg.records import Event
from recommend.profiles import co_bought_edges


def planted(seed: int = 0) -> tuple[list[str], list[str], list[float]]:
    """400 one-day baskets of random items; 30% of them also hold the pair (tent, stove)."""
    rng = np.random.default_rng(seed)
    users, items, ts = [], [], []
    for b in range(400):
        day = 86400.0 * 10 * b  # far apart: every basket its own session
        chosen = {f"i{k}" for k in rng.choice(20, size=2, replace=False)}
        if rng.random() < 0.3:
            chosen |= {"tent", "stove"}
        for k, item in enumerate(sorted(chosen)):
            users.append(f"u{b % 50}")
            items.append(item)
            ts.append(day + 60.0 * k)
    return users, items, ts


def test_planted_pair_is_found_with_correct_measures() -> None:
    users, items, ts = planted()
    baskets = baskets_from_arrays(users, items, ts)
    assert len(baskets) == 400
    rules = mine_rules(baskets, min_support=0.05)
    top = rules[0]
    assert {top.antecedent, top.consequent} == {("product:stove",), ("product:tent",)}
    m = baskets.matrix.toarray()
    tent = m[:, baskets.item_ids.index("product:tent")]
    stove = m[:, baskets.item_ids.index("product:stove")]
    both = np.mean(tent & stove)
    assert top.support == pytest.approx(both)
    assert top.confidence == pytest.approx(
        both / np.mean(tent if top.antecedent == ("product:tent",) else stove)
    )
    assert top.lift == pytest.approx(both / (tent.mean() * stove.mean()))
    assert all(r.lift > 1.0 for r in rules)
    # random items never reach a lift that high
    others = [r for r in rules if "product:tent" not in r.antecedent + r.consequent]
    assert all(r.lift < top.lift for r in others)


def test_session_window_splits_and_merges_baskets() -> None:
    users = ["a", "a", "a", "b"]
    items = ["x", "y", "z", "x"]
    ts = [0.0, 3600.0, 3 * 86400.0, None]
    assert len(baskets_from_arrays(users, items, ts)) == 3  # z is two days later
    merged = baskets_from_arrays(users, items, ts, window_seconds=4 * 86400.0)
    assert len(merged) == 2
    assert merged.matrix.sum() == 4


def test_undated_purchases_make_one_basket_quietly() -> None:
    """Purchases without a time are one basket per user, before the dated ones, without
    numpy's "invalid value encountered in subtract" on every build of undated data."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        baskets = baskets_from_arrays(["u", "u", "u", "v"], ["a", "b", "c", "a"],
                                      [None, np.nan, 1e9, None])
    assert baskets.matrix.toarray().sum(axis=1).tolist() == [2, 1, 1]


def test_rules_from_events_become_co_bought_edges() -> None:
    users, items, ts = planted(seed=1)
    events = [
        Event(u, i, "product", "purchase", ts=t) for u, i, t in zip(users, items, ts, strict=True)
    ]
    events.append(Event("u1", "tent", "product", "view", ts=1.0))  # views are not purchases
    rules = mine_rules(baskets_from_events(events), min_support=0.05, min_confidence=0.5)
    edges = co_bought_edges(rules)
    assert edges.relation == "co_bought"
    pairs = set(zip(edges.src_ids, edges.dst_ids, strict=True))
    assert ("product:tent", "product:stove") in pairs and ("product:stove", "product:tent") in pairs
    assert np.all(edges.weights > 1.0)
    assert all(r.confidence >= 0.5 for r in rules)


def test_no_baskets_no_rules() -> None:
    assert mine_rules(baskets_from_arrays([], [], [])) == []


def test_items_dropped_below_min_support_do_not_shift_rule_ids() -> None:
    users, items, ts = planted()
    # only tent and stove reach 20% support: every other column is dropped before mining
    rules = mine_rules(baskets_from_arrays(users, items, ts), min_support=0.2)
    assert {(r.antecedent, r.consequent) for r in rules} == {
        (("product:stove",), ("product:tent",)),
        (("product:tent",), ("product:stove",)),
    }


def test_min_count_sets_the_support_floor_in_baskets() -> None:
    import numpy as np

    from cf.rules import baskets_from_arrays, mine_rules

    # 100 one-day baskets; (a, b) bought together in 3 of them, (c, d) in 2
    users = [f"u{i}" for i in range(100) for _ in range(2)]
    items = ["a", "b"] * 3 + ["c", "d"] * 2 + [x for i in range(95) for x in (f"x{i}", f"y{i}")]
    ts = np.zeros(len(users))
    baskets = baskets_from_arrays(users, items, ts, window_seconds=86400.0)
    pairs = {(r.antecedent, r.consequent) for r in mine_rules(baskets, min_support=0.0,
                                                                min_count=3)}
    assert pairs == {(("product:a",), ("product:b",)), (("product:b",), ("product:a",))}


@pytest.mark.parametrize(("support", "count", "confidence"), [(0.05, 0, 0.0), (0.0, 3, 0.3)])
def test_pair_rules_are_fp_growths_single_item_rules(support, count, confidence) -> None:
    """The sparse pair count finds exactly mlxtend's max_len=2 rules, measures and order."""
    from cf.rules import mine_pair_rules

    baskets = baskets_from_arrays(*planted(3))
    want = mine_rules(baskets, min_support=support, min_count=count,
                      min_confidence=confidence, max_len=2)
    got = mine_pair_rules(baskets, min_support=support, min_count=count,
                          min_confidence=confidence)
    assert len(got) == len(want) >= 2
    for g, w in zip(got, want, strict=True):
        assert (g.antecedent, g.consequent) == (w.antecedent, w.consequent)
        assert (g.support, g.confidence, g.lift) == pytest.approx((w.support, w.confidence,
                                                                   w.lift))
    assert mine_pair_rules(baskets_from_arrays([], [], [])) == []
