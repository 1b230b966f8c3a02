"""HybridConfig: every hyper-parameter of the hybrid ranker, as plain data (JSON round-trip)."""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from recommend.exact_search import EXACT_THRESHOLD

CfModel = Literal["auto", "ease", "als", "itemknn"]
HoldoutMode = Literal["auto", "time", "random", "mixed"]
ContentEncoder = Literal["sentence-transformers", "lsa", "none"]
Normalisation = Literal["minmax", "zscore"]
OrderWeight = Literal["fitted", "agreed"]
TuneFolds = Literal["first", "both"]

#: Every component the ranker knows, in feature order.
COMPONENTS: tuple[str, ...] = ("cf", "session", "content", "graph", "social", "popularity")

#: Numeric fields: (lowest value, lowest allowed itself, None allowed). Tuple fields: each item.
_INTS: dict[str, int] = {"ease_max_items": 1, "als_factors": 1, "als_iterations": 1,
                         "session_max_lag": 1, "lsa_dim": 1, "lsa_features": 1,
                         "candidates_per_component": 1, "min_user_items": 1,
                         "max_fit_users": 1, "rounds": 1, "k": 1, "max_paths": 0, "seed": 0,
                         "knn_k": 1, "path_pool": 1, "content_exact_threshold": 1}
_FLOATS: dict[str, tuple[float, bool, bool]] = {
    "ease_lam": (0.0, False, False), "ease_lams": (0.0, False, False),
    "cf_recency_tau": (0.0, False, True), "recency_taus": (0.0, False, True),
    "als_reg": (0.0, True, False), "als_regs": (0.0, True, False),
    "als_alpha": (0.0, True, False), "als_alphas": (0.0, True, False),
    "als_offset": (0.0, True, False),
    "tune_budget_seconds": (0.0, True, False), "session_window": (0.0, False, False),
    "session_tune_windows": (0.0, False, False), "session_recency_tau": (0.0, False, True),
    "content_half_life_days": (0.0, False, True), "grid": (0.0, True, False),
    "selection_share": (0.0, True, False), "candidate_recall": (0.0, True, False),
    "path_recency_weight": (0.0, True, False), "path_specificity_weight": (0.0, True, False),
    "path_diversity_weight": (0.0, True, False), "path_min_share": (0.0, True, False),
    "content_target_recall": (0.0, False, False), "content_image_weights": (0.0, True, False),
    "audience_category_weight": (0.0, True, False),
    "audience_category_weights": (0.0, True, False), "audience_activity_weight": (0.0, True, False),
    "audience_activity_weights": (0.0, True, False),
}
#: Fields earlier versions had, and why they went: an artifact that recorded one still loads.
RETIRED: dict[str, str] = {
    key: "the audience's take rate is a fitted return model, not a decay "
         "(recommend/marketer/propensity.py)"
    for key in ("audience_activity_tau", "audience_activity_taus")}

_CHOICES: dict[str, tuple[str, ...]] = {
    "cf_model": get_args(CfModel), "content_encoder": get_args(ContentEncoder),
    "normalisation": get_args(Normalisation), "path_normalize": ("row", "symmetric", "none"),
    "cf_families": ("itemknn", "ease", "als"), "knn_weighting": ("bm25", "cosine", "tfidf"),
    "knn_weightings": ("bm25", "cosine", "tfidf"), "holdout_mode": get_args(HoldoutMode),
    "order_weight": get_args(OrderWeight), "tune_folds": get_args(TuneFolds),
}
_SHARES = ("selection_share", "candidate_recall", "path_min_share")


def _number_error(name: str, value: object, low: float, inclusive: bool, none: bool,
                  integer: bool) -> str | None:
    """Why ``value`` does not fit field ``name``, or None."""
    if value is None and none:
        return None
    kind = int if integer else (int, float)
    ok = (not isinstance(value, bool) and isinstance(value, kind)
          and math.isfinite(value) and (value >= low if inclusive else value > low))
    if ok:
        return None
    what = "an integer" if integer else "a finite number"
    bound = f">= {low:g}" if inclusive else f"> {low:g}"
    return (f"HybridConfig.{name} must be {what} {bound}{' or None' if none else ''}, "
            f"got {value!r}")


def _check_fields(config: HybridConfig) -> None:
    """ValueError naming the first field (and the value) out of range."""
    for name, low in _INTS.items():
        error = _number_error(name, getattr(config, name), low, True, False, True)
        if error:
            raise ValueError(error)
    from nlp.config import check_embed_max_tokens  # here: importing nlp loads numpy

    check_embed_max_tokens(config.embed_max_tokens, "HybridConfig")
    for name, (low, inclusive, none) in _FLOATS.items():
        value = getattr(config, name)
        for item in value if isinstance(value, tuple) else (value,):
            error = _number_error(name, item, low, inclusive, none, False)
            if error:
                raise ValueError(error)
    for name, allowed in _CHOICES.items():
        value = getattr(config, name)
        for item in value if isinstance(value, tuple) else (value,):
            if item not in allowed:
                raise ValueError(f"HybridConfig.{name}: {item!r} is not one of {allowed}")


@dataclass(frozen=True)
class HybridConfig:
    """Hyper-parameters of the hybrid ranker (see :mod:`recommend.hybrid`).

    Validation (:mod:`recommend.hybrid.split`): each user with at least ``min_user_items``
    products reached through ``target_relations`` has ``holdout_fraction`` of them held
    out, by time or at random (``holdout_mode="auto"`` decides from the timestamps); the
    ``derived_relations`` the profile stage computed from interactions are recomputed on
    the training graph. When that split is not random, ``random_fold`` (opt-in) adds a
    second fold held out at random (on the size world it cost ~470 MB of peak memory, over
    the 2 GB budget, and ~+40% of the models stage); the CF family and the session
    window are tuned on ``tune_folds`` ("both": by the geometric mean). The validation
    users (at most ``max_fit_users``) are cut in two: the tuning and blend fitting use one
    part, and ``selection_share`` of them are kept apart to choose what is served among
    the blend, each component alone, and the popularity baseline (:mod:`recommend.hybrid.select`).

    CF (:mod:`recommend.hybrid.tune`): ``cf_model="auto"`` tries the ``cf_families``, each
    at its main hyper-parameter (``knn_weightings`` x ``knn_ks``, ``ease_lams`` when
    at most ``ease_max_items`` products have interactions, ``als_regs`` x ``als_alphas``),
    history models also at each of ``recency_taus`` (``exp(-rank_from_latest / tau)``,
    None: unweighted),
    within ``tune_budget_seconds``; the winner's settings replace the fixed ones
    (``cf_model``, ``ease_lam``, ``knn_*``, ``als_*``, ``cf_recency_tau``) when it beats the
    model those fixed ones name beyond twice the standard error of the paired per-user gain.
    EASE keeps each product's ``ease_keep`` largest weights (None: all; the artifact grows
    like n x keep).

    The ``session`` component counts what people took within ``session_window`` seconds
    (at most ``session_max_lag`` events) after a product, scored from the history weighted
    with ``session_recency_tau``; the best of ``session_tune_windows`` alone is kept.
    ``content_encoder`` embeds product text: the sentence-transformers model of
    ``embed_model`` (None: the packaged all-MiniLM-L6-v2; ``embed_int8``: its Linear layers
    quantised to int8 on the CPU, :func:`nlp.embed.quantized`), ``"lsa"`` (TF-IDF of hashed words
    + truncated SVD, no torch: quick, for small worlds and tests) or ``"none"``. Its FAISS
    index searches exactly below ``content_exact_threshold`` products (by default the index's
    own, :data:`recommend.exact_search.EXACT_THRESHOLD`), else approximately at
    ``content_target_recall`` (calibrated recall@10). Where the vision stage embedded product
    pictures, each of ``content_image_weights`` (the share of similarity from the picture,
    :func:`recommend.content.item_vectors`) is tried on the validation split; the best
    content-alone NDCG@k is kept if it beats text alone by more than twice the standard error
    of the paired per-user gain (:func:`recommend.hybrid.tune.tune_content_images`).
    Candidates are each component's top N: the smallest N of ``candidate_sizes`` whose
    pool holds ``candidate_recall`` of the validation items (else the largest).
    ``order_weight="agreed"`` serves the ``session`` component (order evidence) at the
    share of a linear blend that fits on the validation's latest and on its earlier held-out
    items both give it (:mod:`recommend.hybrid.order`); ``"fitted"`` keeps the fitted weight.
    ``path_normalize`` is the meta-path scorers' degree normalisation.
    ``path_min_share`` is the least share of an item's score (the sum of its positive parts)
    a shown path must carry: smaller ones are never shown (:mod:`recommend.paths.reasons`).
    It is a guard, not a tuned weight (every selection objective rises as it falls): 1% is
    the highest floor of a grid (2, 1.5, 1, 0.75, 0.5, 0.25%) at which ML-100K's validation
    users reach ETD 0.30 (:mod:`recommend.paths.select`).
    ``privacy_min_people`` is the fewest distinct people an aggregate explanation ("14 people
    who bought A also bought B") and the graph scorers' co-interaction and segment evidence
    may rest on; ``privacy_demographics`` lets gender and age segments feed the graph scorer
    (never a sentence) (:mod:`recommend.paths.privacy`).
    A marketer's audience for a product blends the hybrid's item column with the users'
    activity in its categories at weight ``audience_category_weight``; the build replaces it
    by the best of ``audience_category_weights`` on the validation split
    (:mod:`recommend.marketer.tune`; empty: keep the fixed one), and multiplies it by the
    users' take rate (a fitted return model, :mod:`recommend.marketer.propensity`) to the
    power ``audience_activity_weight`` (0: off); the build then chooses both weights from
    their grids (``audience_activity_weights``) on a time cut of its own graph
    (:mod:`recommend.marketer.cut_choice`; an empty grid keeps the value).
    """

    components: tuple[str, ...] = COMPONENTS
    # validation
    target_relations: tuple[str, ...] = ("purchased", "carted", "rated")
    holdout_fraction: float = 0.2
    holdout_mode: HoldoutMode = "auto"
    min_user_items: int = 3
    derived_relations: tuple[str, ...] = ("co_bought", "interested_in", "member_of")
    max_fit_users: int = 3000
    selection_share: float = 0.5
    # with usable timestamps, a second validation fold held out at random beside the
    # by-time one: the blend is fitted on both and the served ranker chosen over both
    random_fold: bool = False
    # the fold(s) the CF family and the session window are tuned on (recommend/hybrid/tune.py);
    # "both" (the geometric mean) chose EASE lam 1000 on ML-100K, where a random test ranks
    # lam 200 better (cf alone 0.4394 vs 0.4490; the served blend 0.4241, with its fitter
    # then chosen on rows not grouped by user); "first" served 0.4482 there
    tune_folds: TuneFolds = "first"
    # cf
    cf_model: CfModel = "auto"
    cf_families: tuple[str, ...] = ("itemknn", "ease", "als")
    cf_recency_tau: float | None = None
    recency_taus: tuple[float | None, ...] = (None, 5.0, 20.0)
    knn_weighting: str = "bm25"
    knn_k: int = 200
    knn_weightings: tuple[str, ...] = ("bm25", "cosine", "tfidf")
    knn_ks: tuple[int, ...] = (50, 200)
    ease_lam: float = 200.0
    ease_lams: tuple[float, ...] = (10.0, 50.0, 200.0, 1000.0)
    ease_max_items: int = 8000
    ease_keep: int | None = 500
    als_factors: int = 64
    als_iterations: int = 15
    als_reg: float = 10.0
    # the tuning tries als_regs x als_alphas: the good ALS settings lie on a ridge of reg
    # rising with alpha (test NDCG@10, demo-7 / dense demo-53 / ML-100K random: reg 10 at
    # alpha 0.5 0.308 / 0.340 / 0.419, reg 30 at alpha 2 0.264 / 0.387 / 0.460; reg 30 at
    # alpha 0.5 0.119 / 0.304 / 0.411); sparse data want reg 1 (Amazon 2023 histories)
    als_regs: tuple[float, ...] = (1.0, 10.0, 30.0)
    als_alpha: float = 1.0
    als_alphas: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0)
    als_offset: float = 1.0
    tune_budget_seconds: float = 90.0
    # session
    session_window: float = 3600.0
    session_tune_windows: tuple[float, ...] = (3600.0, 86400.0, 3 * 86400.0)
    session_max_lag: int = 50
    session_recency_tau: float | None = 10.0
    # content
    content_encoder: ContentEncoder = "sentence-transformers"
    embed_model: str | None = None
    # int8 embeds ~1.7x faster but content alone fell on ML-100K (NDCG@10 0.0155 -> 0.0115)
    # and on the size world's validation (0.0044 -> 0.0028): off until it keeps quality
    embed_int8: bool = False
    # at most this many word pieces of a product text reach the sentence model (None: its
    # own 256; nlp.NlpConfig.embed_max_tokens). 64 halves the size world's encoder CPU
    # (20.4 -> 9.9 ms/text) and lifted content alone (bench/generalise.py, NDCG@10: ML-100K
    # random 0.0155 -> 0.0183, time 0.0174 -> 0.0185; demo-7 0.0904 -> 0.0936, 0.1048 ->
    # 0.1095) with the hybrid within noise (ML-100K 0.4369 -> 0.4364, 0.2502 both; demo-7
    # 0.2947 -> 0.2948, 0.3307 -> 0.3284); Amazon's texts are mostly shorter than 64
    embed_max_tokens: int | None = 64
    lsa_dim: int = 64
    lsa_features: int = 2**18
    content_half_life_days: float | None = 60.0
    content_exact_threshold: int = EXACT_THRESHOLD
    content_target_recall: float = 0.95
    content_image_weights: tuple[float, ...] = (0.0, 0.25, 0.5)
    # candidates, paths, blend
    candidates_per_component: int = 30
    candidate_sizes: tuple[int, ...] = (30, 60, 120, 200)
    candidate_recall: float = 0.9
    path_normalize: Literal["row", "symmetric", "none"] = "row"
    normalisation: Normalisation = "minmax"
    grid: tuple[float, ...] = (0.0, 0.1, 0.25, 0.5, 2.0, 4.0)
    rounds: int = 3
    learned_ranker: bool = True
    # "agreed": the session's share of a linear blend lowered to what the mixed validation's
    # latest and earlier parts both give it (recommend/hybrid/order.py); off by default: on
    # ML-100K it lifts a random hold-out 0.437 -> 0.451 but drops a by-time one 0.250 -> 0.211
    order_weight: OrderWeight = "fitted"
    k: int = 10
    max_paths: int = 3
    # which paths are shown (recommend/paths/select.py): utility weights beside the share's 1
    path_recency_weight: float = 1.0
    path_specificity_weight: float = 0.5
    path_diversity_weight: float = 1.0
    path_pool: int = 10  # the largest instances of each meta-path the selection chooses among
    # no shown path carries less than this share of the item's score (recommend/paths/reasons.py)
    path_min_share: float = 0.01
    privacy_min_people: int = 5
    privacy_demographics: bool = False
    # the marketer's audience: (1 - b) * hybrid + b * category activity (recommend/marketer)
    audience_category_weight: float = 0.3
    audience_category_weights: tuple[float, ...] = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0)
    # times their take rate ** weight (0: off; chosen from the weights on a time cut)
    audience_activity_weight: float = 0.0
    audience_activity_weights: tuple[float, ...] = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)
    seed: int = 0

    def __post_init__(self) -> None:
        unknown = set(self.components) - set(COMPONENTS)
        if unknown:
            raise ValueError(f"unknown components {sorted(unknown)}; known: {COMPONENTS}")
        if not self.components:
            raise ValueError("HybridConfig needs at least one component")
        if not 0.0 < self.holdout_fraction < 1.0:
            raise ValueError(f"holdout_fraction must be in (0, 1), not {self.holdout_fraction}")
        _check_fields(self)
        for name in _SHARES:
            if getattr(self, name) >= 1.0:
                raise ValueError(f"HybridConfig.{name} must be below 1, got {getattr(self, name)}")
        if self.ease_keep is not None and self.ease_keep < 1:
            raise ValueError(f"HybridConfig.ease_keep must be None or >= 1, got {self.ease_keep}")
        if any(n < 1 for n in (*self.knn_ks, *self.candidate_sizes)):
            raise ValueError("HybridConfig.knn_ks and candidate_sizes must be >= 1")
        if self.content_target_recall > 1.0:
            raise ValueError("HybridConfig.content_target_recall must be at most 1, got "
                             f"{self.content_target_recall}")
        if any(w >= 1.0 for w in self.content_image_weights):
            raise ValueError("HybridConfig.content_image_weights must each be below 1, got "
                             f"{self.content_image_weights}")
        if any(b > 1.0 for b in (self.audience_category_weight,
                                 *self.audience_category_weights)):
            raise ValueError("HybridConfig.audience_category_weight(s) must be at most 1")
        if self.privacy_min_people < 1:
            raise ValueError("privacy_min_people must be at least 1")

    def cf_params(self) -> dict[str, Any]:
        """The fixed CF settings, as :meth:`recommend.hybrid.components.CfComponent.fit`
        takes them."""
        return {"lam": self.ease_lam, "keep": self.ease_keep,
                "recency_tau": self.cf_recency_tau,
                "weighting": self.knn_weighting, "neighbours": self.knn_k,
                "factors": self.als_factors, "iterations": self.als_iterations,
                "reg": self.als_reg, "alpha": self.als_alpha, "offset": self.als_offset,
                "seed": self.seed}

    def with_cf(self, kind: str, params: dict[str, Any]) -> HybridConfig:
        """This config with CF model ``kind`` fixed at ``params`` (of :meth:`cf_params`)."""
        return dataclasses.replace(
            self, cf_model=kind, ease_lam=params["lam"], cf_recency_tau=params["recency_tau"],
            knn_weighting=params["weighting"], knn_k=params["neighbours"],
            als_reg=params["reg"], als_alpha=params["alpha"])

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (tuples become lists)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> HybridConfig:
        """The defaults overridden by a TOML (``.toml``) or JSON file of field values;
        an unknown key or a bad value is a ValueError naming the file."""
        import json

        where = Path(path)
        try:
            text = where.read_text(encoding="utf-8")
            if where.suffix.lower() == ".toml":
                try:
                    import tomllib
                except ImportError:  # Python 3.10
                    raise ValueError(f"{where}: TOML needs Python 3.11+; give JSON") from None
                data = tomllib.loads(text)
            else:
                data = json.loads(text)
        except (OSError, UnicodeDecodeError, ValueError) as err:
            raise ValueError(f"{where}: not a readable TOML or JSON config ({err})") from None
        if not isinstance(data, dict):
            raise ValueError(f"{where}: a config is a table of HybridConfig fields")
        if retired := sorted(set(data) & set(RETIRED)):
            raise ValueError(f"{where}: {retired} no longer configure anything: "
                             + "; ".join(RETIRED[k] for k in retired))
        try:
            return cls.from_dict(data)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{where}: {err}") from None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HybridConfig:
        """The config of :meth:`to_dict` (unknown keys are an error naming them; the
        :data:`RETIRED` ones an older build recorded are dropped, so its artifact loads)."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names - set(RETIRED)
        if unknown:
            raise ValueError(f"unknown HybridConfig keys {sorted(unknown)}")
        fixed = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()
                 if k not in RETIRED}
        return cls(**fixed)
