"""User segments: K-Means with k chosen by silhouette, or agglomerative (Ward) clustering.

A chosen k makes no segment smaller than :func:`min_segment_size` (3 users, or 1% of them)
when some k in the range allows it: the best silhouette often splits off a user or two
whose profile is odd (odd-shaped data, 150 users: 6 segments, 4 of them under 3 users);
a segment of one is no group of shoppers, and its traits are one person's. The best
silhouette over the whole range stands when no k keeps every segment that large.

Features are :meth:`ProfileTable.feature_matrix` (interest shares and standardised
scalars), optionally with the autoencoder embedding, reduced by PCA. Silhouettes are
computed on a seeded sample (``sample_size``) so choosing k stays fast for many users.
Agglomerative clustering is quadratic in memory, so it is fitted on at most ``max_fit``
users and the others join the nearest cluster mean. Each segment is described by the
features whose segment mean stands furthest above the overall mean (in standard units).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from kg.schema import cluster_segment_id
from recommend.profiles.features import ProfileTable

Method = Literal["kmeans", "agglomerative"]
MIN_USERS = 3  # fewer users get no segments (Segmentation.note says so), not an error
#: A chosen k leaves no segment under this many users, or this share of them (module doc).
MIN_SEGMENT_USERS = 3
MIN_SEGMENT_SHARE = 0.01
#: A feature describes a segment only this far above everyone's mean (in sd; shown as +0.1):
#: one at or below it is no trait of theirs ("into Home" of a segment no more into it).
MIN_Z = 0.05


@dataclass(frozen=True, slots=True)
class FeatureScore:
    """A feature and how far (in standard deviations) a segment's mean sits from everyone's."""

    name: str
    z: float


@dataclass(frozen=True)
class Segment:
    """One segment: its node id, size and strongest features."""

    node_id: str
    size: int
    top_features: list[FeatureScore]


@dataclass(frozen=True)
class Segmentation:
    """A clustering of the users of a profile table (``labels`` aligned with its rows)."""

    method: str
    labels: np.ndarray
    silhouette: float
    silhouette_by_k: dict[int, float]
    segments: list[Segment]
    note: str | None = None  # why there are no segments, when there are none

    @classmethod
    def none(cls, method: str, n_users: int, note: str) -> Segmentation:
        """No segments (every label -1), saying why."""
        return cls(method, np.full(n_users, -1, np.int64), float("nan"), {}, [], note)

    @property
    def k(self) -> int:
        return len(self.segments)


def clustering_features(
    table: ProfileTable, *, use_embeddings: bool = True, n_components: int = 20, seed: int = 0
) -> tuple[np.ndarray, list[str]]:
    """(PCA-reduced features for clustering, the unreduced matrix's column names)."""
    from sklearn.decomposition import PCA

    x, names = table.feature_matrix()
    if use_embeddings and table.embeddings is not None:
        e = table.embeddings
        x = np.hstack([x, (e - e.mean(axis=0)) / (e.std(axis=0) + 1e-9)])
    if not np.ptp(x, axis=0).any():  # every user alike: nothing to reduce (PCA would divide by 0)
        return np.zeros((len(x), 1)), names
    n = min(n_components, x.shape[1], max(x.shape[0] - 1, 1))
    return PCA(n_components=n, random_state=seed).fit_transform(x), names


def _silhouette(x: np.ndarray, labels: np.ndarray, sample_size: int, seed: int) -> float:
    from sklearn.metrics import silhouette_score

    if len(np.unique(labels)) < 2:
        return float("nan")
    return float(
        silhouette_score(x, labels, sample_size=min(sample_size, len(x)), random_state=seed)
    )


def min_segment_size(n_users: int) -> int:
    """The fewest users a segment of a chosen k holds (:data:`MIN_SEGMENT_USERS`,
    :data:`MIN_SEGMENT_SHARE`)."""
    return max(MIN_SEGMENT_USERS, math.ceil(MIN_SEGMENT_SHARE * n_users))


def describe(x: np.ndarray, labels: np.ndarray, names: list[str], *, top: int = 3) -> list[Segment]:
    """Segments with their ``top`` features by standardised mean difference (at least
    :data:`MIN_Z`: a segment may have none)."""
    mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-9
    out = []
    for k in range(int(labels.max()) + 1):
        members = labels == k
        z = (x[members].mean(axis=0) - mu) / sd if members.any() else np.zeros(x.shape[1])
        order = [j for j in np.argsort(-z, kind="stable")[:top] if z[j] >= MIN_Z]
        out.append(
            Segment(
                cluster_segment_id(k),
                int(members.sum()),
                [FeatureScore(names[j], round(float(z[j]), 3)) for j in order],
            )
        )
    return out


def segment_users(
    table: ProfileTable,
    *,
    method: Method = "kmeans",
    k_range: tuple[int, int] = (2, 10),
    k: int | None = None,
    use_embeddings: bool = True,
    sample_size: int = 3000,
    max_fit: int = 3000,
    n_threads: int = 1,
    seed: int = 0,
) -> Segmentation:
    """Cluster the users of ``table``; k fixed, or the best silhouette over ``k_range`` (of
    the k leaving no segment under :func:`min_segment_size` users, when one does).

    Sets ``table.segments`` to the labels. Fewer than :data:`MIN_USERS` users get no
    segments (:meth:`Segmentation.none`). BLAS/OpenMP run on ``n_threads`` threads: on a
    shared machine more threads spin against each other (measured 10-40× slower).
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=n_threads):
        return _segment(table, method, k_range, k, use_embeddings, sample_size, max_fit, seed)


def _segment(
    table: ProfileTable,
    method: Method,
    k_range: tuple[int, int],
    k: int | None,
    use_embeddings: bool,
    sample_size: int,
    max_fit: int,
    seed: int,
) -> Segmentation:
    from sklearn.cluster import AgglomerativeClustering, KMeans

    if len(table) < MIN_USERS:
        return Segmentation.none(method, len(table), f"{len(table)} users: segmenting needs"
                                 f" at least {MIN_USERS}")
    x, _ = clustering_features(table, use_embeddings=use_embeddings, seed=seed)
    raw, names = table.feature_matrix()
    lo, hi = (k, k) if k is not None else k_range
    hi = min(hi, len(table) - 1)
    if k is None:  # no more clusters than distinct profiles (k-means would warn and split ties)
        hi = min(hi, len(np.unique(x.round(9), axis=0)))
        if hi < 2:  # everyone alike: one segment
            table.segments = np.zeros(len(table), np.int64)
            return Segmentation(method, table.segments, float("nan"), {},
                                describe(raw, table.segments, names))
    rng = np.random.default_rng(seed)
    fit_rows = np.sort(rng.choice(len(x), size=min(max_fit, len(x)), replace=False))
    results: dict[int, tuple[float, np.ndarray]] = {}
    for n_clusters in range(max(lo, 2), hi + 1):
        if method == "kmeans":
            labels = KMeans(n_clusters=n_clusters, n_init=4, random_state=seed).fit_predict(x)
        elif method == "agglomerative":
            sub = AgglomerativeClustering(n_clusters=n_clusters).fit_predict(x[fit_rows])
            means = np.stack([x[fit_rows][sub == c].mean(axis=0) for c in range(n_clusters)])
            labels = np.argmin(((x[:, None, :] - means[None]) ** 2).sum(axis=2), axis=1)
        else:
            raise ValueError(f"segment_users: unknown method {method!r}")
        results[n_clusters] = (_silhouette(x, labels, sample_size, seed), labels)
    if not results:
        asked = f"k={k}" if k is not None else f"k range {k_range}"
        raise ValueError(f"segment_users: {asked}: {len(table)} users can make 2 to "
                         f"{len(table) - 1} segments")
    floor = min_segment_size(len(table))
    large = [c for c, (_, labels) in results.items()
             if np.bincount(labels, minlength=c).min() >= floor]
    best = max(large or results, key=lambda c: (np.nan_to_num(results[c][0], nan=-2.0), -c))
    score, labels = results[best]
    table.segments = labels
    return Segmentation(
        method,
        labels,
        score,
        {c: round(s, 4) for c, (s, _) in results.items()},
        describe(raw, labels, names),
    )
