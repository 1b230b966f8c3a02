"""Recommender.recommend checks what it is asked: ids, k, diversity, prices, categories."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from recommend.recommender import Recommender


@pytest.fixture(scope="module")
def rec(small_demo_artifact: Path) -> Recommender:
    return Recommender.load(small_demo_artifact)


def _items(recs: list) -> list[str]:
    return [r.item for r in recs]


def test_bad_values_are_errors_naming_them(rec: Recommender) -> None:
    cases = [({"user": None}, "user id must be given, not None"),
             ({"k": 0}, "k must be a whole number >= 1, not 0"),
             ({"diversity": 1.5}, "diversity must be a number in \\[0, 1\\], not 1.5"),
             ({"price_min": math.nan}, "price_min must be a finite number or None, not nan"),
             ({"categories": [None]}, "categories: each must be a non-empty name")]
    for change, message in cases:
        ask = {"user": "u0001", "k": 3, **change}
        with pytest.raises(ValueError, match=message):
            rec.recommend(ask.pop("user"), **ask)


def test_a_category_string_is_one_category_and_a_path_matches(rec: Recommender) -> None:
    path = next(c.partition(":")[2] for c in rec.graph.nodes("category") if "/" in c)
    top = path.split("/")[0]
    as_string = rec.recommend("u0001", k=5, categories=top, explain=False)
    assert as_string and _items(as_string) == _items(
        rec.recommend("u0001", k=5, categories=[top], explain=False))
    by_path = rec.recommend("u0001", k=5, categories=[path], explain=False)
    assert by_path and _items(by_path) == _items(
        rec.recommend("u0001", k=5, categories=[f"category:{path}"], explain=False))
    for r in by_path:
        cats = [e.dst.partition(":")[2] for e in rec.graph.neighbors(r.item, "in_category")]
        assert any(c == path or c.startswith(path + "/") for c in cats)


def test_fewer_than_k_passing_the_filters_is_a_shorter_list(rec: Recommender) -> None:
    prices = sorted(rec.graph.node_attrs(p).get("price") or 0 for p in rec.graph.nodes("product"))
    cheapest = rec.recommend("user:nobody", k=10, price_max=prices[2], explain=False)
    assert 0 < len(cheapest) <= 3
    assert rec.recommend("u0001", k=10, categories="no such category") == []


def test_prices_are_read_once_and_only_for_a_price_filter(small_demo_artifact: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import recommend.recommender as module

    read = []
    real = module.product_prices
    monkeypatch.setattr(module, "product_prices", lambda g: read.append(1) or real(g))
    fresh = Recommender.load(small_demo_artifact)
    fresh.recommend("u0001", k=5, categories="no such category")
    fresh.recommend("u0001", k=5, explain=False)
    assert read == []  # (it took ~19 ms of the first request on an 18k-product world)
    cheap = fresh.recommend("u0001", k=5, price_max=1e9, explain=False)
    fresh.recommend("u0001", k=5, price_min=0.0, explain=False)
    assert read == [1] and cheap
