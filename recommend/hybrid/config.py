"""HybridConfig: every hyper-parameter of the hybrid ranker, in sections by what they
configure (:mod:`recommend.hybrid.config_sections`), as plain data (JSON round-trip)."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recommend.hybrid.config_sections import (
    SECTIONS,
    AudienceConfig,
    BlendConfig,
    CfConfig,
    ContentConfig,
    PathsConfig,
    PrivacyConfig,
    Section,
    SessionConfig,
    SplitConfig,
    number,
)

#: Every component the ranker knows, in feature order.
COMPONENTS: tuple[str, ...] = ("cf", "session", "content", "graph", "social", "popularity")

#: The flat field names of configs before the sections, each with its
#: (section, field): an artifact or a config file that uses them still loads.
FLAT_NAMES: dict[str, tuple[str, str]] = {
    **{name: ("split", name) for name in (
        "target_relations", "holdout_fraction", "holdout_mode", "min_user_items",
        "derived_relations", "max_fit_users", "selection_share", "random_fold", "tune_folds")},
    "cf_model": ("cf", "model"), "cf_families": ("cf", "families"),
    "cf_recency_tau": ("cf", "recency_tau"), "recency_taus": ("cf", "recency_taus"),
    **{name: ("cf", name) for name in (
        "knn_weighting", "knn_k", "knn_weightings", "knn_ks", "ease_lam", "ease_lams",
        "ease_max_items", "ease_keep", "als_factors", "als_iterations", "als_reg", "als_regs",
        "als_alpha", "als_alphas", "als_offset", "tune_budget_seconds")},
    "session_window": ("session", "window"), "session_tune_windows": ("session", "tune_windows"),
    "session_max_lag": ("session", "max_lag"), "session_recency_tau": ("session", "recency_tau"),
    "content_encoder": ("content", "encoder"),
    **{name: ("content", name) for name in (
        "embed_model", "embed_int8", "embed_max_tokens", "lsa_dim", "lsa_features")},
    "content_half_life_days": ("content", "half_life_days"),
    "content_exact_threshold": ("content", "exact_threshold"),
    "content_target_recall": ("content", "target_recall"),
    "content_image_weights": ("content", "image_weights"),
    **{name: ("blend", name) for name in (
        "candidates_per_component", "candidate_sizes", "candidate_recall", "candidate_quotas",
        "candidate_budget", "normalisation", "grid", "rounds", "learned_ranker", "order_weight")},
    "path_normalize": ("paths", "normalize"), "max_paths": ("paths", "max_paths"),
    "path_recency_weight": ("paths", "recency_weight"),
    "path_specificity_weight": ("paths", "specificity_weight"),
    "path_diversity_weight": ("paths", "diversity_weight"), "path_pool": ("paths", "pool"),
    "path_min_share": ("paths", "min_share"),
    "privacy_min_people": ("privacy", "min_people"),
    "privacy_demographics": ("privacy", "demographics"),
    "audience_category_weight": ("audience", "category_weight"),
    "audience_category_weights": ("audience", "category_weights"),
    "audience_activity_weight": ("audience", "activity_weight"),
    "audience_activity_weights": ("audience", "activity_weights"),
}
#: Fields earlier versions had, and why they went: an artifact that recorded one still loads.
RETIRED: dict[str, str] = {
    key: "the audience's take rate is a fitted return model, not a decay "
         "(recommend/marketer/propensity.py)"
    for key in ("audience_activity_tau", "audience_activity_taus")}


@dataclass(frozen=True)
class HybridConfig(Section):
    """Hyper-parameters of the hybrid ranker (see :mod:`recommend.hybrid`), by section.

    ``split`` (:mod:`recommend.hybrid.split`): each user with at least ``min_user_items``
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
    Where fewer than 20 users would be on either side, none is set apart: the blend is
    judged cross-fitted (each of ``cross_fit_parts`` parts of the users scored by a blend
    fitted on the others) and the tuning on the users it was tuned on.

    ``cf`` (:mod:`recommend.hybrid.tune`): ``model="auto"`` tries the ``families``, each
    at its main hyper-parameter (``knn_weightings`` x ``knn_ks``, ``ease_lams`` when
    at most ``ease_max_items`` products have interactions, ``als_regs`` x ``als_alphas``),
    history models also at each of ``recency_taus`` (``exp(-rank_from_latest / tau)``,
    None: unweighted), within ``tune_budget_seconds`` of CPU time; the winner's settings replace the
    fixed ones (``model``, ``ease_lam``, ``knn_*``, ``als_*``, ``recency_tau``) when its
    paired per-user gain over the model those fixed ones name is above 0 on the selection
    users, who took no part in the tuning, above ``switch_se`` standard errors for another
    family (with none set apart: beyond twice its standard error on the tuning users;
    :func:`recommend.hybrid.select.confirm_tuned`); ``switch_se`` is also the bar of a
    family switch by the blend (:func:`recommend.hybrid.select.confirm_by_blend`). EASE keeps each
    product's ``ease_keep`` largest weights (None, or at least half the products: all, dense;
    the artifact grows like n x keep).

    ``session`` counts what people took within ``window`` seconds (at most ``max_lag``
    events) after a product, scored from the history weighted with ``recency_tau``; the best
    of ``tune_windows`` alone is kept.

    ``content``: ``encoder`` embeds product text: the sentence-transformers model of
    ``embed_model`` (None: the packaged all-MiniLM-L6-v2; ``embed_int8``: its Linear layers
    quantised to int8 on the CPU, :func:`nlp.embed.quantized`), ``"lsa"`` (TF-IDF of hashed
    words + truncated SVD, no torch: quick, for small worlds and tests) or ``"none"``. Its
    FAISS index searches exactly below ``exact_threshold`` products (by default the index's
    own, :data:`recommend.exact_search.EXACT_THRESHOLD`), else approximately at
    ``target_recall`` (calibrated recall@10). Where the vision stage embedded product
    pictures, each of ``image_weights`` (the share of similarity from the picture,
    :func:`recommend.content.item_vectors`) is tried on the validation split's training
    graph, each user's products left out in turn; the best content-alone NDCG@k is kept if
    it is above text alone's and the pictures beat ``image_shuffles`` shuffles of them among
    the products by more than twice the standard error of the paired per-user gain
    (:func:`recommend.hybrid.image_weight.tune_content_images`).

    ``blend``: candidates are each component's top N: the smallest N of ``candidate_sizes``
    whose pool holds ``candidate_recall`` of the validation items (else the largest), or
    where ``candidate_quotas`` gives one per component (of ``components``, in order), its
    own: the build sizes them by each component's recall until the pool holds
    ``candidate_recall``, within ``candidate_budget`` candidates in all (a cap; 0, the
    default: the largest uniform pool) (:mod:`recommend.hybrid.quotas`).
    ``order_weight="agreed"`` serves the ``session`` component (order evidence) at the
    share of a linear blend that fits on the validation's latest and on its earlier held-out
    items both give it (:mod:`recommend.hybrid.order`); ``"fitted"`` keeps the fitted weight.

    ``paths``: ``normalize`` is the meta-path scorers' degree normalisation. ``min_share``
    is the least share of an item's score (the sum of its positive parts) a shown path must
    carry: smaller ones are never shown (:mod:`recommend.paths.reasons`). It is a guard, not
    a tuned weight (every selection objective rises as it falls): 1% is the highest floor of
    a grid (2, 1.5, 1, 0.75, 0.5, 0.25%) at which ML-100K's validation users reach ETD 0.30
    (:mod:`recommend.paths.select`).

    ``privacy``: ``min_people`` is the fewest distinct people an aggregate explanation
    ("14 people who bought A also bought B") and the graph scorers' co-interaction and
    segment evidence may rest on; ``demographics`` lets gender and age segments feed the
    graph scorer (never a sentence) (:mod:`recommend.paths.privacy`).

    ``audience``: a marketer's audience for a product blends the hybrid's item column with
    the users' activity in its categories at weight ``category_weight``; the build replaces
    it by the best of ``category_weights`` on the validation split
    (:mod:`recommend.marketer.tune`; empty: keep the fixed one), and multiplies it by the
    users' take rate (a fitted return model, :mod:`recommend.marketer.propensity`) to the
    power ``activity_weight`` (0: off); the build then chooses both weights from their grids
    (``activity_weights``) on a time cut of its own graph
    (:mod:`recommend.marketer.cut_choice`; an empty grid keeps the value).

    ``k`` is the cut-off of the validation's NDCG@k and ``seed`` seeds every random choice.
    """

    components: tuple[str, ...] = COMPONENTS
    k: int = number(10, 1, integer=True)
    seed: int = number(0, 0, integer=True)
    split: SplitConfig = field(default_factory=SplitConfig)
    cf: CfConfig = field(default_factory=CfConfig)
    session: SessionConfig = field(default_factory=SessionConfig)
    content: ContentConfig = field(default_factory=ContentConfig)
    blend: BlendConfig = field(default_factory=BlendConfig)
    paths: PathsConfig = field(default_factory=PathsConfig)
    privacy: PrivacyConfig = field(default_factory=PrivacyConfig)
    audience: AudienceConfig = field(default_factory=AudienceConfig)

    def __post_init__(self) -> None:
        super().__post_init__()  # k, seed
        unknown = set(self.components) - set(COMPONENTS)
        if unknown:
            raise ValueError(f"unknown components {sorted(unknown)}; known: {COMPONENTS}")
        if not self.components:
            raise ValueError("HybridConfig needs at least one component")
        for name, cls in SECTIONS.items():
            if not isinstance(getattr(self, name), cls):
                raise TypeError(f"HybridConfig.{name} must be a {cls.__name__}, "
                                f"got {type(getattr(self, name)).__name__}")

    def cf_params(self) -> dict[str, Any]:
        """The fixed CF settings, as :meth:`recommend.hybrid.components.CfComponent.fit`
        takes them."""
        cf = self.cf
        return {"lam": cf.ease_lam, "keep": cf.ease_keep, "recency_tau": cf.recency_tau,
                "weighting": cf.knn_weighting, "neighbours": cf.knn_k,
                "factors": cf.als_factors, "iterations": cf.als_iterations,
                "reg": cf.als_reg, "alpha": cf.als_alpha, "offset": cf.als_offset,
                "seed": self.seed}

    def with_cf(self, kind: str, params: dict[str, Any]) -> HybridConfig:
        """This config with CF model ``kind`` fixed at ``params`` (of :meth:`cf_params`)."""
        return self.updated(cf={
            "model": kind, "ease_lam": params["lam"], "recency_tau": params["recency_tau"],
            "knn_weighting": params["weighting"], "knn_k": params["neighbours"],
            "als_reg": params["reg"], "als_alpha": params["alpha"]})

    def updated(self, **changes: Any) -> HybridConfig:
        """This config with ``changes``: a top-level field's new value, or for a section a
        dict of its fields' new values (``config.updated(cf={"model": "als"}, k=5)``)."""
        fixed: dict[str, Any] = {}
        for name, value in changes.items():
            if name in SECTIONS:
                fixed[name] = _section(name, getattr(self, name), value)
            elif name in ("components", "k", "seed"):
                fixed[name] = value
            else:
                raise ValueError(f"unknown HybridConfig field {name!r}; sections: "
                                 f"{sorted(SECTIONS)}")
        return dataclasses.replace(self, **fixed)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict, one table per section (tuples become lists)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> HybridConfig:
        """The defaults overridden by a TOML (``.toml``) or JSON file of values, a table per
        section (``[cf]`` ``model = "als"``); an unknown key or a bad value is a ValueError
        naming the file."""
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
            raise ValueError(f"{where}: a config is a table of HybridConfig sections")
        if retired := sorted(set(data) & set(RETIRED)):
            raise ValueError(f"{where}: {retired} no longer configure anything: "
                             + "; ".join(RETIRED[k] for k in retired))
        try:
            return cls.from_dict(data)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{where}: {err}") from None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HybridConfig:
        """The config of :meth:`to_dict`. Unknown keys are an error naming them; the flat
        names of older versions (:data:`FLAT_NAMES`) are read into their sections, and the
        :data:`RETIRED` ones an older build recorded are dropped, so its artifact loads."""
        nested: dict[str, Any] = {}
        for key, value in data.items():
            if key in RETIRED:
                continue
            if key in FLAT_NAMES:
                section, name = FLAT_NAMES[key]
                nested.setdefault(section, {})[name] = value
            elif key in SECTIONS:
                if not isinstance(value, dict):
                    raise ValueError(f"HybridConfig.{key} must be a table of its fields, "
                                     f"got {value!r}")
                nested.setdefault(key, {}).update(value)
            elif key in ("components", "k", "seed"):
                nested[key] = tuple(value) if isinstance(value, list) else value
            else:
                raise ValueError(f"unknown HybridConfig keys [{key!r}]; sections: "
                                 f"{sorted(SECTIONS)}")
        return cls().updated(**nested)


def _section(name: str, current: Any, changes: dict[str, Any]) -> Any:
    """Section ``current`` with ``changes`` (lists become tuples); unknown keys named."""
    if not isinstance(changes, dict):
        raise ValueError(f"HybridConfig.{name} changes must be a dict, got {changes!r}")
    known = {f.name for f in dataclasses.fields(current)}
    if unknown := sorted(set(changes) - known):
        raise ValueError(f"unknown HybridConfig.{name} keys {unknown}; known: {sorted(known)}")
    return dataclasses.replace(current, **{
        key: tuple(value) if isinstance(value, list) else value
        for key, value in changes.items()})
