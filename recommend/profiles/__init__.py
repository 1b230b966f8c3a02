"""User profiles (interests, spending power, activity, influence, embeddings) and segments.

>>> from recommend.profiles import build_profiles, inputs_from_dataset  # doctest: +SKIP
>>> table = build_profiles(inputs_from_dataset(dataset))                # doctest: +SKIP
>>> table.profile("user:42").categories[:1]                             # doctest: +SKIP
"""

from recommend.profiles.edges import (
    EdgeList,
    add_to_graph,
    co_bought_edges,
    interest_edges,
    membership_edges,
)
from recommend.profiles.features import (
    Interest,
    ProfileTable,
    UserProfile,
    build_profiles,
)
from recommend.profiles.inputs import ProfileInputs, inputs_from_dataset, inputs_from_graph
from recommend.profiles.pipeline import EnrichReport, enrich_graph, graph_baskets_rules
from recommend.profiles.segments import Segment, Segmentation, segment_users

__all__ = [
    "EdgeList",
    "EnrichReport",
    "Interest",
    "ProfileInputs",
    "ProfileTable",
    "Segment",
    "Segmentation",
    "UserProfile",
    "add_to_graph",
    "build_profiles",
    "co_bought_edges",
    "enrich_graph",
    "graph_baskets_rules",
    "inputs_from_dataset",
    "inputs_from_graph",
    "interest_edges",
    "membership_edges",
    "segment_users",
]
