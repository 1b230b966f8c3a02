"""Graph-path reasoning: meta-path scores, social (KOL) signals and path explanations.

- :mod:`~recommend.paths.metapaths`: meta-path definitions and sparse-product scoring;
- :mod:`~recommend.paths.social`: influencer weights (PageRank over follows);
- :mod:`~recommend.paths.scorer`: :class:`GraphPathScorer`, weights fitted on validation NDCG;
- :mod:`~recommend.paths.instances`: a meta-path's concrete paths and their values;
- :mod:`~recommend.paths.explain`: explanation paths (:mod:`~recommend.paths.fidelity`:
  the fidelity check; :mod:`~recommend.paths.pool`: an item's candidates merged and valued;
  :mod:`~recommend.paths.far_links`: connections for a user with no product history);
- :mod:`~recommend.paths.privacy`: what explanations may show, the aggregate relations;
- :mod:`~recommend.paths.sentences` / :mod:`~recommend.paths.drawing`: sentence and picture.
"""

from recommend.paths.connection import connection_path
from recommend.paths.explain import Path, explain_paths_many
from recommend.paths.fidelity import Fidelity, fidelity_check
from recommend.paths.instances import iter_instances
from recommend.paths.metapaths import (
    DEFAULT_METAPATHS,
    MetaPath,
    Step,
    available_metapaths,
    catalogue,
    metapath_matrix,
)
from recommend.paths.privacy import Privacy
from recommend.paths.scorer import GraphPathScorer, TopN
from recommend.paths.sentences import node_name, render_path
from recommend.paths.social import KolWeights, kol_weights

__all__ = [
    "DEFAULT_METAPATHS",
    "Fidelity",
    "GraphPathScorer",
    "KolWeights",
    "MetaPath",
    "Path",
    "Privacy",
    "Step",
    "TopN",
    "available_metapaths",
    "catalogue",
    "connection_path",
    "explain_paths_many",
    "fidelity_check",
    "iter_instances",
    "kol_weights",
    "metapath_matrix",
    "node_name",
    "render_path",
]
