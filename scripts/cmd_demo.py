"""``shopgraph demo --out DIR``: the main job end to end on the built-in demo world.

Generates the seeded demo world into ``DIR/dataset``, builds its knowledge-graph artifact
into ``DIR/artifact`` with the enrichment stages (mentions, a CLIP trained on the demo's
images, profiles), prints the graph summary and what each stage did, and answers a sample
SPARQL question with a bound parameter: which brands the people a given user follows bought.
It ends with the top 5 recommendations, and the graph paths that explain them, for three
demo users: the one who follows the most people, one with a single purchase, and a user
unknown to the graph;
``DIR/recommendations.html`` shows the same with the paths drawn (a file of that name the
demo did not write, by DIR's stamp, is never replaced: the run refuses before it starts).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from scripts.cmd_build import add_enrichment_arguments, build_and_report

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

#: Brands bought by the people ?user follows, most bought first; ?user is bound, never pasted.
FOLLOWED_BRANDS_QUERY = """
SELECT ?brand (COUNT(?product) AS ?purchases) WHERE {
    ?user rel:follows ?friend .
    ?friend rel:purchased ?product .
    ?product rel:made_by ?brand .
} GROUP BY ?brand ORDER BY DESC(?purchases) ?brand LIMIT 5
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo`` sub-command."""
    parser = subparsers.add_parser("demo", help="generate, build and query the demo world",
                                   description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("demo-out"), metavar="DIR")
    parser.add_argument("--seed", type=int, default=7)
    add_enrichment_arguments(parser)
    parser.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    """Run the demo's steps, printing what each produced."""
    from kg.artifact import load_artifact
    from kg.demo import DemoConfig, generate_demo_world
    from kg.ownership import DEMO_KIND, check_listed_file, list_file
    from kg.rdf_cache import artifact_store
    from kg.sparql_store import store_sparql

    progress = not args.no_progress
    dataset, artifact = args.out / "dataset", args.out / "artifact"
    report = args.out / "recommendations.html"
    if not _earlier_demo(args.out):  # a user's file of that name stays
        check_listed_file(report, DEMO_KIND)
    summary = generate_demo_world(dataset, DemoConfig(seed=args.seed), progress=progress)
    print(f"1. demo world written to {dataset}: "
          + ", ".join(f"{n:,} {name}" for name, n in summary.counts.items()))

    print("2. build: records, graph, enrichment stages, models")
    manifest = build_and_report(dataset, artifact, args)

    loaded = load_artifact(artifact)
    user = _most_following_user(loaded.graph)
    folder = artifact_store(loaded.files, progress=progress)
    answer = store_sparql(folder, FOLLOWED_BRANDS_QUERY, {"user": user})
    print(f"3. SPARQL over the artifact's store (?user bound to {user}): brands bought by "
          f"the people {user} follows")
    print(answer)

    if "models" in manifest.get("stages", {}):
        users = [user, _quietest_buyer(loaded.graph), "user:newcomer"]
        list_file(report, DEMO_KIND)
        print_recommendations(artifact, users, report=report)
    return 0


def _earlier_demo(out: Path) -> bool:
    """Whether ``out`` is a demo folder from before demo stamped it: no stamp, but the
    dataset and artifact a demo writes (its report beside them is the demo's too)."""
    from kg.ownership import ARTIFACT_KIND, DATASET_KIND, stamped_kind

    return (stamped_kind(out) is None and stamped_kind(out / "dataset") == DATASET_KIND
            and stamped_kind(out / "artifact") == ARTIFACT_KIND)


def print_recommendations(artifact: Path, users: list[str], k: int = 5,
                          report: Path | None = None) -> None:
    """Each user's top ``k`` with score, component parts and explaining paths as sentences;
    with ``report``, also an HTML page of them with the paths drawn."""
    from recommend import Recommender
    from recommend.report import write_report
    from recommend.shown import shown_name, shown_number

    rec = Recommender.load(artifact)
    by_user = {user: rec.recommend(user, k=k) for user in users}
    for user, recs in by_user.items():
        print(f"4. top {k} for {user}:")
        for rank, r in enumerate(recs, start=1):
            attrs = rec.graph.node_attrs(r.item)
            parts = ", ".join(f"{name} {shown_number(value, 2):.2f}"
                              for name, value in r.parts.items() if value)
            note = f" [{r.reason}]" if r.reason else ""
            title = shown_name(attrs.get("title") or r.item)
            score = shown_number(r.score, 3)
            print(f"   {rank}. {title} ({r.item}) score {score:.3f} = {parts}{note}")
            for path in r.paths:
                print(f"      - {path.text}")
    if report is not None:
        print(f"5. the same with the paths drawn: {write_report(rec, by_user, report)}")


def _quietest_buyer(graph: KnowledgeGraph) -> str:
    """A user with exactly one purchase: recommendations must lean on the graph, not history."""
    bought = graph.matrix("purchased", dst_type="product").getnnz(axis=1)
    return graph.node_id("user", int((bought == 1).argmax()))


def _most_following_user(graph: KnowledgeGraph) -> str:
    """The user who follows the most people: the most telling subject for the sample query."""
    follows = graph.matrix("follows")
    return graph.node_id("user", int(follows.getnnz(axis=1).argmax()))
