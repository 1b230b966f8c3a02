"""The listwise blend fitter: per-user softmax weights, their choice and their saved form."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import check_grad

from recommend.hybrid.blend import Blend, choose_fitter, fit_blend, fit_kind, ndcg_rows
from recommend.hybrid.listwise import fit_listwise, listwise_loss


def crowded(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, sp.csr_matrix]:
    """60 "light" users, one held-out item each, found by feature ``a``; 10 "heavy" users,
    10 held-out items each, found by feature ``b``: pooled over rows, the heavy users' 100
    held-out items outnumber the light users' 60, so a pointwise fit leans on ``b``."""
    rng = np.random.default_rng(seed)
    n_light, n_heavy, m = 60, 10, 20
    feats, rows, held = [], [], []
    for u in range(n_light + n_heavy):
        a, b = rng.uniform(0.0, 0.9, m), rng.uniform(0.0, 1.0, m)
        if u < n_light:
            pos = [0]
            a[0] = 1.0
        else:
            pos = list(range(10))
            b[:10], a[:10] = 1.0, rng.uniform(0.0, 0.5, 10)
        feats.append(np.stack([a, b], axis=1))
        rows += [u] * m
        held += [(u, p) for p in pos]
    r, c = np.array(held).T
    rel = sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(n_light + n_heavy, m))
    return np.vstack(feats), np.array(rows), np.tile(np.arange(m), n_light + n_heavy), rel


def fitted(kind: str, feats, rows, items, rel) -> Blend:
    return fit_kind(kind, feats, rows, items, rel, ("a", "b"), None, k=10,
                    grid=(0.0, 0.25, 0.5, 2.0, 4.0), rounds=3, seed=0)


def test_listwise_ranks_each_users_held_out_item_first_where_the_pointwise_fit_does_not(
        ) -> None:
    feats, rows, items, rel = crowded()
    light = np.arange(60)

    def first_hits(blend: Blend) -> float:
        s = blend.score(feats)
        return float(np.mean([np.argmax(s[rows == u]) == 0 for u in light]))

    pointwise, listwise = fitted("logistic", *crowded()), fitted("listwise", *crowded())
    assert listwise.kind == "listwise" and listwise.weights[0] > listwise.weights[1]
    assert first_hits(listwise) == 1.0
    assert first_hits(pointwise) < 0.5  # the heavy users' feature drowns the light users'
    every = np.ones(rel.shape[0], bool)
    per_user = {b.kind: ndcg_rows(b.score(feats), rows, items, rel, 10, every)
                for b in (pointwise, listwise)}
    assert per_user["listwise"].mean() > per_user["logistic"].mean() + 0.2


def test_fit_blend_chooses_listwise_on_the_crowded_case_and_records_every_fitter() -> None:
    blend = fit_blend(*crowded(seed=1), ("a", "b"), k=10)
    assert set(blend.validation["cv_ndcg@10"]) == {"coordinate", "logistic", "listwise"}
    gain = blend.validation["cv_gain_over_logistic"]["listwise"]
    assert gain["mean"] > gain["twice_se"] > 0
    assert blend.kind in ("listwise", "coordinate")  # both beat logistic beyond noise
    assert blend.weights[0] > blend.weights[1]


def test_choose_fitter_keeps_the_default_against_a_listwise_gain_within_noise() -> None:
    rng = np.random.default_rng(3)
    base = rng.random(300)
    within = {"logistic": base, "listwise": base + 0.002 + rng.normal(0.0, 0.2, 300)}
    assert choose_fitter(within)[0] == "logistic"
    beyond = {"logistic": base, "listwise": base + 0.03 + rng.normal(0.0, 0.02, 300)}
    assert choose_fitter(beyond)[0] == "listwise"


def test_listwise_gradient_is_exact_and_the_fit_beats_other_weights_on_its_loss() -> None:
    feats, rows, items, rel = crowded(seed=2)
    held = np.asarray(rel[rows, items]).ravel() > 0
    loss = listwise_loss(feats, rows, held)

    def value(w: np.ndarray) -> float:
        return loss(w)[0]

    def grad(w: np.ndarray) -> np.ndarray:
        return loss(w)[1]

    for w in (np.array([0.3, -1.0]), np.array([5.0, 2.0])):
        assert check_grad(value, grad, w) < 1e-4 * max(1.0, float(np.abs(grad(w)).sum()))
    w = fit_listwise(feats, rows, held)
    for other in (np.array([1.0, 1.0]), fitted("logistic", feats, rows, items, rel).weights):
        assert value(w) < value(other)


def test_listwise_weights_do_not_depend_on_the_candidates_order() -> None:
    feats, rows, items, rel = crowded(seed=4)
    held = np.asarray(rel[rows, items]).ravel() > 0
    perm = np.random.default_rng(0).permutation(len(rows))
    np.testing.assert_allclose(fit_listwise(feats, rows, held),
                               fit_listwise(feats[perm], rows[perm], held[perm]), rtol=1e-5)


def test_listwise_without_anything_to_rank_gives_equal_weights() -> None:
    feats = np.random.default_rng(0).random((6, 3))
    rows = np.array([0, 0, 0, 1, 1, 2])
    none = np.zeros(6, bool)
    all_held_or_alone = np.array([True, True, True, False, False, True])
    for held in (none, all_held_or_alone):
        np.testing.assert_allclose(fit_listwise(feats, rows, held), np.full(3, 1 / 3))
    assert fit_listwise(np.zeros((0, 2)), np.zeros(0, int), np.zeros(0, bool)).shape == (2,)


def test_listwise_blend_round_trips_through_its_json_and_scores_the_same() -> None:
    feats, rows, items, rel = crowded()
    blend = fitted("listwise", feats, rows, items, rel)
    back = Blend.from_json(json.loads(json.dumps(blend.to_json())))
    assert back.kind == "listwise" and not back.scores_design
    np.testing.assert_array_equal(back.score(feats), blend.score(feats))
    np.testing.assert_allclose(back.parts(feats).sum(axis=1), feats @ back.weights)


def test_blend_json_of_an_unknown_kind_is_refused_by_name() -> None:
    data = {"names": ["a"], "weights": [1.0], "kind": "pairwise-magic"}
    with pytest.raises(ValueError, match="pairwise-magic"):
        Blend.from_json(data)
