"""What the Recommender returns: recommendations with their component scores and paths.

>>> p = ExplainedPath(("user:1", "product:A"), (("user:1", "purchased", "product:A"),),
...                   "You bought A.")
>>> Recommendation("product:B", 0.9, {"cf": 1.0}, [p]).to_json()["paths"][0]["edges"]
[['user:1', 'purchased', 'product:A']]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from recommend.shown import shown_number

EdgeTriple = tuple[str, str, str]


class ExplainedPath(NamedTuple):
    """A path from the user (``nodes[0]``) to the item (``nodes[-1]``) through stored edges,
    or from the query product to a similar one (``kind="similar"``).

    ``edges[t]`` is the stored edge ``(src, relation, dst)`` joining ``nodes[t]`` and
    ``nodes[t+1]`` (either direction). ``kind="score"``: the path carries part of the item's
    graph or social score (``contribution``: its share of the item's blended path score);
    ``"connection"``: a link between the two, not the reason for the score; ``"similar"``: what
    two similar products share in the graph (``metapath`` spells its types and relations).
    """

    nodes: tuple[str, ...]
    edges: tuple[EdgeTriple, ...]
    text: str
    component: str | None = None
    metapath: str | None = None
    contribution: float = 0.0
    kind: Literal["score", "connection", "similar"] = "score"

    @property
    def hops(self) -> int:
        return len(self.edges)

    def to_json(self) -> dict[str, Any]:
        """``{"nodes", "edges": [[src, type, dst], ...], "text", ...}``."""
        return {
            "nodes": list(self.nodes),
            "edges": [list(e) for e in self.edges],
            "text": self.text,
            "kind": self.kind,
            "component": self.component,
            "metapath": self.metapath,
            "contribution": shown_number(self.contribution),
        }


@dataclass(frozen=True)
class Recommendation:
    """One recommended item: blended ``score``, per-component ``parts`` and explaining paths.

    ``parts`` holds each component's normalised score times its blend weight (they add up to
    ``score``). ``reason`` is None for a normal recommendation, else the fallback used
    (e.g. cold start).
    """

    item: str
    score: float
    parts: dict[str, float]
    paths: list[ExplainedPath] = field(default_factory=list)
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        """``{"item", "score", "parts": {...}, "paths": [...], "reason"}``."""
        return {
            "item": self.item,
            "score": shown_number(self.score),
            "parts": {k: shown_number(v) for k, v in self.parts.items()},
            "paths": [p.to_json() for p in self.paths],
            "reason": self.reason,
        }
