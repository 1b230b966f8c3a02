"""HybridConfig: every hyper-parameter of the hybrid ranker, as plain data (JSON round-trip)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

CfModel = Literal["auto", "ease", "als"]
ContentEncoder = Literal["sentence-transformers", "lsa", "none"]
Normalisation = Literal["minmax", "zscore"]

#: Every component the ranker knows, in feature order.
COMPONENTS: tuple[str, ...] = ("cf", "session", "content", "graph", "social", "popularity")

#: Numeric fields: (lowest value, lowest allowed itself, None allowed). Tuple fields: each item.
_INTS: dict[str, int] = {"ease_max_items": 1, "als_factors": 1, "als_iterations": 1,
                         "session_max_lag": 1, "lsa_dim": 1, "lsa_features": 1,
                         "candidates_per_component": 1, "min_user_items": 1,
                         "max_fit_users": 1, "rounds": 1, "k": 1, "max_paths": 0, "seed": 0}
_FLOATS: dict[str, tuple[float, bool, bool]] = {
    "ease_lam": (0.0, False, False), "ease_recency_tau": (0.0, False, True),
    "cf_tune_lams": (0.0, False, False), "cf_tune_taus": (0.0, False, True),
    "cf_tune_als_regs": (0.0, True, False), "cf_tune_als_offsets": (0.0, True, False),
    "als_reg": (0.0, True, False), "als_alpha": (0.0, True, False),
    "als_offset": (0.0, True, False), "session_window": (0.0, False, False),
    "session_tune_windows": (0.0, False, False), "session_recency_tau": (0.0, False, True),
    "content_half_life_days": (0.0, False, True), "grid": (0.0, True, False),
}
_CHOICES: dict[str, tuple[str, ...]] = {
    "cf_model": get_args(CfModel), "content_encoder": get_args(ContentEncoder),
    "normalisation": get_args(Normalisation), "path_normalize": ("row", "symmetric", "none"),
    "cf_tune_models": ("ease", "als"),
}


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

    ``cf_model="auto"`` picks EASE up to ``ease_max_items`` products (its item x item matrix
    is dense), weighted ALS above; products nobody interacted with are left out of the
    count. ``ease_recency_tau`` weighs the history EASE scores by recency (None: no weighting).
    Non-empty ``cf_tune_lams`` / ``cf_tune_taus`` are tried on the validation split (CF alone,
    NDCG@k) and the best replace ``ease_lam`` / ``ease_recency_tau``; with "als" in
    ``cf_tune_models``, weighted ALS at each of ``cf_tune_als_regs`` x
    ``cf_tune_als_offsets`` (confidence ``offset + alpha * r``, :class:`cf.implicit_mf.
    WeightedALS`) competes too (the winner sets ``cf_model``).
    The ``session`` component counts what people took within ``session_window`` seconds
    (at most ``session_max_lag`` events) after a product, scored from the history weighted
    with ``session_recency_tau`` (:mod:`recommend.hybrid.session`); the window of
    ``session_tune_windows`` that ranks best alone on the validation split replaces it.
    ``content_encoder`` embeds product text: the sentence-transformers model of
    ``embed_model`` (None: the packaged all-MiniLM-L6-v2),
    ``"lsa"`` (TF-IDF of hashed words + truncated SVD, no torch: quick, for small worlds and
    tests) or ``"none"``. Validation holds out each user's latest ``holdout_fraction`` of the
    products they reached through ``target_relations`` (at least one, for users with at least
    ``min_user_items``); ``path_normalize`` is the meta-path scorers' degree normalisation
    (:mod:`recommend.paths.metapaths`); the ``derived_relations`` the profile stage computed from
    interactions are recomputed on the validation training graph (of ``member_of`` only the
    cluster segments: the build's demographic segments are knowledge and stay).
    """

    components: tuple[str, ...] = COMPONENTS
    cf_model: CfModel = "auto"
    ease_lam: float = 200.0
    ease_recency_tau: float | None = None
    cf_tune_lams: tuple[float, ...] = ()
    cf_tune_taus: tuple[float | None, ...] = ()
    cf_tune_models: tuple[str, ...] = ("ease",)
    cf_tune_als_regs: tuple[float, ...] = ()
    cf_tune_als_offsets: tuple[float, ...] = ()
    ease_max_items: int = 20_000
    als_factors: int = 64
    als_iterations: int = 15
    als_reg: float = 0.05
    als_alpha: float = 5.0
    als_offset: float = 1.0
    session_window: float = 3600.0
    session_tune_windows: tuple[float, ...] = (3600.0, 86400.0, 3 * 86400.0)
    session_max_lag: int = 50
    session_recency_tau: float | None = 10.0
    content_encoder: ContentEncoder = "sentence-transformers"
    embed_model: str | None = None
    lsa_dim: int = 64
    lsa_features: int = 2**18
    content_half_life_days: float | None = 60.0
    candidates_per_component: int = 30
    path_normalize: Literal["row", "symmetric", "none"] = "row"
    normalisation: Normalisation = "minmax"
    target_relations: tuple[str, ...] = ("purchased", "carted", "rated")
    holdout_fraction: float = 0.2
    derived_relations: tuple[str, ...] = ("co_bought", "interested_in", "member_of")
    min_user_items: int = 3
    max_fit_users: int = 3000
    grid: tuple[float, ...] = (0.0, 0.1, 0.25, 0.5, 2.0, 4.0)
    rounds: int = 3
    learned_ranker: bool = True
    k: int = 10
    max_paths: int = 3
    seed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.components) - set(COMPONENTS)
        if unknown:
            raise ValueError(f"unknown components {sorted(unknown)}; known: {COMPONENTS}")
        if not self.components:
            raise ValueError("HybridConfig needs at least one component")
        if not 0.0 < self.holdout_fraction < 1.0:
            raise ValueError(f"holdout_fraction must be in (0, 1), not {self.holdout_fraction}")
        _check_fields(self)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (tuples become lists)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HybridConfig:
        """The config of :meth:`to_dict` (unknown keys are an error naming them)."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown HybridConfig keys {sorted(unknown)}")
        fixed = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**fixed)
