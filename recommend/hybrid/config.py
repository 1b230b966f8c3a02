"""HybridConfig: every hyper-parameter of the hybrid ranker, as plain data (JSON round-trip)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

CfModel = Literal["auto", "ease", "als"]
ContentEncoder = Literal["sentence-transformers", "lsa", "none"]
Normalisation = Literal["minmax", "zscore"]

#: Every component the ranker knows, in feature order.
COMPONENTS: tuple[str, ...] = ("cf", "session", "content", "graph", "social", "popularity")


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
    ``privacy_min_people`` is the fewest distinct people an aggregate explanation ("14 people
    who bought A also bought B") and the graph scorers' co-interaction and segment evidence
    may rest on; ``privacy_demographics`` lets gender and age segments feed the graph scorer
    (never a sentence) (:mod:`recommend.paths.privacy`).
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
    privacy_min_people: int = 5
    privacy_demographics: bool = False
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
        if self.candidates_per_component < 1:
            raise ValueError("candidates_per_component must be at least 1")
        if self.privacy_min_people < 1:
            raise ValueError("privacy_min_people must be at least 1")

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
