"""Segmenting a handful of users with few distinct profiles prints no library warning (a
sklearn ConvergenceWarning or a PCA divide-by-zero on `shopgraph build`/`evaluate`'s stderr
reads like a failure) and gives at most as many segments as there are distinct profiles."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from kg.build import build_graph
from kg.records import Dataset, Event, Product, User
from recommend.profiles import build_profiles, inputs_from_graph, segment_users


def _shop(buys: list[int]) -> Dataset:
    products = [Product(f"p{i}", f"Item {i}", price=10.0 * (i + 1), categories=(f"c{i}",))
                for i in range(3)]
    users = [User(f"u{j}") for j in range(len(buys))]
    events = [Event(f"u{j}", f"p{i}", "product", "purchase", ts=1.7e9 + 60 * j)
              for j, i in enumerate(buys)]
    return Dataset(products, users, [], [], events)


def test_identical_users_make_one_segment_silently() -> None:
    table = build_profiles(inputs_from_graph(build_graph(_shop([0] * 6), progress=False)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        seg = segment_users(table)
    assert seg.note is None and [s.size for s in seg.segments] == [6]


def test_no_more_segments_than_distinct_profiles() -> None:
    table = build_profiles(inputs_from_graph(build_graph(_shop([0, 0, 0, 1, 1, 1, 2, 2]),
                                                         progress=False)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        seg = segment_users(table, use_embeddings=False)
    assert max(seg.silhouette_by_k) <= 3 and 2 <= seg.k <= 3


@pytest.mark.parametrize("k", [1, 8])
def test_a_fixed_k_out_of_range_names_it(k: int) -> None:
    table = build_profiles(inputs_from_graph(build_graph(_shop([0, 1, 2, 0]), progress=False)))
    with pytest.raises(ValueError, match=rf"k={k}: 4 users can make 2 to 3 segments"):
        segment_users(table, k=k, use_embeddings=False)


def test_a_segment_is_described_only_by_what_it_has_above_everyone() -> None:
    from recommend.profiles.segments import MIN_Z, describe

    x = np.array([[1.0, 5.0, 2.0], [1.0, 5.0, 2.0], [1.0, 1.0, 0.0], [1.0, 1.0, 0.0]])
    busy, quiet = describe(x, np.array([0, 0, 1, 1]), ["same", "activity", "loyalty"])
    assert [f.name for f in busy.top_features] == ["activity", "loyalty"]  # not "same"
    assert all(f.z >= MIN_Z for f in busy.top_features)
    assert quiet.top_features == []  # below or at the mean in everything: no trait


def test_a_chosen_k_splits_off_no_segment_of_one() -> None:
    """The best silhouette made the one odd user a segment of their own (its traits one
    person's); a chosen k keeps every segment at least min_segment_size users, a fixed k
    is as asked."""
    from recommend.profiles.segments import min_segment_size

    table = build_profiles(inputs_from_graph(build_graph(_shop([0] * 20 + [1] * 20 + [2]),
                                                         progress=False)))
    assert min_segment_size(len(table)) == 3 and min_segment_size(1000) == 10
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        seg = segment_users(table, use_embeddings=False)
    assert seg.silhouette_by_k[3] > seg.silhouette_by_k[2]  # the singleton scored best
    assert seg.k == 2 and min(s.size for s in seg.segments) >= 3
    fixed = segment_users(table, k=3, use_embeddings=False)
    assert sorted(s.size for s in fixed.segments) == [1, 20, 20]
