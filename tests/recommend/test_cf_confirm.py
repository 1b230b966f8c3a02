"""The CF model confirmed by what is served around it, not by its figure alone."""

from __future__ import annotations

import numpy as np
import pytest

from recommend.hybrid.blend import fit_kind, rows_only
from recommend.hybrid.config import HybridConfig
from recommend.hybrid.select import choose_served, confirm_by_blend
from recommend.hybrid.tune import close_families
from tests.recommend.pools import full_pool, held_out


def complementary_world(n_users: int = 400, n_items: int = 10, seed: int = 0):
    """A session component that finds the held-out item of half the users, and two CF
    models: "a" finds it for those same users and 10% more (alone the better), "b" for
    the other half only (alone the worse, but it finds what the session misses)."""
    rng = np.random.default_rng(seed)
    rows, items = full_pool(n_users, n_items)
    target = rng.integers(0, n_items, n_users)
    hit = (items == target[rows]).astype(float)
    by_session = np.arange(n_users) % 2 == 0
    extra = ~by_session & (rng.random(n_users) < 0.2)
    noise = rng.random((len(rows), 3))
    session = hit * by_session[rows] + noise[:, 0]
    a = hit * (by_session | extra)[rows] + noise[:, 1]
    b = hit * (~by_session)[rows] + noise[:, 2]
    return rows, items, held_out(target, n_items), session, a, b


def test_the_cf_model_whose_blend_validates_best_is_kept_though_another_leads_alone() -> None:
    rows, items, rel, session, a, b = complementary_world()
    n = rel.shape[0]
    selecting = np.arange(n) >= n // 2
    names = ("cf", "session")

    def judge(cf: np.ndarray):
        """The blend around ``cf`` fitted on the fit users, served as select.py chooses."""
        feats = np.column_stack([cf, session])
        on = ~selecting[rows]
        blend = fit_kind("logistic", feats[on], rows[on], items[on],
                         rows_only(rel, ~selecting), names, None, k=3, grid=(0.5, 2.0),
                         rounds=1, seed=0)
        per_user: dict[str, np.ndarray] = {}
        choice, record = choose_served(blend, feats, None, rows, items, rel, selecting, k=3,
                                       per_user_out=per_user)
        return {"all": record["ndcg@3"][choice]}, per_user[choice], {"served": choice}, record

    alone = {name: judge(cf)[3]["ndcg@3"]["cf"] for name, cf in (("a", a), ("b", b))}
    assert alone["a"] > alone["b"]  # the tuning would keep "a"
    record, chosen = confirm_by_blend([("a", a), ("b", b)], judge, budget=np.inf, bar=2.0)
    assert chosen["chosen"] == "b" and chosen["contenders"]["b"]["served"] == "blend"
    figures = chosen["contenders"]
    assert figures["b"]["ndcg"]["all"] > figures["a"]["ndcg"]["all"] and not chosen["skipped"]
    assert figures["b"]["ndcg"]["all"] == pytest.approx(record["ndcg@3"]["blend"], abs=1e-5)
    assert figures["b"]["worst_ratio"] == 1.0 > figures["a"]["worst_ratio"]
    assert figures["b"]["gain_over_first"] > figures["b"]["twice_se"] > 0
    assert {"served", "cpu_seconds", "seconds"} <= set(figures["a"])
    # no budget left: the tuning's choice is still judged, the others are skipped
    _, spent = confirm_by_blend([("a", a), ("b", b)], judge, budget=0.0, bar=2.0)
    assert spent["chosen"] == "a" and spent["skipped"] == ["b"]
    # equal figures: the first (the tuning's choice) stays
    _, tie = confirm_by_blend([("a", a), ("a again", a)], judge, budget=np.inf, bar=2.0)
    assert tie["chosen"] == "a"


def test_a_contender_is_judged_by_its_worst_validation_fold() -> None:
    """"a" leads on the random fold but trails on the by-time one by more than "b" trails
    on the random one: "b" falls shortest on neither, and is kept."""
    figures = {"a": {"time": 0.119, "random": 0.278}, "b": {"time": 0.128, "random": 0.264}}
    # per user: "b" ahead of "a" on every one of 50 users, beyond noise
    users = {"a": np.full(50, 0.1), "b": np.full(50, 0.1) + np.linspace(0.01, 0.03, 50)}
    result, record = confirm_by_blend([("a", "a"), ("b", "b")],
                                      lambda name: (figures[name], users[name], {}, name),
                                      budget=np.inf, bar=2.0)
    assert result == record["chosen"] == "b"
    assert record["contenders"]["a"]["worst_ratio"] == pytest.approx(0.119 / 0.128, abs=1e-5)
    assert record["contenders"]["b"]["worst_ratio"] == pytest.approx(0.264 / 0.278, abs=1e-5)
    # nothing judged (one validation user): the first stays
    assert confirm_by_blend([("a", "a"), ("b", "b")], lambda name: ({}, users[name], {}, name),
                            budget=np.inf, bar=2.0)[0] == "a"
    # one fold: the higher figure ("a" leads: "b"'s per-user lead cannot switch to it)
    assert confirm_by_blend([("a", "a"), ("b", "b")],
                            lambda name: ({"all": figures[name]["random"]}, users[name], {},
                                          name),
                            budget=np.inf, bar=2.0)[0] == "a"


def test_another_cf_family_replaces_the_tuned_one_only_beyond_noise() -> None:
    """The contender's served ranker leads on the mean (Amazon 2018 Fashion: 0.7530 against
    0.7514 over 194 users) but its paired per-user gain is within noise: the tuning's choice
    stays (the sign of the mean gain switched to it); the same lead with little noise
    switches."""
    rng = np.random.default_rng(0)
    first = rng.random(194)
    noisy = np.clip(first + rng.normal(0.0, 0.2, 194), 0.0, 1.0)
    noisy += first.mean() + 0.002 - noisy.mean()  # a lead of 0.002 on the mean
    figures = {"tuned": first, "other": noisy}

    def judge(name: str):
        return {"all": float(figures[name].mean())}, figures[name], {}, name

    bar = HybridConfig().cf.switch_se  # the build's
    result, record = confirm_by_blend([("tuned", "tuned"), ("other", "other")], judge,
                                      budget=np.inf, bar=bar)
    other = record["contenders"]["other"]
    assert other["worst_ratio"] == 1.0 > record["contenders"]["tuned"]["worst_ratio"]
    assert 0 < other["gain_over_first"] < other["twice_se"] * bar / 2
    assert result == record["chosen"] == "tuned"
    figures["other"] = first + 0.002 + rng.normal(0.0, 0.001, 194)  # the same lead, clear
    assert confirm_by_blend([("tuned", "tuned"), ("other", "other")], judge,
                            budget=np.inf, bar=bar)[0] == "other"
    # a lead of 1.5 SE: over a bar of one SE, under one of two
    gain = rng.normal(0.0, 0.05, 194)
    figures["other"] = first + gain - gain.mean() + 1.5 * gain.std(ddof=1) / np.sqrt(194)
    assert confirm_by_blend([("tuned", "tuned"), ("other", "other")], judge,
                            budget=np.inf, bar=1.0)[0] == "other"
    assert confirm_by_blend([("tuned", "tuned"), ("other", "other")], judge,
                            budget=np.inf, bar=2.0)[0] == "tuned"
    # per-user figures that cannot be paired (none judged): no switch
    assert confirm_by_blend([("tuned", "tuned"), ("other", "other")],
                            lambda name: ({"all": 0.1 if name == "tuned" else 0.9},
                                          np.zeros(0), {}, name),
                            budget=np.inf, bar=2.0)[0] == "tuned"


def test_close_families_are_the_others_within_twice_the_se_of_the_best_alone() -> None:
    rng = np.random.default_rng(0)
    best = rng.random(200)
    config = HybridConfig()
    als = config.with_cf("als", {**config.cf_params(), "reg": 30.0, "alpha": 2.0})
    ease = config.with_cf("ease", {**config.cf_params(), "lam": 1000.0})
    knn = config.with_cf("itemknn", config.cf_params())
    near = best - rng.normal(0.005, 0.05, 200)  # behind by ~0.005, 2 SE ~0.007
    far = best - 0.2
    families = {"als": (float(best.mean()), "als,reg=30,alpha=2", best, als),
                "ease": (float(near.mean()), "ease,lam=1000,tau=None", near, ease),
                "itemknn": (float(far.mean()), "itemknn,bm25,K=200,tau=None", far, knn)}
    close, record = close_families(best, "als", families)
    assert close == [ease]
    assert record["ease,lam=1000,tau=None"]["close"]
    gap = record["ease,lam=1000,tau=None"]
    assert 0 < gap["gap"] <= gap["twice_se"]
    assert not record["itemknn,bm25,K=200,tau=None"]["close"]
    assert record["als,reg=30,alpha=2"] == {"ndcg": round(float(best.mean()), 5), "gap": 0.0,
                                            "twice_se": 0.0, "close": False}
    # the chosen family is never its own contender, even when another setting won alone
    assert close_families(best, "ease", families)[0] == [als]


def test_the_build_serves_around_the_contender_it_records_as_chosen() -> None:
    from recommend.hybrid.config import BlendConfig, CfConfig, SessionConfig
    from recommend.hybrid.encoders import LsaEncoder
    from recommend.hybrid.fit import fit_hybrid
    from tests.recommend.shops import two_group_shop

    config = HybridConfig(components=("cf", "session", "content", "popularity"),
                          blend=BlendConfig(learned_ranker=False),
                          cf=CfConfig(families=("ease", "als"), ease_lams=(10.0, 200.0),
                                      recency_taus=(None,), als_regs=(1.0,),
                                      als_alphas=(1.0,), als_factors=4, als_iterations=3),
                          session=SessionConfig(tune_windows=(3600.0,)))
    model = fit_hybrid(two_group_shop(80, 8, described=True, seed=0), config,
                       encoder=LsaEncoder(dim=8))
    tuning = model.info["cf_tuning"]
    close = [name for name, gap in tuning["contenders"].items() if gap["close"]]
    assert close == ["als,reg=1,alpha=1"]  # within noise of EASE on 40 tuning users
    confirmed = tuning["by_blend"]
    ratios = {name: c["worst_ratio"] for name, c in confirmed["contenders"].items()}
    assert list(ratios)[1:] == close and not confirmed["skipped"]
    assert confirmed["chosen"] == tuning["chosen"] == max(ratios, key=ratios.get)
    served = model.info["selection"]
    figures = confirmed["contenders"][confirmed["chosen"]]
    assert figures["ndcg"] == {"all": served["ndcg@10"][served["chosen"]]}  # one fold
    # timed: the latest and earlier held-out items, recorded apart
    assert figures["by_part"]["latest"] == served["ndcg@10_by_part"]["latest"][served["chosen"]]
    assert model.config.cf.model == confirmed["chosen"].split(",")[0]
