"""What the explanations of a built artifact show: every user's top 10, every sentence.

Shares over the sentences: naming another user's private act (a path edge of
purchased/carted/viewed/clicked/rated at a user other than the one served), naming a user the
served one does not follow, resting on an age or a gender segment; shares over the items: with
a valid path (every hop stored, an aggregate hop backed by stored edges), with a valid path
that carries the score. The checks are written out here, not taken from
:mod:`recommend.paths.privacy`, so they also measure artifacts built before it.

Usage: ``python bench/privacy_demo.py ARTIFACT_DIR`` (e.g. the ``artifact`` folder of
``shopgraph demo --out DIR``); prints JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recommend.hybrid.audit import path_is_valid  # noqa: E402
from recommend.recommender import Recommender  # noqa: E402

PRIVATE = {"purchased", "carted", "viewed", "clicked", "rated"}


def measure(folder: str) -> dict[str, float]:
    """The shares of the module docstring for the artifact in ``folder``."""
    rec = Recommender.load(folder)
    g = rec.graph
    counts = dict.fromkeys(("sentences", "private", "unfollowed", "age", "gender", "items",
                            "valid", "valid_score"), 0)
    for u in g.nodes("user"):
        follows = {e.dst for e in g.neighbors(u, "follows")}
        for r in rec.recommend(u, 10):
            counts["items"] += 1
            valid = [p for p in r.paths if path_is_valid(g, p)]
            counts["valid"] += bool(valid)
            counts["valid_score"] += any(p.kind == "score" for p in valid)
            for p in r.paths:
                counts["sentences"] += 1
                counts["private"] += any(end.startswith("user:") and end != u and rel in PRIVATE
                                         for src, rel, dst in p.edges for end in (src, dst))
                counts["unfollowed"] += any(n.startswith("user:") and n not in (u, *follows)
                                            for n in p.nodes)
                counts["age"] += any(n.startswith("segment:age-") for n in p.nodes)
                counts["gender"] += any(n.startswith("segment:gender-") for n in p.nodes)
    n, items = max(counts["sentences"], 1), max(counts["items"], 1)
    return {"users": g.num_nodes("user"), "items": counts["items"],
            "sentences": counts["sentences"],
            **{f"{k}_share": round(counts[k] / n, 4)
               for k in ("private", "unfollowed", "age", "gender")},
            "items_with_valid_path": round(counts["valid"] / items, 4),
            "items_with_valid_score_path": round(counts["valid_score"] / items, 4)}


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1]), indent=1))
