"""Per-user profiles: interests, spending power, brand preference, activity, influence.

All users at once, as matrix algebra over :class:`~recommend.profiles.inputs.ProfileInputs`:

- interests: the user's event weights pushed through product → category (with ancestors),
  product → brand, and post → concept, each block normalised to shares summing to 1;
- spending power: the mean price percentile of the user's purchases (of every product they
  interacted with, weighted, when they bought nothing; NaN with no priced item). A price's
  percentile is taken within its leaf category: a dear pair of socks says more about a
  budget than a cheap television, which still outprices it;
- brand preference: brand shares; ``brand_loyalty`` is the top brand's share;
- activity: log(1 + events) and distinct active days; influence: the mean percentile of
  followers and of engagement received on the user's posts;
- embedding: set by :mod:`recommend.profiles.autoencoder` when requested.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from recommend.profiles.inputs import ProfileInputs

SCALARS: tuple[str, ...] = (
    "spending_power",
    "brand_loyalty",
    "activity",
    "active_days",
    "influence",
)


@dataclass(frozen=True, slots=True)
class Interest:
    """A weighted interest: a category, brand or concept node id."""

    node_id: str
    weight: float


@dataclass(frozen=True)
class UserProfile:
    """One user's profile (see the module docstring for how each figure is made)."""

    user_id: str
    categories: list[Interest]
    brands: list[Interest]
    concepts: list[Interest]
    spending_power: float | None  # None when nothing the user touched has a price
    spending_basis: str  # "purchases", "interactions" or "none"
    brand_loyalty: float
    activity: float
    active_days: float
    influence: float
    embedding: list[float] = field(default_factory=list)
    segment: int | None = None


def row_shares(m: sp.spmatrix) -> sp.csr_matrix:
    """Rows scaled to sum to 1 (an all-zero row stays zero)."""
    m = sp.csr_matrix(m, dtype=np.float64)
    totals = np.asarray(m.sum(axis=1)).ravel()
    inv = np.divide(1.0, totals, out=np.zeros_like(totals), where=totals > 0)
    return sp.csr_matrix(sp.diags(inv) @ m)


def _percentile_rank(x: np.ndarray) -> np.ndarray:
    """Share of values strictly below each value, plus half the ties (in [0, 1])."""
    s = np.sort(x)
    below = np.searchsorted(s, x, side="left")
    upto = np.searchsorted(s, x, side="right")
    return (below + upto) / (2.0 * max(len(x), 1))


def percentile_within(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Mid-rank percentile of each value among the values of its group (NaN stays NaN).

    >>> percentile_within(np.array([1.0, 5.0, 100.0, 300.0]), np.array([0, 0, 1, 1])).tolist()
    [0.25, 0.75, 0.25, 0.75]
    """
    out = np.full(len(values), np.nan)
    ok = np.flatnonzero(~np.isnan(values))
    g, v = groups[ok], values[ok]
    order = np.lexsort((v, g))
    g_sorted, v_sorted = g[order], v[order]
    key = np.stack([g_sorted, v_sorted])
    start = np.searchsorted(g_sorted, g_sorted, side="left")
    size = np.searchsorted(g_sorted, g_sorted, side="right") - start
    # ties share their mid rank: first and last position of each (group, value) run
    same = np.r_[True, np.any(key[:, 1:] != key[:, :-1], axis=0)]
    run_id = np.cumsum(same) - 1
    first = np.flatnonzero(same)[run_id]
    last = np.r_[np.flatnonzero(same)[1:], len(order)][run_id]
    mid = (first + last) / 2.0 - start  # 0-based mid rank of the run, times 1
    out[ok[order]] = mid / size
    return out


def _weighted_mean(weights: sp.csr_matrix, values: np.ndarray) -> np.ndarray:
    ok = ~np.isnan(values)
    w = weights @ sp.diags(ok.astype(float))
    num = w @ np.where(ok, values, 0.0)
    den = np.asarray(w.sum(axis=1)).ravel()
    return np.divide(num, den, out=np.full(len(den), np.nan), where=den > 0)


@dataclass
class ProfileTable:
    """Profiles of every user as aligned arrays (row ``i`` is ``user_ids[i]``)."""

    user_ids: list[str]
    category_ids: list[str]
    brand_ids: list[str]
    concept_ids: list[str]
    categories: sp.csr_matrix  # users × categories, shares
    brands: sp.csr_matrix  # users × brands, shares
    concepts: sp.csr_matrix  # users × concepts, shares
    scalars: np.ndarray  # users × len(SCALARS)
    spending_basis: np.ndarray  # (users,) 0 purchases, 1 interactions, 2 none
    embeddings: np.ndarray | None = None
    segments: np.ndarray | None = None

    def __post_init__(self) -> None:
        self._row = {u: i for i, u in enumerate(self.user_ids)}

    def __len__(self) -> int:
        return len(self.user_ids)

    def row(self, user_id: str) -> int:
        """Row of ``user_id`` (typed or raw); KeyError naming it if unknown."""
        key = user_id if user_id.startswith("user:") else f"user:{user_id}"
        try:
            return self._row[key]
        except KeyError:
            raise KeyError(f"no profile for {key!r}") from None

    def scalar(self, name: str) -> np.ndarray:
        """One scalar column, e.g. ``scalar("spending_power")``."""
        return self.scalars[:, SCALARS.index(name)]

    def profile(self, user_id: str, *, top: int = 5) -> UserProfile:
        """The :class:`UserProfile` of one user with their ``top`` interests per kind."""
        i = self.row(user_id)

        def top_of(m: sp.csr_matrix, ids: list[str]) -> list[Interest]:
            lo, hi = m.indptr[i], m.indptr[i + 1]
            cols, vals = m.indices[lo:hi], m.data[lo:hi]
            ranked = sorted(zip((-vals).tolist(), (ids[c] for c in cols), strict=True))
            return [Interest(node, round(-neg, 4)) for neg, node in ranked[:top]]

        s = self.scalars[i]
        return UserProfile(
            user_id=self.user_ids[i],
            categories=top_of(self.categories, self.category_ids),
            brands=top_of(self.brands, self.brand_ids),
            concepts=top_of(self.concepts, self.concept_ids),
            spending_power=None if np.isnan(s[0]) else float(s[0]),
            spending_basis=("purchases", "interactions", "none")[int(self.spending_basis[i])],
            brand_loyalty=float(s[1]),
            activity=float(s[2]),
            active_days=float(s[3]),
            influence=float(s[4]),
            embedding=[] if self.embeddings is None else self.embeddings[i].round(4).tolist(),
            segment=None if self.segments is None else int(self.segments[i]),
        )

    def feature_matrix(self, *, max_interest_columns: int = 200) -> tuple[np.ndarray, list[str]]:
        """Dense, standardised features for clustering, and their names.

        Interest shares (the ``max_interest_columns`` most widespread columns of categories,
        brands and concepts) and the z-scored scalars; NaN spending becomes the mean.
        """
        blocks = [
            (self.categories, self.category_ids),
            (self.brands, self.brand_ids),
            (self.concepts, self.concept_ids),
        ]
        interest = sp.hstack([m for m, _ in blocks]).tocsc()
        names = [n for _, ids in blocks for n in ids]
        reach = np.diff(interest.indptr)
        keep = np.sort(np.argsort(-reach, kind="stable")[:max_interest_columns])
        x_int = interest[:, keep].toarray()
        x_int = (x_int - x_int.mean(axis=0)) / (x_int.std(axis=0) + 1e-9)
        sc = self.scalars.copy()
        known = ~np.isnan(sc)
        counts = known.sum(axis=0)
        # a column nobody has a value in (e.g. no prices at all) is filled with 0
        means = np.divide(np.where(known, sc, 0.0).sum(axis=0), counts,
                          out=np.zeros(sc.shape[1]), where=counts > 0)
        sc = np.where(known, sc, means[None, :])
        sc = (sc - sc.mean(axis=0)) / (sc.std(axis=0) + 1e-9)
        return np.hstack([x_int, sc]), [names[k] for k in keep] + list(SCALARS)


def build_profiles(inputs: ProfileInputs) -> ProfileTable:
    """Every user's profile from ``inputs`` (no embeddings; see ``fit_embeddings``)."""
    w = inputs.interactions
    categories = row_shares(w @ inputs.product_category)
    brands = row_shares(w @ inputs.product_brand)
    concepts = row_shares(inputs.user_concept)

    pct = percentile_within(inputs.product_price, inputs.product_leaf)
    bought = _weighted_mean(inputs.purchases, pct)
    seen = _weighted_mean(w, pct)
    basis = np.where(~np.isnan(bought), 0, np.where(~np.isnan(seen), 1, 2))
    spending = np.where(basis == 0, bought, seen)

    loyalty = (brands.max(axis=1).toarray().ravel() if brands.shape[1]
               else np.zeros(brands.shape[0]))  # a catalogue without brands has no loyalty
    influence = 0.5 * (
        _percentile_rank(inputs.followers) + _percentile_rank(inputs.engagement_received)
    )
    scalars = np.column_stack(
        [spending, loyalty, np.log1p(inputs.n_events), inputs.active_days, influence]
    )
    return ProfileTable(
        user_ids=list(inputs.user_ids),
        category_ids=list(inputs.category_ids),
        brand_ids=list(inputs.brand_ids),
        concept_ids=list(inputs.concept_ids),
        categories=categories,
        brands=brands,
        concepts=concepts,
        scalars=scalars,
        spending_basis=basis.astype(np.int8),
    )
