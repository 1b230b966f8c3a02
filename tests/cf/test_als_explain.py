"""WeightedALS.explain: a history's score split exactly over its items (Hu, Koren & Volinsky
2008, section 5), checked against the model's own score and against implicit's ALS.explain."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from cf.data import Interactions
from cf.implicit_mf import WeightedALS


def _fresh_history(rng: np.random.Generator, n_items: int) -> sp.csr_matrix:
    """One history never seen in fit: a random handful of items with positive values."""
    cols = np.sort(rng.choice(n_items, rng.integers(1, 12), replace=False))
    return sp.csr_matrix((rng.uniform(0.1, 4.0, len(cols)), (np.zeros(len(cols), int), cols)),
                         shape=(1, n_items))


@pytest.mark.parametrize("offset", [1.0, 0.0])
def test_the_terms_sum_to_the_model_s_own_score(world: Interactions, offset: float) -> None:
    model = WeightedALS(factors=6, iterations=4, alpha=2.0, reg=0.7, offset=offset,
                        seed=1).fit(world)
    rng = np.random.default_rng(0)
    for trial in range(30):
        h = (world.matrix[[rng.integers(world.n_users)]] if trial % 2
             else _fresh_history(rng, world.n_items))
        items = rng.choice(world.n_items, 7, replace=False)
        j, terms = model.explain(h, items)
        np.testing.assert_array_equal(j, h.indices)
        assert terms.shape == (h.nnz, len(items))
        np.testing.assert_allclose(terms.sum(axis=0), model.score_history(h)[0, items],
                                   rtol=1e-9, atol=1e-12)
        # an item's terms are the same bits asked alone (the evidence of one item, shown
        # again, is the one shown in its list)
        assert model.explain(h, items[2:3])[1].tobytes() == terms[:, 2:3].copy().tobytes()


def test_a_term_is_y_i_w_u_y_j_times_the_confidence(world: Interactions) -> None:
    """The definition, written out: W_u = (Yᵀ C_u Y + λI)⁻¹ over every item (a missing one
    confidence 1), c_uj = offset + alpha * value."""
    model = WeightedALS(factors=4, iterations=3, alpha=3.0, reg=0.5, seed=0).fit(world)
    h = world.matrix[[3]]
    y = model.item_factors_.astype(np.float64)
    conf = np.ones(world.n_items)
    conf[h.indices] = 1.0 + 3.0 * h.data
    w = np.linalg.inv(y.T @ (conf[:, None] * y) + 0.5 * np.eye(4))
    _, terms = model.explain(h, np.array([0, 7]))
    want = (y[h.indices] @ w @ y[[0, 7]].T) * conf[h.indices, None]
    np.testing.assert_allclose(terms, want, rtol=1e-9)


def test_leaving_an_item_out_moves_the_score_by_its_term_s_closed_form(world: Interactions
                                                                       ) -> None:
    """Taking j out changes the score by s_ij (c_j - (c_j - 1) p_j) / (1 - (c_j - 1) g_j),
    p_j = y_jᵀ x_u, g_j = y_jᵀ W_u y_j (Sherman-Morrison): the sign of j's term while
    p_j < c_j / (c_j - 1), which the fidelity check relies on."""
    disagree = 0
    for reg, user in ((0.3, 10), (0.3, 3), (0.01, 21)):  # users 3, 21: some p_j > c/(c-1)
        model = WeightedALS(factors=5, iterations=8, alpha=2.0, reg=reg, seed=2).fit(world)
        h = world.matrix[[user]]
        y = model.item_factors_.astype(np.float64)
        x = model.fold_in(h)[0]
        items = np.arange(world.n_items)
        cols, terms, agrees = model.explain_removals(h, items)
        conf = 1.0 + 2.0 * h.data.astype(np.float64)
        a = y.T @ y + reg * np.eye(5) + (y[cols].T * (conf - 1.0)) @ y[cols]
        for k, j in enumerate(cols):
            rest = h.copy()
            rest.data[k] = 0.0
            rest.eliminate_zeros()
            drop = model.score_history(h)[0] - model.score_history(rest)[0]
            c, p, g = conf[k], y[j] @ x, y[j] @ np.linalg.solve(a, y[j])
            want = terms[k] / c * (c - (c - 1) * p) / (1 - (c - 1) * g)
            np.testing.assert_allclose(drop, want, rtol=1e-7, atol=1e-10)
            big = np.abs(terms[k]) > 1e-9
            assert ((drop[big] > 0) == ((terms[k][big] > 0) == agrees[k])).all()
            disagree += not agrees[k]
    assert disagree > 0  # the case the evidence leaves out is met here


def test_explain_checks_its_input(world: Interactions) -> None:
    model = WeightedALS(factors=3, iterations=2, seed=0).fit(world)
    with pytest.raises(ValueError, match="one history row"):
        model.explain(world.matrix[[0, 1]], np.array([0]))
    with pytest.raises(ValueError, match="items must be columns"):
        model.explain(world.matrix[[0]], np.array([world.n_items]))
    with pytest.raises(ValueError, match="item columns"):
        model.explain(sp.csr_matrix((1, 2)), np.array([0]))
    j, terms = model.explain(sp.csr_matrix((1, world.n_items)), np.array([0, 1]))
    assert len(j) == 0 and terms.shape == (0, 2)


def test_agrees_with_implicit_s_explain_on_its_fitted_factors(world: Interactions) -> None:
    """implicit's convention: confidence alpha * value, missing cells 1 (our offset 0), the
    same λI; on implicit's own item factors both give the same terms and total."""
    als = pytest.importorskip("implicit.cpu.als", reason="implicit (bench peer) absent")
    user_items = world.matrix.astype(np.float32).tocsr()
    theirs = als.AlternatingLeastSquares(factors=6, regularization=0.4, alpha=2.5,
                                         iterations=6, random_state=0, num_threads=1)
    theirs.fit(user_items, show_progress=False)
    ours = WeightedALS(factors=6, iterations=1, alpha=2.5, reg=0.4, offset=0.0).fit(world)
    ours.item_factors_ = np.asarray(theirs.item_factors, np.float32)
    rng = np.random.default_rng(4)
    for u in rng.choice(world.n_users, 5, replace=False).tolist():
        for i in rng.choice(world.n_items, 3, replace=False).tolist():
            total, top, _ = theirs.explain(u, user_items, i, N=world.n_items)
            j, terms = ours.explain(user_items[[u]], np.array([i]))
            assert terms[:, 0].sum() == pytest.approx(total, rel=1e-5, abs=1e-7)
            got = dict(zip(j.tolist(), terms[:, 0].tolist(), strict=True))
            assert len(top) == len(got)
            for item, value in top:
                assert got[item] == pytest.approx(value, rel=1e-5, abs=1e-7)
