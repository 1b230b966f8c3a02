"""``shopgraph explain ARTIFACT_DIR --user ID --item ID [--json] [--picture out.png]``.

Why ``item`` for ``user``: its blended score, each component's part, and up to 3 paths of
at most 3 hops through edges of the graph, each as a sentence; ``--picture`` draws them
(.png or .svg). An unknown item is an error (exit 2); an unknown user a notice (``--strict``:
an error, exit 1).
"""

from __future__ import annotations

import argparse
import json

from scripts.cmd_recommend import (
    add_output_argument,
    add_user_arguments,
    format_parts,
    load_for_user,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``explain`` sub-command."""
    parser = subparsers.add_parser("explain", help="explain why a product suits a user",
                                   description=__doc__.split("\n\n")[0])
    add_user_arguments(parser)
    parser.add_argument("--item", required=True, help="product id, typed or raw")
    parser.add_argument("--json", action="store_true", help="print JSON")
    add_output_argument(parser, "--picture", "OUT.png",
                        "draw the paths to this .png or .svg file")
    parser.set_defaults(func=run_explain)


def run_explain(args: argparse.Namespace) -> int:
    """Print the explanation; draw it when asked."""
    from recommend.shown import shown_number

    rec = load_for_user(args, args.picture)
    result = rec.explain_item(args.user, args.item)
    if args.picture is not None:
        if not result.paths:
            raise ValueError(f"no path joins {rec.user_id(args.user)} and {result.item}: "
                             "nothing to draw")
        from recommend.paths.drawing import draw_paths

        draw_paths(result.paths, args.picture, graph=rec.graph,  # type: ignore[arg-type]
                   title=f"Why {result.item} for {rec.user_id(args.user)}")
    if args.json:
        print(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
        return 0
    score = shown_number(result.score, 3)
    print(f"{result.item} for {rec.user_id(args.user)}: score {score:.3f}"
          f" ({format_parts(result.parts)})")
    if result.reason:
        print(f"  [{result.reason}]")
    if not result.paths:
        print("  no path of at most 3 hops joins them")
    for p in result.paths:
        print(f"  - {p.text}")
    if args.picture is not None:
        print(f"picture: {args.picture}")
    return 0
