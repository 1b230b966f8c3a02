"""The fit's order of work: text vectors asked for late, the validation fits let go early."""

from __future__ import annotations

import weakref

import numpy as np
import pytest

from recommend.hybrid.encoders import LsaEncoder
from tests.recommend.shops import two_group_shop


def shop(n_users: int = 80, seed: int = 0):
    """Two taste groups of 12 described products; each user buys 8 of theirs a minute apart."""
    return two_group_shop(n_users, 8, described=True, seed=seed)


class Recording(LsaEncoder):
    """LSA that notes what the fit had logged when it was first asked for vectors."""

    def __init__(self, said: list[str]) -> None:
        super().__init__(dim=8)
        self.said = said
        self.asked_after: list[str] | None = None

    def embed(self, texts):
        if self.asked_after is None:
            self.asked_after = list(self.said)
        return super().embed(texts)


def config():
    from recommend.hybrid.config import BlendConfig, CfConfig, HybridConfig, SessionConfig

    return HybridConfig(components=("cf", "session", "content", "popularity"),
                        blend=BlendConfig(learned_ranker=False),
                        cf=CfConfig(model="itemknn", recency_taus=(None,)),
                        session=SessionConfig(tune_windows=(3600.0, 86400.0)))


def test_text_vectors_are_asked_for_only_after_the_split_and_the_tuning() -> None:
    from recommend.hybrid.fit import fit_hybrid

    said: list[str] = []
    encoder = Recording(said)
    model = fit_hybrid(shop(), config(), encoder=encoder, log=said.append)
    assert encoder.asked_after == ["validation split", "tuning the cf component",
                                   "tuning the session window"]
    assert "content" in model.components
    seconds = model.info["seconds"]
    assert list(seconds)[:3] == ["split", "tune", "content"]


def test_the_validation_graph_and_its_fits_are_let_go_before_the_refit(monkeypatch) -> None:
    import recommend.hybrid.fit as fit

    graph = shop()
    kept: list[weakref.ref] = []
    alive_at_refit: list[bool] = []
    split, components = fit.holdout_split, fit._fit_components

    def holdout_split(*args, **kwargs):
        result = split(*args, **kwargs)
        kept.append(weakref.ref(result.train_graph))
        return result

    def fit_components(on, cfg, shared, tuned=None):
        if on is graph:  # the refit on the whole graph
            alive_at_refit.append(any(ref() is not None for ref in kept))
        return components(on, cfg, shared, tuned)

    monkeypatch.setattr(fit, "holdout_split", holdout_split)
    monkeypatch.setattr(fit, "_fit_components", fit_components)
    two = config().updated(split={"random_fold": True})  # the opt-in second fold
    model = fit.fit_hybrid(graph, two, encoder=LsaEncoder(dim=8))
    assert alive_at_refit == [False] and len(kept) == 2  # both validation folds let go
    assert model.components  # the refit still fitted the served components


def test_stacked_rows_equal_their_concatenation_within_and_past_the_reservation() -> None:
    from recommend.hybrid.served import Stacked

    rng = np.random.default_rng(0)
    parts = [rng.random((n, 3)) for n in (4, 0, 5, 2)]
    for most in (11, 6):  # all fit in the reservation; the last two parts do not
        stacked = Stacked(most)
        for part in parts:
            stacked.add(part)
        np.testing.assert_array_equal(stacked.rows(), np.concatenate(parts))


def test_timed_data_validates_on_a_random_fold_beside_the_by_time_one() -> None:
    from recommend.hybrid.fit import fit_hybrid

    two = config().updated(split={"random_fold": True})  # opt-in
    model = fit_hybrid(shop(), two, encoder=LsaEncoder(dim=8))
    assert model.info["validation"]["mode"] == "mixed"
    assert model.info["validation_random_fold"]["mode"] == "random"
    selection = model.info["selection"]
    assert set(selection["ndcg@10_by_fold"]) == {"mixed", "random"}
    assert set(selection["worst_ratio"]) == {"cf", "session", "content", "popularity", "blend"}
    # by default the tuning is judged on the first fold; asked, on both: the geometric mean
    assert "by_fold" not in next(iter(model.info["cf_tuning"]["trials"].values()))
    both = fit_hybrid(shop(), two.updated(split={"tune_folds": "both"}),
                      encoder=LsaEncoder(dim=8))
    for trial in both.info["cf_tuning"]["trials"].values():
        a, b = trial["by_fold"]
        assert trial["ndcg"] == pytest.approx((a * b) ** 0.5, abs=1e-5)
    one = fit_hybrid(shop(), config(), encoder=LsaEncoder(dim=8))  # the default: one fold
    assert "validation_random_fold" not in one.info
    assert "ndcg@10_by_fold" not in one.info["selection"]


def test_too_few_users_to_set_apart_judge_the_blend_cross_fitted() -> None:
    from recommend.hybrid.fit import fit_hybrid

    few = fit_hybrid(shop(n_users=30), config(), encoder=LsaEncoder(dim=8))
    selection = few.info["selection"]
    assert few.info["fit_users"] == few.info["selection_users"] < 40  # none set apart
    assert selection["judged"] == "cross-fitted" and selection["parts"] == 5
    assert selection["users"] == few.info["validation_users"]  # every user judges
    assert selection["challenger"]["rule"] == "gain > twice_se"
    assert selection["chosen"] == (few.blend.names[int(np.argmax(few.blend.weights))]
                                   if few.blend.kind == "fixed" else "blend")
    many = fit_hybrid(shop(), config(), encoder=LsaEncoder(dim=8))
    assert many.info["selection"]["judged"] == "selection fold"
    assert "parts" not in many.info["selection"]
