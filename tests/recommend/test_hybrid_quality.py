"""Ranking-quality pieces of the hybrid: CF over active products, recency, tuning, audit."""

from __future__ import annotations

import numpy as np
import pytest

from kg.build import build_graph
from kg.interactions import history_matrix
from kg.records import Dataset, Event, Product, User
from recommend.evaluate.metrics import ndcg_at_k
from recommend.hybrid.blend import fit_coordinate, top_k_rows
from recommend.hybrid.components import CfComponent
from recommend.hybrid.config import (
    CfConfig,
    ContentConfig,
    HybridConfig,
    SessionConfig,
    SplitConfig,
)
from recommend.hybrid.split import HoldoutSplit, holdout_split
from recommend.hybrid.tune import tune_cf, tune_session
from tests.recommend.pools import full_pool, held_out


def shop(n_users: int = 40, seed: int = 0):
    """Two taste groups over 12 products, timestamps, and link-only product endpoints."""
    rng = np.random.default_rng(seed)
    products = [Product(f"P{i}", f"thing {i}", categories=("A" if i < 6 else "B",))
                for i in range(12)]
    users = [User(str(u)) for u in range(n_users)]
    events = []
    for u in range(n_users):
        group = range(6) if u % 2 else range(6, 12)
        for t, i in enumerate(rng.choice(list(group), 4, replace=False)):
            events.append(Event(str(u), f"P{i}", "product", "purchase", ts=float(t)))
    g = build_graph(Dataset(products=products, users=users, events=events), progress=False)
    g.add_edges("also_bought", ["product:P0", "product:P1"], ["product:X1", "product:X2"])
    return g


def test_cf_fits_only_products_someone_reached_and_round_trips(tmp_path) -> None:
    g = shop()
    comp = CfComponent.fit(g, kind="ease", params={"lam": 10.0, "keep": None,
                                                    "recency_tau": 2.0})
    assert g.num_nodes("product") == 14
    assert {g.node_id("product", int(c)) for c in comp.columns_} == {
        f"product:P{i}" for i in range(12)}
    users = np.arange(g.num_nodes("user"))
    scores = comp.scores(users)
    assert scores.shape == (len(users), 14)
    link_only = [g.index("product:X1"), g.index("product:X2")]
    assert not scores[:, link_only].any()
    # a user of the first group scores unseen first-group products above the other group
    u = g.index("user:1")
    mine = [g.index(f"product:P{i}") for i in range(6)]
    other = [g.index(f"product:P{i}") for i in range(6, 12)]
    assert scores[u, mine].max() > scores[u, other].max()
    comp.save(tmp_path)
    again = CfComponent.load(tmp_path, g, HybridConfig())
    assert again.recency_tau == 2.0
    np.testing.assert_allclose(again.scores(users), scores, rtol=1e-6)


def test_recency_history_weighs_the_latest_product_most() -> None:
    g = shop(n_users=2)
    h = history_matrix(g, 1.0).tocsr()
    u = g.index("user:0")
    row = h[u]
    assert sorted(np.round(row.data, 6).tolist()) == sorted(
        np.round(np.exp(-np.arange(4.0)), 6).tolist())
    assert history_matrix(g, None)[u].data.tolist() == [1.0] * 4


def test_tune_cf_tries_every_family_and_keeps_the_best() -> None:
    g = shop(n_users=60, seed=3)
    config = HybridConfig(components=("cf",), content=ContentConfig(encoder="none"),
                          split=SplitConfig(target_relations=("purchased",), holdout_fraction=0.25),
                          cf=CfConfig(knn_weightings=("bm25", "cosine"), knn_ks=(5,),
                                      ease_lams=(1.0, 1000.0), recency_taus=(None, 1.0),
                                      als_regs=(0.1,), als_alphas=(1.0,), als_factors=4,
                                      als_iterations=3))
    split = holdout_split(g, target_relations=("purchased",), fraction=0.25,
                          min_user_items=3, seed=0)
    tuned, comp, record, _ = tune_cf(split, config, split.users)
    tried = {name: t["ndcg"] for name, t in record["trials"].items()}
    # 2 item-kNN x 2 taus, 2 EASE x 2 taus, 1 ALS (factors: no recency)
    assert len(tried) == 9 and "als,reg=0.1,alpha=1" in tried and not record["skipped"]
    best = max(tried, key=tried.get)
    assert tried[best] == pytest.approx(max(tried.values()))
    assert record["chosen"] in best and tuned.cf.model == best.split(",")[0]
    assert comp.recency_tau == tuned.cf.recency_tau
    same = {"model": "auto", "ease_lam": 200.0, "recency_tau": None, "als_reg": 10.0,
            "als_alpha": 1.0, "knn_weighting": "bm25", "knn_k": 200}
    assert tuned.updated(cf=same) == config.updated(cf=same)


def test_an_als_trial_keeps_its_confidence_scale() -> None:
    g = shop(n_users=60, seed=3)
    config = HybridConfig(components=("cf",), content=ContentConfig(encoder="none"),
                          cf=CfConfig(families=("als",), als_regs=(0.1, 1.0),
                                      als_alphas=(0.5, 4.0), als_factors=4, als_iterations=3),
                          split=SplitConfig(target_relations=("purchased",), holdout_fraction=0.25))
    split = holdout_split(g, target_relations=("purchased",), fraction=0.25,
                          min_user_items=3, seed=0)
    tuned, comp, record, _ = tune_cf(split, config, split.users)
    assert sorted(record["trials"]) == ["als,reg=0.1,alpha=0.5", "als,reg=0.1,alpha=4",
                                        "als,reg=1,alpha=0.5", "als,reg=1,alpha=4"]
    assert record["chosen"] == f"als,reg={tuned.cf.als_reg:g},alpha={tuned.cf.als_alpha:g}"
    assert comp.model.alpha == tuned.cf.als_alpha and comp.model.reg == tuned.cf.als_reg


def small_tuning(n_users: int, seed: int = 0) -> tuple[HybridConfig, HoldoutSplit]:
    """A config trying item-kNN, EASE and a small ALS, and a 25% split of a small shop
    (``seed``: the split's draw)."""
    g = shop(n_users=n_users, seed=3)
    config = HybridConfig(components=("cf",), content=ContentConfig(encoder="none"),
                          split=SplitConfig(target_relations=("purchased",)),
                          cf=CfConfig(knn_weightings=("bm25", "cosine"), knn_ks=(5,),
                                      ease_lams=(1.0, 200.0), recency_taus=(None, 1.0),
                                      als_regs=(0.1,), als_factors=4, als_iterations=3))
    split = holdout_split(g, target_relations=("purchased",), fraction=0.25,
                          min_user_items=3, seed=seed)
    return config, split


def test_tune_cf_keeps_the_untuned_model_unless_the_best_wins_beyond_noise() -> None:
    config, split = small_tuning(60)
    untuned = "ease,lam=200,tau=None"  # EASE at the fixed lambda, the history unweighted
    for users in (split.users, split.users[:3]):  # three users: nothing beyond noise
        tuned, comp, record, _ = tune_cf(split, config, users)
        tried = {name: t["ndcg"] for name, t in record["trials"].items()}
        best = max(tried, key=tried.get)
        if best == untuned:
            assert "over_untuned" not in record and record["chosen"] == "ease,lam=200"
            continue
        over = record["over_untuned"]
        assert over["untuned"] == untuned
        beyond = over["twice_se"] is not None and over["gain"] > over["twice_se"]
        assert beyond == (record["chosen"] != "ease,lam=200")
        if len(users) == 3:
            assert not beyond and (tuned.cf.model, tuned.cf.ease_lam) == ("ease", 200.0)
            assert comp.recency_tau is None


def test_tune_cf_stops_at_its_budget_and_reports_what_it_skipped() -> None:
    g = shop(n_users=60, seed=3)
    config = HybridConfig(components=("cf",), content=ContentConfig(encoder="none"),
                          cf=CfConfig(ease_lams=(1.0, 10.0), recency_taus=(None,),
                                      tune_budget_seconds=0.0),
                          split=SplitConfig(target_relations=("purchased",)))
    split = holdout_split(g, target_relations=("purchased",), fraction=0.25, min_user_items=3)
    _, comp, record, _ = tune_cf(split, config, split.users)
    assert len(record["trials"]) == 1 and comp is not None
    assert len(record["skipped"]) == 6 + 2 + len(config.cf.als_regs) * len(config.cf.als_alphas) - 1


def test_session_window_is_tuned_to_the_gaps_people_leave() -> None:
    """Ten users buy B two hours after A; ten more did A then B last (held out)."""
    products = [Product(p, f"thing {p}") for p in ("A", "B", *(f"X{u}" for u in range(20)))]
    events = []
    for u in range(20):
        # first ten: A, B two hours later, then their own X a day on (X is held out);
        # the others: their own X, a day later A, then B two hours later (B is held out)
        times = {"A": 0.0, "B": 7200.0, f"X{u}": 9e4 if u < 10 else -9e4}
        events += [Event(str(u), p, "product", "purchase", ts=t) for p, t in times.items()]
    g = build_graph(Dataset(products=products, users=[User(str(u)) for u in range(20)],
                            events=events), progress=False)
    split = holdout_split(g, target_relations=("purchased",), fraction=0.2,
                          min_user_items=3, seed=0)
    config = HybridConfig(components=("session",), content=ContentConfig(encoder="none"),
                          session=SessionConfig(tune_windows=(3600.0, 86400.0)))
    tuned, _, tried = tune_session(split, config, split.users)
    assert tried == {"window=3600s": 0.0, "window=86400s": pytest.approx(tried["window=86400s"])}
    assert tried["window=86400s"] > 0.4 and tuned.session.window == 86400.0


def test_coordinate_blend_never_validates_below_its_best_component() -> None:
    rng = np.random.default_rng(0)
    n_users, n_items = 200, 30
    rows, items = full_pool(n_users, n_items)
    target = rng.integers(0, n_items, n_users)
    label = (items == target[rows]).astype(float)
    good = label + 0.3 * rng.random(len(rows))
    feats = np.stack([good, rng.random(len(rows)), rng.random(len(rows))], axis=1)
    rel = held_out(target, n_items)
    single = ndcg_at_k(top_k_rows(good, rows, items, n_users, 10), rel, 10)
    w, best = fit_coordinate(feats, rows, items, rel, k=10)
    assert best >= single - 1e-12
    assert w[0] == pytest.approx(w.max())


def test_validation_split_recomputes_derived_edges_on_the_training_graph() -> None:
    g = shop(n_users=30, seed=1)
    # a derived edge no training purchase supports (as if mined from held-out purchases)
    g.add_edges("co_bought", ["product:P0"], ["product:P11"], [9.0])
    kept = holdout_split(g, target_relations=("purchased",), fraction=0.25,
                         min_user_items=3, derived=())
    assert kept.train_graph.has_edge("product:P0", "co_bought", "product:P11")
    redone = holdout_split(g, target_relations=("purchased",), fraction=0.25,
                           min_user_items=3)
    t = redone.train_graph
    assert not t.has_edge("product:P0", "co_bought", "product:P11")
    assert t.num_nodes("user") == g.num_nodes("user")
    assert t.nodes("product") == g.nodes("product")


def test_audit_finds_real_paths_and_rejects_a_made_up_edge(tmp_path) -> None:
    from kg.artifact import build_artifact
    from kg.demo import DemoConfig, generate_demo_world
    from recommend import Recommender
    from recommend.hybrid.audit import audit_explanations, path_is_valid
    from recommend.model_stage import model_stage
    from recommend.results import ExplainedPath

    generate_demo_world(tmp_path / "data", DemoConfig(n_users=80, n_products=60, n_posts=150,
                                                      images=False), progress=False)
    build_artifact(tmp_path / "data", tmp_path / "art", progress=False, stages=[
        ("models", model_stage(HybridConfig(content=ContentConfig(encoder="lsa", lsa_dim=16))))])
    rec = Recommender.load(tmp_path / "art")
    seen = rec.model.seen_
    users = [rec.graph.node_id("user", int(u))
             for u in np.argsort(-np.diff(seen.indptr))[:4]]
    audit = audit_explanations(rec, users, k=5)
    assert audit.items == 20 and audit.invalid_paths == 0
    assert audit.with_valid_path >= audit.with_score_path > 0
    assert audit.fidelity_checked > 0 and audit.fidelity_dropped > 0
    item = rec.recommend(users[0], 1)[0].item
    fake = ExplainedPath((users[0], item), ((users[0], "purchased", item),), "made up")
    assert not path_is_valid(rec.graph, fake)


def test_cf_fits_try_every_family_before_any_second_setting() -> None:
    from recommend.hybrid.tune import cf_fits

    config = HybridConfig(cf=CfConfig(knn_weightings=("bm25", "cosine"), knn_ks=(50, 200),
                                      ease_lams=(10.0, 200.0), als_regs=(0.1, 1.0, 10.0),
                                      als_alphas=(1.0,)))
    kinds = [kind for kind, _ in cf_fits(config, n_active=100)]
    assert kinds == ["itemknn", "ease", "als", "itemknn", "ease", "als", "itemknn", "als",
                     "itemknn"]
    big = [kind for kind, _ in cf_fits(config, n_active=config.cf.ease_max_items + 1)]
    assert big[:2] == ["itemknn", "als"] and "ease" not in big and len(big) == 7


def test_tune_cf_confirms_its_winner_on_the_set_apart_users(monkeypatch) -> None:
    from recommend.hybrid import tune
    from recommend.hybrid.tune import alone_per_user

    # a draw whose three tunings both confirm and turn down a winner, and try both bars
    # (the sign within EASE, cf.switch_se for another family)
    config, split = small_tuning(80, seed=3)
    real_fit = CfComponent.fit
    fits: list[str] = []
    monkeypatch.setattr(tune.CfComponent, "fit",
                        lambda *a, **kw: fits.append(kw["kind"]) or real_fit(*a, **kw))
    outcomes = set()
    users = split.users
    for tuning, aside in ((users[:20], users[20:]), (users[20:40], users[40:]),
                          (users[60:], users[:60])):
        fits.clear()
        tuned, comp, record, _ = tune_cf(split, config, tuning, confirm=aside)
        n_fits = len(fits)
        tried = {name: t["ndcg"] for name, t in record["trials"].items()}
        settings = {name.split(",tau=")[0] for name in tried}  # taus reuse one fit
        if max(tried, key=tried.get) == "ease,lam=200,tau=None":
            assert "over_untuned" not in record and n_fits == len(settings)
            continue
        over = record["over_untuned"]
        confirmed = over["confirmation"]
        assert over["rule"].startswith("confirmation users")
        assert confirmed["users"] == len(aside)
        # another family than the untuned EASE must gain beyond cf.switch_se SE, EASE's
        # own settings by the sign
        other_family = not max(tried, key=tried.get).startswith("ease,")
        assert confirmed["bar_se"] == (config.cf.switch_se if other_family else 0.0)
        assert over["rule"].endswith("(another family)") == other_family
        kept = confirmed["gain"] > confirmed["bar_se"] * (confirmed["se"] or np.inf)
        outcomes.add(kept)
        untuned = (tuned.cf.model, tuned.cf.ease_lam, tuned.cf.recency_tau) == ("ease", 200.0,
                                                                             None)
        assert untuned != kept
        # the set-apart users are only scored: no fit beyond the trials', except the
        # untuned model's when the winner is not confirmed
        assert n_fits == len(settings) + (not kept)
        # each figure is that model's own on the set-apart users
        plain = real_fit(split.train_graph, kind="ease", params=config.cf_params())
        assert confirmed["untuned"] == pytest.approx(
            alone_per_user(plain, split, aside, config.k).mean(), abs=1e-5)
        served = alone_per_user(comp, split, aside, config.k).mean()
        assert confirmed["winner" if kept else "untuned"] == pytest.approx(served, abs=1e-5)
        assert confirmed["gain"] == pytest.approx(
            confirmed["winner"] - confirmed["untuned"], abs=2e-5)
        assert comp.recency_tau == tuned.cf.recency_tau
    assert outcomes == {True, False}  # winners confirmed and winners turned down


def test_tune_cf_falls_back_to_twice_the_se_when_nothing_was_set_apart() -> None:
    g = shop(n_users=60, seed=3)
    config = HybridConfig(components=("cf",), content=ContentConfig(encoder="none"),
                          split=SplitConfig(target_relations=("purchased",)),
                          cf=CfConfig(knn_weightings=("bm25",), knn_ks=(5,),
                                      ease_lams=(1.0, 200.0), recency_taus=(None, 1.0),
                                      als_regs=(0.1,), als_factors=4, als_iterations=3))
    split = holdout_split(g, target_relations=("purchased",), fraction=0.25,
                          min_user_items=3, seed=0)
    # selection_fold's in-sample case: the "set apart" users are the tuning users
    _, _, record, _ = tune_cf(split, config, split.users, confirm=split.users)
    _, _, alone, _ = tune_cf(split, config, split.users)
    assert record == {**alone, "seconds": record["seconds"], "cpu_seconds": record["cpu_seconds"],
                      "trials": {n: {**t, "seconds": record["trials"][n]["seconds"]}
                                 for n, t in alone["trials"].items()}}
    if "over_untuned" in record:
        assert "confirmation" not in record["over_untuned"]
        assert record["over_untuned"]["rule"].startswith("tuning users")
