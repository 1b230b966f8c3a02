"""The hybrid ranker's parts: split, candidates, normalisation, blend fitting, filters."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from kg.build import build_graph
from kg.records import Dataset, Event, Product, User
from recommend.evaluate.metrics import ndcg_at_k
from recommend.hybrid.blend import (
    choose_fitter,
    diversify,
    fit_blend,
    fit_coordinate,
    top_k_rows,
)
from recommend.hybrid.candidates import gather
from recommend.hybrid.config import ContentConfig, HybridConfig
from recommend.hybrid.filters import Filters, filter_mask
from recommend.hybrid.normalise import normalise
from recommend.hybrid.split import holdout_split
from tests.recommend.pools import full_pool, held_out


def small_graph():
    products = [
        Product("A", "Trail shoe", brand="Nike", categories=("Shoes", "Running"), price=90.0),
        Product("B", "Road shoe", brand="Nike", categories=("Shoes", "Running"), price=120.0),
        Product("C", "Mug", brand="Clay", categories=("Home", "Kitchen"), price=12.0),
        Product("D", "Teapot", brand="Clay", categories=("Home", "Kitchen")),
    ]
    users = [User("1"), User("2")]
    events = [
        Event("1", "A", "product", "purchase", ts=1.0),
        Event("1", "B", "product", "view", ts=2.0),
        Event("1", "B", "product", "purchase", ts=3.0),
        Event("1", "C", "product", "purchase", ts=4.0),
        Event("1", "D", "product", "view", ts=0.5),
        Event("2", "A", "product", "purchase", ts=1.0),
    ]
    return build_graph(Dataset(products=products, users=users, events=events), progress=False)


def test_split_holds_out_the_latest_purchases_and_all_their_edges() -> None:
    g = small_graph()
    auto = holdout_split(g, target_relations=("purchased",), fraction=0.2, min_user_items=3)
    assert auto.mode == "mixed" and auto.report["known_share"] == 1.0
    # one pair held out: the latest or, as often, one at random (tests/recommend/
    # test_mixed_split.py); by time, the latest
    split = holdout_split(g, target_relations=("purchased",), fraction=0.2,
                          min_user_items=3, mode="time")
    held = {(g.node_id("user", u), g.node_id("product", i))
            for u, i in zip(*split.relevant.nonzero(), strict=True)}
    assert held == {("user:1", "product:C")}  # latest of 3 purchases; user 2 has too few
    t = split.train_graph
    assert not t.has_edge("user:1", "purchased", "product:C")
    assert t.has_edge("user:1", "purchased", "product:B") and t.has_edge("user:1", "viewed",
                                                                        "product:B")
    assert t.nodes("product") == g.nodes("product") and t.nodes("user") == g.nodes("user")
    assert t.described("product").tolist() == g.described("product").tolist()


def test_candidates_are_the_union_of_each_components_top_n_within_allowed() -> None:
    a = np.array([[5.0, 4.0, 3.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0, 2.0]])
    b = np.array([[0.0, 0.0, 0.0, 9.0, 8.0], [7.0, 0.0, 0.0, 0.0, 0.0]])
    allowed = np.ones((2, 5), bool)
    allowed[0, 3] = False
    c = gather({"a": a, "b": b}, allowed, n=2)
    got = {(int(r), int(i)) for r, i in zip(c.rows, c.items, strict=True)}
    assert got == {(0, 0), (0, 1), (0, 4), (1, 3), (1, 4), (1, 0)}
    j = np.flatnonzero((c.rows == 0) & (c.items == 4))[0]
    assert c.features[j].tolist() == [0.0, 8.0]  # both components' scores for each pair
    assert np.all(np.diff(c.rows) >= 0)


def test_minmax_and_zscore_normalise_within_each_user() -> None:
    feats = np.array([[1.0, 7.0], [3.0, 7.0], [100.0, 1.0], [300.0, 3.0]])
    rows = np.array([0, 0, 1, 1])
    mm = normalise(feats, rows, 2, "minmax")
    assert mm.tolist() == [[0.0, 0.0], [1.0, 0.0], [0.0, 0.0], [1.0, 1.0]]
    z = normalise(feats, rows, 2, "zscore")
    assert z[:, 0].tolist() == pytest.approx([-1.0, 1.0, -1.0, 1.0])
    assert z[0, 1] == 0.0  # constant column: no evidence


def synthetic(n_users: int = 300, n_items: int = 40, seed: int = 0):
    """Feature 0 tells the held-out item apart, feature 1 is noise."""
    rng = np.random.default_rng(seed)
    rows, items = full_pool(n_users, n_items)
    target = rng.integers(0, n_items, n_users)
    label = items == target[rows]
    signal = rng.random(len(rows)) + 0.8 * label
    noise = rng.random(len(rows)) * 1.5
    feats = np.stack([signal, noise], axis=1)
    rel = held_out(target, n_items)
    return feats, rows, items, rel


def test_coordinate_ascent_finds_the_informative_component() -> None:
    feats, rows, items, rel = synthetic()
    w, best = fit_coordinate(feats, rows, items, rel, k=10)
    assert w[0] > w[1]
    equal = ndcg_at_k(top_k_rows(feats.sum(axis=1), rows, items, rel.shape[0], 10), rel, 10)
    assert best > equal


def test_fit_blend_records_every_fitter_and_keeps_the_default_within_noise() -> None:
    feats, rows, items, rel = synthetic(seed=1)
    blend = fit_blend(feats, rows, items, rel, ("signal", "noise"), k=10)
    cv = blend.validation["cv_ndcg@10"]
    assert set(cv) == {"coordinate", "logistic", "listwise"}
    gains = blend.validation["cv_gain_over_logistic"]
    beyond = {n: g["mean"] for n, g in gains.items() if g["mean"] > g["twice_se"]}
    assert blend.kind == (max(beyond, key=beyond.get) if beyond else "logistic")
    assert blend.weights[0] > blend.weights[1]
    assert blend.validation["ndcg@10"] > blend.validation["single"]["noise"]


def test_choose_fitter_changes_the_default_only_beyond_twice_the_standard_error() -> None:
    rng = np.random.default_rng(0)
    base = rng.random(400)
    noisy = base + rng.normal(0.0, 0.2, 400)  # mean gain ~0, spread 0.2: within noise
    assert choose_fitter({"logistic": base, "coordinate": noisy + 0.001})[0] == "logistic"
    clear = {"logistic": base, "coordinate": base + 0.05 + rng.normal(0.0, 0.01, 400),
             "gbdt": base + 0.02}
    kind, gains = choose_fitter(clear)
    assert kind == "coordinate"  # both clear the margin: the larger gain
    assert gains["coordinate"]["mean"] > gains["coordinate"]["twice_se"] > 0
    assert choose_fitter({"logistic": base[:1], "coordinate": base[:1] + 1.0})[0] == "logistic"


def test_diversify_trades_score_for_variety() -> None:
    vecs = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    scores = np.array([1.0, 0.95, 0.5])
    assert diversify(np.arange(3), scores, vecs, 2, 0.0).tolist() == [0, 1]
    assert diversify(np.arange(3), scores, vecs, 2, 0.7).tolist() == [0, 2]


def test_filters_by_category_brand_and_price() -> None:
    g = small_graph()
    ids = g.nodes("product")

    def kept(f: Filters) -> set[str]:
        return {p for p, m in zip(ids, filter_mask(g, f), strict=True) if m}

    assert kept(Filters()) == {"product:A", "product:B", "product:C", "product:D"}
    assert kept(Filters(categories=("category:shoes",))) == {"product:A", "product:B"}
    assert kept(Filters(categories=("Kitchen",))) == {"product:C", "product:D"}
    assert kept(Filters(brands=("Nike",))) == {"product:A", "product:B"}
    assert kept(Filters(price_max=100.0)) == {"product:A", "product:C"}  # D has no price
    assert kept(Filters(brands=("nobody",))) == set()


def test_config_round_trips_and_rejects_unknowns() -> None:
    c = HybridConfig(components=("cf", "popularity"), content=ContentConfig(encoder="lsa"))
    assert HybridConfig.from_dict(c.to_dict()) == c
    with pytest.raises(ValueError, match="unknown components"):
        HybridConfig(components=("magic",))
    with pytest.raises(ValueError, match="unknown HybridConfig keys"):
        HybridConfig.from_dict({"nope": 1})


def posting_shop(ts: bool):
    """User 1 bought A, B, C and D and wrote about C (before buying) and D (after); user 2
    liked the post about D. With ``ts`` False, no event has a time."""
    from kg.records import Post

    products = [Product(p, f"thing {p}") for p in "ABCDE"]
    t = (lambda v: float(v)) if ts else (lambda v: None)
    events = [Event("1", p, "product", "purchase", ts=t(i + 1)) for i, p in enumerate("ABCD")]
    events += [Event("2", "A", "product", "purchase", ts=t(1)),
               Event("1", "pd", "post", "like", ts=t(9)),
               Event("2", "pd", "post", "like", ts=t(9))]
    posts = [Post("pc", "1", "about to buy C", ts=t(2.5), products=("C",)),
             Post("pd", "1", "loving my D", ts=t(8), products=("D",)),
             Post("pe", "1", "E looks nice", ts=t(8), products=("E",))]
    return build_graph(Dataset(products=products, users=[User("1"), User("2")], posts=posts,
                               events=events), progress=False)


def test_split_by_time_hides_the_users_later_posts_and_likes_about_held_out_products() -> None:
    g = posting_shop(ts=True)
    split = holdout_split(g, target_relations=("purchased",), fraction=0.5, min_user_items=3,
                          mode="time")
    held = {g.node_id("product", i) for i in split.relevant.nonzero()[1]}
    assert split.mode == "time" and held == {"product:C", "product:D"}
    t = split.train_graph
    # the post about C came before C was bought: evidence serving has too, kept
    assert t.has_edge("user:1", "authored", "post:pc")
    # the post about D and the user's like of it came after buying D: hidden
    assert not t.has_edge("user:1", "authored", "post:pd")
    assert not t.has_edge("user:1", "liked", "post:pd")
    assert t.has_edge("user:2", "liked", "post:pd")  # not held out from user 2
    assert t.has_edge("user:1", "authored", "post:pe")  # E is not held out
    assert split.report["hidden_post_edges"] == 2


def test_split_without_times_is_random_and_hides_every_post_about_held_out_products() -> None:
    g = posting_shop(ts=False)
    split = holdout_split(g, target_relations=("purchased",), fraction=0.5, min_user_items=3,
                          seed=1)
    assert split.mode == "random" and split.report["known_share"] == 0.0
    held = {g.node_id("product", i) for i in split.relevant.nonzero()[1]}
    assert len(held) == 2
    t = split.train_graph
    for p, post in (("product:C", "post:pc"), ("product:D", "post:pd")):
        assert t.has_edge("user:1", "authored", post) == (p not in held)
    random_order = {frozenset(g.node_id("product", i) for i in holdout_split(
        g, target_relations=("purchased",), fraction=0.5, min_user_items=3,
        seed=s).relevant.nonzero()[1]) for s in range(8)}
    assert len(random_order) > 1  # not the last two by index or time every time


def test_auto_split_with_usable_times_holds_out_the_latest_half_and_a_random_half() -> None:
    products = [Product(f"P{i}", f"thing {i}") for i in range(10)]
    events = [Event(str(u), f"P{i}", "product", "purchase", ts=float(10 * u + i))
              for u in range(30) for i in range(10)]
    g = build_graph(Dataset(products=products, users=[User(str(u)) for u in range(30)],
                            events=events), progress=False)
    split = holdout_split(g, target_relations=("purchased",), fraction=0.4, min_user_items=3)
    assert split.mode == "mixed" and split.report["held_pairs"] == 30 * 4
    earlier = set()
    for u in range(30):
        row = split.relevant[g.index(f"user:{u}")]
        held = sorted(int(g.node_id("product", int(i)).removeprefix("product:P"))
                      for i in row.indices)
        assert held[-2:] == [8, 9]  # the latest two, then two of the eight before
        earlier.update(held[:2])
    assert len(earlier) > 4  # at random, not always the same ones
    latest = split.latest
    assert latest is not None and latest.nnz == 30 * 2
    for u in range(30):
        row = latest[g.index(f"user:{u}")]
        names = sorted(g.node_id("product", int(i)) for i in row.indices)
        assert names == ["product:P8", "product:P9"]  # the latest half, marked as such
    assert (latest.multiply(split.relevant) != latest).nnz == 0
    by_time = holdout_split(g, target_relations=("purchased",), fraction=0.4, min_user_items=3,
                            mode="time")
    assert (by_time.latest != by_time.relevant).nnz == 0
    at_random = holdout_split(g, target_relations=("purchased",), fraction=0.4,
                              min_user_items=3, mode="random")
    assert at_random.latest is not None and at_random.latest.nnz == 0


@pytest.mark.parametrize("seed", range(5))
def test_candidates_of_sparse_and_dense_scores_are_each_rows_top_n_allowed(seed: int) -> None:
    rng = np.random.default_rng(seed)
    dense = rng.permutation(40 * 3).reshape(3, 40).astype(float) + 1.0  # distinct, non-zero
    sparse = np.zeros((3, 40))
    sparse[0, [1, 5]] = [2.0, 3.0]  # fewer than n: all of them, without a partition
    sparse[2, rng.choice(40, 12, replace=False)] = rng.permutation(12) + 1.0  # more than n
    allowed = rng.random((3, 40)) < 0.8
    n = 4
    for s in (dense, sparse):
        got = gather({"s": s}, allowed, n=n)
        for r in range(3):
            valid = np.flatnonzero(allowed[r] & (s[r] != 0))
            want = set(valid[np.argsort(-s[r, valid])][:n].tolist())
            assert set(got.items[got.rows == r].tolist()) == want


def test_fit_blend_keeps_a_users_rows_of_every_fold_in_one_cross_validation_half(
        monkeypatch) -> None:
    import recommend.hybrid.blend as blend_module

    feats, rows, items, rel = synthetic(seed=2)
    n = rel.shape[0]
    # the same users twice (two validation folds): rows n.. repeat users 0..n-1
    feats2 = np.vstack([feats, feats])
    rows2 = np.concatenate([rows, rows + n])
    items2 = np.concatenate([items, items])
    rel2 = sp.vstack([rel, rel]).tocsr()
    groups = np.tile(np.arange(n), 2)
    halves: list[set[int]] = []
    fit_kind = blend_module.fit_kind

    def recording(kind, features, r, *args, **kwargs):
        halves.append(set(np.unique(r).tolist()))
        return fit_kind(kind, features, r, *args, **kwargs)

    monkeypatch.setattr(blend_module, "fit_kind", recording)
    blend_module.fit_blend(feats2, rows2, items2, rel2, ("signal", "noise"), k=10,
                           groups=groups)
    cv_halves = [h for h in halves if len(h) < 2 * n]
    assert cv_halves
    for half in cv_halves:  # a user's first-fold row is in a half iff its second-fold row is
        assert {r for r in half if r < n} == {r - n for r in half if r >= n}


@pytest.mark.parametrize("seed", range(8))
def test_one_row_normalises_as_in_a_batch(seed: int) -> None:
    """A request's row (:func:`normalise`'s one-row path) and the same row among others:
    the same floats, the statistics from the pool only (from all when it has none)."""
    from recommend.hybrid.normalise import normalise

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    feats = np.round(rng.normal(size=(n, 5)), 1 if seed % 2 else 8)
    feats[:, 2] = 0.0 if seed % 3 == 0 else feats[:, 2]  # a component without evidence
    if seed == 5:
        feats[rng.random(n) < 0.1, 1] = np.nan
    pool = rng.random(n) < (0.0 if seed == 4 else 0.7)
    other = rng.normal(size=(7, 5))
    rows = np.r_[np.zeros(n, np.int64), np.ones(7, np.int64)]
    for p in (pool, None):
        batch = normalise(np.vstack([feats, other]), rows, 2, "minmax",
                          None if p is None else np.r_[p, np.ones(7, bool)])
        one = normalise(feats, np.zeros(n, np.int64), 1, "minmax", p)
        assert np.array_equal(one, batch[:n], equal_nan=True)
