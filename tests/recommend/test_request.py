"""Checking a recommend() request: each bad value is an error naming it; names and paths."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from recommend.request import (
    check_diversity,
    check_id,
    check_k,
    request_filters,
    similar_ids,
)


def test_a_category_filter_finds_the_one_category_its_name_spells() -> None:
    from kg.build import build_graph
    from kg.records import Dataset, Product
    from recommend.hybrid.filters import filter_mask

    g = build_graph(Dataset(products=[Product("1", "Mug", categories=("Home", "a:b")),
                                      Product("2", "Pot", categories=("Home", "a/b")),
                                      Product("3", "Cup", categories=("Home", "A-B"))]),
                    progress=False)

    def kept(*names: str) -> list[str]:
        mask = filter_mask(g, request_filters(list(names), None, None, None))
        return [p for p, m in zip(g.nodes("product"), mask, strict=True) if m]

    assert kept("a:b") == ["product:1"] and kept("home/a:b") == ["product:1"]
    mug = g.neighbors("product:1", "in_category")[0].dst  # its id, as a list shows it
    assert kept(mug) == ["product:1"] and kept(mug.replace("home", "Home")) == ["product:1"]
    assert kept("a b") == ["product:3"] and kept("Home") == ["product:1", "product:2",
                                                               "product:3"]


@pytest.mark.parametrize("k", [0, -3, 2.5, "3", True, None])
def test_bad_k_is_named(k: object) -> None:
    with pytest.raises(ValueError, match=rf"k must be a whole number >= 1, not {k!r}"):
        check_k(k)


def test_good_k_and_diversity() -> None:
    assert check_k(np.int64(4)) == 4 and check_diversity(0) == 0.0 and check_diversity(1) == 1.0


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_diversity_outside_0_1_or_nan_is_refused(value: float) -> None:
    if 0.0 <= value <= 1.0:
        assert check_diversity(value) == value
    else:
        with pytest.raises(ValueError, match="diversity must be a number in"):
            check_diversity(value)


@pytest.mark.parametrize(("low", "high", "message"), [
    (math.nan, None, "price_min must be a finite number or None, not nan"),
    (None, math.inf, "price_max must be a finite number or None, not inf"),
    ("5", None, "price_min must be a finite number or None, not '5'"),
    (50, 10, "price_min 50 is above price_max 10"),
])
def test_bad_prices_are_named(low: object, high: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        request_filters((), (), low, high)


def test_a_string_is_one_name_and_paths_become_category_ids() -> None:
    f = request_filters("Beauty", "Acme", 1, 2.5)
    assert f.categories == ("Beauty",) and f.brands == ("Acme",)
    assert (f.price_min, f.price_max) == (1.0, 2.5)
    paths = request_filters(["home/kitchen", "Home/Coffee Makers", "category:Home/"], None,
                            None, None).categories
    assert paths == ("category:home/kitchen", "category:home/coffee-makers", "category:home")
    for bad in ([""], [3], ["ok", " "]):
        with pytest.raises(ValueError, match="categories: each must be a non-empty name"):
            request_filters(bad, (), None, None)


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_a_missing_id_is_an_error(raw: object) -> None:
    with pytest.raises(ValueError, match="user id must be given"):
        check_id(raw, "user")


def test_similar_ids_same_number_or_case() -> None:
    known = ["u0001", "u0042", "U7", "x42y", "b1", "a-420"]
    assert similar_ids(known, "42") == ["u0042", "x42y"]
    assert similar_ids(known, "u7") == ["U7"]
    assert similar_ids(known, "zz") == []
    assert len(similar_ids([f"u{i:04d}" for i in range(10)] * 3, "1")) == 3
