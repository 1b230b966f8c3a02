"""The pieces that failed on small or plain datasets (issue 14), each on its smallest case."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from kg.build import build_graph
from kg.interactions import latest_times
from kg.records import Dataset, Event, Product, User
from recommend.evaluate.metrics import hits_matrix, ndcg_at_k
from recommend.hybrid.encoders import LsaEncoder
from recommend.hybrid.split import holdout_split
from recommend.profiles import (
    build_profiles,
    enrich_graph,
    inputs_from_graph,
    membership_edges,
    segment_users,
)


def _shop(n_users: int, categories: tuple[str, ...] = ()) -> Dataset:
    products = [Product(f"p{i}", f"Item {i}", price=10.0 * i, categories=categories)
                for i in range(3)]
    users = [User(f"u{i}") for i in range(n_users)]
    events = [Event(u.id, p.id, "product", "purchase", ts=1.7e9 + 60 * j)
              for j, (u, p) in enumerate((u, p) for u in users for p in products)]
    return Dataset(products, users, [], [], events)


def test_a_catalogue_without_categories_profiles_with_no_leaf() -> None:
    inputs = inputs_from_graph(build_graph(_shop(4), progress=False))
    assert inputs.category_ids == [] and inputs.product_category.shape == (3, 0)
    assert inputs.product_leaf.tolist() == [-1, -1, -1]
    assert len(build_profiles(inputs)) == 4


def test_fewer_than_three_users_get_no_segments_and_say_why() -> None:
    graph = build_graph(_shop(2, ("Home",)), progress=False)
    table = build_profiles(inputs_from_graph(graph))
    seg = segment_users(table)
    assert seg.segments == [] and seg.note == "2 users: segmenting needs at least 3"
    assert len(membership_edges(table, seg)) == 0
    report = enrich_graph(graph, embeddings=False)
    assert report.edges_added["member_of"] == 0 and report.edges_added["interested_in"] > 0
    alike = segment_users(build_profiles(inputs_from_graph(build_graph(_shop(3), progress=False))),
                          use_embeddings=False)  # three users who did the same: one segment
    assert alike.note is None and [s.size for s in alike.segments] == [3]


def test_no_target_edges_hold_nothing_out() -> None:
    graph = build_graph(Dataset([Product("p", "Mug")], [User("u")]), progress=False)
    assert latest_times(graph, ("purchased",)).nnz == 0
    assert holdout_split(graph, target_relations=("purchased",)).relevant.nnz == 0


def test_metrics_of_no_users_are_empty_not_errors() -> None:
    none = np.zeros((0, 1), np.int64)
    assert hits_matrix(none, sp.csr_matrix((0, 4)), 10).shape == (0, 1)
    with pytest.warns(RuntimeWarning, match="Mean of empty slice"), np.errstate(invalid="ignore"):
        assert np.isnan(ndcg_at_k(none, sp.csr_matrix((0, 4)), 10))


def test_lsa_encoder_fits_one_title_and_stop_words_only() -> None:
    for texts in (["Lamp"], ["Lamp", "Lamp"], ["the", "a"], ["Lamp", "Red shirt"]):
        z = LsaEncoder().fit(texts).embed([*texts, "never seen"])
        assert z.shape[0] == len(texts) + 1 and np.allclose(np.linalg.norm(z, axis=1), 1.0)
