"""The cold-start blend: a user without product history.

The fitted blend learned its weights on users with a history; a user unknown to the graph,
or known only from posts and follows, gets equal weights over the components that know
something of such users (``cold`` in :mod:`recommend.hybrid.component`: content from their
posts, graph and social from whom they follow and what they wrote, popularity) and that
tell this user's candidates apart (not all equal). The reason names them, or says that none
does (the order is then the catalogue's). A model judged on the post tier
(:data:`kg.interactions.POST_TIER`) counts the products of the posts a user wrote, liked,
commented on or shared as their history (:func:`kg.interactions.seen_matrix`): there, such
a user is not cold, and gets the fitted blend, as on post-events-only data everyone would
otherwise be.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def cold_parts(names: Sequence[str], cold: Sequence[bool], features: np.ndarray,
               normalised: np.ndarray, unknown: bool) -> tuple[np.ndarray, str]:
    """The candidates' per-component parts under the cold-start blend (candidates x
    components) and the reason; ``features`` are their raw scores, ``normalised`` the
    normalised ones, ``unknown``: the user is not in the graph at all."""
    evidence = [j for j, is_cold in enumerate(cold) if is_cold
                and len(features) and np.ptp(features[:, j]) > 0]
    w = np.zeros(len(names))
    w[evidence] = 1.0 / max(len(evidence), 1)
    who = "unknown user" if unknown else "no product history"
    used = ", ".join(names[j] for j in evidence) or "no signal yet tells these products apart"
    return normalised * w, f"cold start ({who}): {used}"
