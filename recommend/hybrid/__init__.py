"""The hybrid ranker: components, candidates, per-user normalisation and a fitted blend.

- :mod:`~recommend.hybrid.config`: :class:`HybridConfig`, plain data that round-trips JSON;
- :mod:`~recommend.hybrid.component`: the contract every component keeps (fit on a graph,
  scores, candidates, refresh, save, load) and the registry naming them;
  :mod:`~recommend.hybrid.components` (cf, popularity),
  :mod:`~recommend.hybrid.content_component`, :mod:`~recommend.hybrid.path_component` (graph,
  social) and :mod:`~recommend.hybrid.session`: what people took soon after what the user
  took last;
- :mod:`~recommend.hybrid.candidates`: the union of each component's top N;
- :mod:`~recommend.hybrid.normalise`: per-user min-max or z-score over the candidate set;
- :mod:`~recommend.hybrid.blend`: the blend fitted on validation NDCG@10 (coordinate ascent,
  logistic, or the gradient-boosted :mod:`~recommend.hybrid.ranker`), diversity;
- :mod:`~recommend.hybrid.filters`: category, brand and price filters;
- :mod:`~recommend.hybrid.split`: the validation split and its training graph;
- :mod:`~recommend.hybrid.audit`: explanation coverage and fidelity of recommendations;
- :mod:`~recommend.hybrid.fit`: fitting everything (tuning on the validation split);
- :mod:`~recommend.hybrid.model`: the fitted model: ranking, saving, loading;
  :mod:`~recommend.hybrid.cold`: the cold-start blend of a user without history.

Nothing heavy is imported here.
"""

from recommend.hybrid.config import HybridConfig

__all__ = ["HybridConfig"]
