"""The sections of :class:`recommend.hybrid.config.HybridConfig`, one per thing they configure.

Each field is declared once, with its default and its allowed values (:func:`number`,
:func:`choice`); a section checks them all when it is made, and a bad value is a ValueError
naming ``HybridConfig.<section>.<field>`` and the value. The docstring of
:class:`~recommend.hybrid.config.HybridConfig` says what each field does.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, get_args

from recommend.exact_search import EXACT_THRESHOLD

CfModel = Literal["auto", "ease", "als", "itemknn"]
HoldoutMode = Literal["auto", "time", "random", "mixed"]
ContentEncoder = Literal["sentence-transformers", "lsa", "none"]
Normalisation = Literal["minmax", "zscore"]
OrderWeight = Literal["fitted", "agreed"]
TuneFolds = Literal["first", "both"]
PathNormalize = Literal["row", "symmetric", "none"]
CF_FAMILIES: tuple[str, ...] = ("itemknn", "ease", "als")
KNN_WEIGHTINGS: tuple[str, ...] = ("bm25", "cosine", "tfidf")


@dataclass(frozen=True)
class _Bound:
    low: float
    low_inclusive: bool
    high: float | None = None
    high_inclusive: bool = True
    none: bool = False
    integer: bool = False

    def error(self, name: str, value: object) -> str | None:
        """Why ``value`` does not fit, or None."""
        if value is None and self.none:
            return None
        kind = int if self.integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kind) or not math.isfinite(value):
            return self._expected(name, value)
        if value < self.low or (value == self.low and not self.low_inclusive):
            return self._expected(name, value)
        if self.high is not None and (value > self.high
                                      or (value == self.high and not self.high_inclusive)):
            return (f"{name} must be {'at most' if self.high_inclusive else 'below'} "
                    f"{self.high:g}, got {value!r}")
        return None

    def _expected(self, name: str, value: object) -> str:
        what = "an integer" if self.integer else "a finite number"
        bound = f">= {self.low:g}" if self.low_inclusive else f"> {self.low:g}"
        return f"{name} must be {what} {bound}{' or None' if self.none else ''}, got {value!r}"


def number(default: Any, low: float = 0.0, *, inclusive: bool = False, integer: bool = False,
           none: bool = False, high: float | None = None, high_inclusive: bool = True) -> Any:
    """A numeric field (or a tuple of numbers, each checked) with its bounds."""
    bound = _Bound(low, inclusive or integer, high, high_inclusive, none, integer)
    return field(default=default, metadata={"bound": bound})


def choice(default: Any, allowed: tuple[str, ...]) -> Any:
    """A field (or a tuple of them) whose values are among ``allowed``."""
    return field(default=default, metadata={"allowed": allowed})


@dataclass(frozen=True)
class Section:
    """Checks every bounded or chosen field of a section (or of the config's top level,
    ``NAME`` empty) when it is made."""

    NAME: ClassVar[str] = ""

    def __post_init__(self) -> None:
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            name = ".".join(part for part in ("HybridConfig", self.NAME, item.name) if part)
            for one in value if isinstance(value, tuple) else (value,):
                if (bound := item.metadata.get("bound")) and (error := bound.error(name, one)):
                    raise ValueError(error)
                if (allowed := item.metadata.get("allowed")) and one not in allowed:
                    raise ValueError(f"{name}: {one!r} is not one of {allowed}")


@dataclass(frozen=True)
class SplitConfig(Section):
    """The validation split (:mod:`recommend.hybrid.split`) and what it is cut into."""

    NAME: ClassVar[str] = "split"
    target_relations: tuple[str, ...] = ("purchased", "carted", "rated")
    holdout_fraction: float = number(0.2, high=1.0, high_inclusive=False)
    holdout_mode: HoldoutMode = choice("auto", get_args(HoldoutMode))
    # 2, as `shopgraph evaluate` and the benches hold out: at 3, a thinned posts-heavy
    # world (bench/shapes.py) had 12 users with 3+ clicks, so the validation widened its
    # targets to views, which no test judges, and chose popularity or a blend that tested
    # NDCG@10 0.067-0.257 at random (three test draws); at 2 it judged clicks as the test
    # does: 0.171-0.306 (social alone 0.144-0.239)
    min_user_items: int = number(2, 1, integer=True)
    derived_relations: tuple[str, ...] = ("co_bought", "interested_in", "member_of")
    max_fit_users: int = number(3000, 1, integer=True)
    selection_share: float = number(0.5, inclusive=True, high=1.0, high_inclusive=False)
    # where too few validation users can be set apart, the blend is judged cross-fitted over
    # this many parts of them (recommend/hybrid/select.py: cross_fit_parts). Where a selection
    # fold can be set apart it is kept: cross-fitting every validation user there chose the
    # same on demo-9 (99 users) and bench/shapes.py's posts-heavy (40), and on ML-100K random
    # served the blend (test NDCG@10 0.4513) where the fold served cf (0.4592), for 7x the
    # CPU time of the choice (8 -> 58 s). Session 23 (selection_share 0.01: all cross-fitted):
    # Fashion served graph alone 0.9446 -> 0.9503 (cf alone 0.9640), Beauty the same 0.9275,
    # ML-100K random 0.4455 -> 0.4359 (its CF tuning, in-sample, kept EASE over ALS)
    cross_fit_parts: int = number(5, 2, integer=True)
    # Session 24, from the recorded rows (not built): serving something nearer cf alone
    # where the selection users cannot tell it from the blend (select.choose_served) would
    # mend Fashion (selection: blend 0.7514, cf 0.7510; test 0.9446 vs cf 0.9640), ML-100K and
    # ratings-explicit at random (cf ahead 0.7 and 0.3 SE; tests -0.005 and -0.026 for the
    # blend), but the same near ties hold where the blend tests far better: ciao (blend +0.1 SE;
    # test 0.0472 vs 0.0396), ratings-explicit and control by time (cf +0.2 and +0.1 SE; 0.1934
    # vs 0.1732, 0.4262 vs 0.3436), demo-9 by time (cf +1.1 SE; 0.3601 vs 0.3257). The rows
    # move with the build's seed (the selection fold's draw): Fashion at seeds 1-5 0.9544,
    # 0.9449, 0.9610, 0.9476, 0.9616 (seed 0 the lowest, 0.9446); ML-100K at random 0.4373 and
    # 0.4371 at seeds 1-2 against cf alone's 0.4491 (-4.3 SE), the selection putting the blend
    # ahead: by time the blend leads every part, so no choice among the rankers meets both
    # with usable timestamps, a second validation fold held out at random beside the
    # by-time one: the blend is fitted on both and the served ranker chosen over both
    random_fold: bool = False
    # the fold(s) the CF family and the session window are tuned on (recommend/hybrid/tune.py);
    # "both" (the geometric mean) chose EASE lam 1000 on ML-100K, where a random test ranks
    # lam 200 better (cf alone 0.4394 vs 0.4490; the served blend 0.4241, with its fitter
    # then chosen on rows not grouped by user); "first" served 0.4482 there
    tune_folds: TuneFolds = choice("first", get_args(TuneFolds))


@dataclass(frozen=True)
class CfConfig(Section):
    """The collaborative-filtering model and the grid it is tuned over."""

    NAME: ClassVar[str] = "cf"
    model: CfModel = choice("auto", get_args(CfModel))
    families: tuple[str, ...] = choice(CF_FAMILIES, CF_FAMILIES)
    recency_tau: float | None = number(None, none=True)
    recency_taus: tuple[float | None, ...] = number((None, 5.0, 20.0), none=True)
    knn_weighting: str = choice("bm25", KNN_WEIGHTINGS)
    knn_k: int = number(200, 1, integer=True)
    knn_weightings: tuple[str, ...] = choice(KNN_WEIGHTINGS, KNN_WEIGHTINGS)
    knn_ks: tuple[int, ...] = number((50, 200), 1, integer=True)
    ease_lam: float = number(200.0)
    ease_lams: tuple[float, ...] = number((10.0, 50.0, 200.0, 1000.0))
    ease_max_items: int = number(8000, 1, integer=True)
    # each product's largest EASE weights kept (cf/ease.py; dense where 2 x keep >= n): at 500,
    # bench/shapes.py's ratings-explicit (1,682 products) scored cf alone 0.3748 / 0.1813
    # (random / by time) where the dense EASE peer scored 0.3761 / 0.1832
    ease_keep: int | None = number(1000, 1, integer=True, none=True)
    als_factors: int = number(64, 1, integer=True)
    als_iterations: int = number(15, 1, integer=True)
    als_reg: float = number(10.0, inclusive=True)
    # the tuning tries als_regs x als_alphas: the good ALS settings lie on a ridge of reg
    # rising with alpha (test NDCG@10, demo-7 / dense demo-53 / ML-100K random: reg 10 at
    # alpha 0.5 0.308 / 0.340 / 0.419, reg 30 at alpha 2 0.264 / 0.387 / 0.460; reg 30 at
    # alpha 0.5 0.119 / 0.304 / 0.411); sparse data want reg 1 (Amazon 2023 histories)
    als_regs: tuple[float, ...] = number((1.0, 10.0, 30.0), inclusive=True)
    als_alpha: float = number(1.0, inclusive=True)
    als_alphas: tuple[float, ...] = number((0.5, 1.0, 2.0, 4.0), inclusive=True)
    als_offset: float = number(1.0, inclusive=True)
    tune_budget_seconds: float = number(90.0, inclusive=True)
    # standard errors of the paired per-user gain on the selection users that another CF
    # family must clear to replace the tuning's choice (select.confirm_tuned,
    # select.confirm_by_blend). Generalise rows, the sign -> 1 SE: Fashion 0.9371 -> 0.9446,
    # demo-7 at random 0.3038 -> 0.3228 (ALS kept, not item-kNN's blend 0.5 SE ahead), the
    # rest unchanged; 2 SE: Fashion 0.9446, Beauty+Fashion 0.9526 -> 0.9500, demo-7
    # 0.3107 / 0.3489 (random / by time; 1 SE: 0.3228 / 0.3707), demo-9 random 0.3222 (0.3303).
    # Shapes at the sign: bare-catalogue random 0.3602, equal-timestamps 0.3505, engagement-only
    # random 0.2962 (1 SE: 0.3371 / 0.3287 / 0.2865; 2.1 / 1.2 / 1.2 test SE); ML-100K random
    # at 2 SE 0.4351 (0: 0.4407): the switches that paid lay at 0.1-1.8 SE, those that cost
    # at 0.5-0.7 SE (demo-7, Fashion), each within ~2 test SE: kept at 1
    switch_se: float = number(1.0, inclusive=True)


@dataclass(frozen=True)
class SessionConfig(Section):
    """The session component: what people take soon after a product."""

    NAME: ClassVar[str] = "session"
    window: float = number(3600.0)
    tune_windows: tuple[float, ...] = number((3600.0, 86400.0, 3 * 86400.0))
    max_lag: int = number(50, 1, integer=True)
    recency_tau: float | None = number(10.0, none=True)


@dataclass(frozen=True)
class ContentConfig(Section):
    """Product text (and picture) vectors and their FAISS search."""

    NAME: ClassVar[str] = "content"
    encoder: ContentEncoder = choice("sentence-transformers", get_args(ContentEncoder))
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
    lsa_dim: int = number(64, 1, integer=True)
    lsa_features: int = number(2**18, 1, integer=True)
    half_life_days: float | None = number(60.0, none=True)
    exact_threshold: int = number(EXACT_THRESHOLD, 1, integer=True)
    target_recall: float = number(0.95, high=1.0)
    image_weights: tuple[float, ...] = number((0.0, 0.25, 0.5), inclusive=True, high=1.0,
                                              high_inclusive=False)
    # how many times the pictures are shuffled among the products for the control a picture
    # weight must beat (recommend.hybrid.image_weight)
    image_shuffles: int = number(9, 1, integer=True, high=50)
    # each product's nearest products in text, stored as described_like edges
    # (recommend.content.neighbours): how many (0: none) and the least cosine
    neighbours: int = number(20, 0, integer=True, high=100)
    neighbour_floor: float = number(0.4, inclusive=True, high=1.0)

    def __post_init__(self) -> None:
        super().__post_init__()
        from nlp.config import check_embed_max_tokens  # here: importing nlp loads numpy

        check_embed_max_tokens(self.embed_max_tokens, "HybridConfig.content")


@dataclass(frozen=True)
class BlendConfig(Section):
    """The candidate pool and how the components' scores are blended."""

    NAME: ClassVar[str] = "blend"
    candidates_per_component: int = number(30, 1, integer=True)
    candidate_sizes: tuple[int, ...] = number((30, 60, 120, 200), 1, integer=True)
    candidate_recall: float = number(0.9, inclusive=True, high=1.0, high_inclusive=False)
    # per component of HybridConfig.components (in its order), its own N in place of
    # candidates_per_component; () for none (recommend/hybrid/quotas.py sizes them)
    candidate_quotas: tuple[int, ...] = number((), 1, integer=True)
    # the most candidates the quotas (from the uniform size up, until candidate_recall) may
    # give a request in all (recommend/hybrid/quotas.py: ~0.5 us of request CPU a slot on the
    # size world); 0: the largest of candidate_sizes for each component, the uniform pool
    # (the default: 5,000 slots reached 90% recall and bought no NDCG, quotas.py)
    candidate_budget: int = number(0, 0, integer=True)
    normalisation: Normalisation = choice("minmax", get_args(Normalisation))
    grid: tuple[float, ...] = number((0.0, 0.1, 0.25, 0.5, 2.0, 4.0), inclusive=True)
    rounds: int = number(3, 1, integer=True)
    learned_ranker: bool = True
    # "agreed": the session's share of a linear blend lowered to what the mixed validation's
    # latest and earlier parts both give it (recommend/hybrid/order.py); off by default: on
    # ML-100K it lifts a random hold-out 0.437 -> 0.451 but drops a by-time one 0.250 -> 0.211
    order_weight: OrderWeight = choice("fitted", get_args(OrderWeight))


@dataclass(frozen=True)
class PathsConfig(Section):
    """The meta-path scorers and which paths are shown (:mod:`recommend.paths.select`)."""

    NAME: ClassVar[str] = "paths"
    normalize: PathNormalize = choice("row", get_args(PathNormalize))
    max_paths: int = number(3, 0, integer=True)
    # utility weights beside the share's 1
    recency_weight: float = number(1.0, inclusive=True)
    specificity_weight: float = number(0.5, inclusive=True)
    diversity_weight: float = number(1.0, inclusive=True)
    pool: int = number(10, 1, integer=True)  # the largest instances of each meta-path chosen among
    # no shown path carries less than this share of the item's score (recommend/paths/reasons.py)
    min_share: float = number(0.01, inclusive=True, high=1.0, high_inclusive=False)
    # the graph component also walks bought/rated/liked>described_like (content neighbours):
    # off, it lowered Amazon 2023's hybrid by time (recommend.paths.metapaths.catalogue)
    described_like: bool = False


@dataclass(frozen=True)
class PrivacyConfig(Section):
    """What aggregate evidence may rest on (:mod:`recommend.paths.privacy`)."""

    NAME: ClassVar[str] = "privacy"
    min_people: int = number(5, 1, integer=True)
    demographics: bool = False


@dataclass(frozen=True)
class AudienceConfig(Section):
    """A marketer's audience for a product (:mod:`recommend.marketer`)."""

    NAME: ClassVar[str] = "audience"
    # (1 - b) * hybrid + b * category activity
    category_weight: float = number(0.3, inclusive=True, high=1.0)
    category_weights: tuple[float, ...] = number((0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0),
                                                 inclusive=True, high=1.0)
    # times their take rate ** weight (0: off; chosen from the weights on a time cut)
    activity_weight: float = number(0.0, inclusive=True)
    activity_weights: tuple[float, ...] = number((0.0, 0.25, 0.5, 1.0, 2.0, 4.0),
                                                 inclusive=True)


SECTIONS: dict[str, type[Section]] = {
    cls.NAME: cls for cls in (SplitConfig, CfConfig, SessionConfig, ContentConfig, BlendConfig,
                              PathsConfig, PrivacyConfig, AudienceConfig)}
