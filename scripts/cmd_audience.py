"""``shopgraph audience ARTIFACT_DIR (--item ID | --seed customers.csv) -n 1000 [--json|--csv]``.

With ``--item``: the users most likely to take the product next, leaving out those who already
have it, scored by the hybrid from the item's side; each with the paths a marketer may see
(or the kinds of private evidence withheld), and the audience summarised by segment,
interest, location and spending power (:mod:`recommend.marketer.audience`).

With ``--seed``: a file of a brand's known customers (user ids in its first column, an
optional header) gives more users like them, and the traits the two groups share
(:mod:`recommend.marketer.lookalike`); a bad line is an error naming the file and line.

``--json`` prints the whole result as one JSON object; ``--csv`` one row per user
(``user,score``, then with ``--item`` each component's part and the category activity's,
the paths' sentences joined by `` | `` and the withheld kinds).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any

from scripts.cmd_recommend import NO_PART
from scripts.console import LOGGER
from scripts.options import positive_int


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``audience`` sub-command."""
    parser = subparsers.add_parser("audience", help="who should see a product, explained; "
                                   "or lookalikes of a customer list",
                                   description=__doc__.split("\n\n")[0])
    parser.add_argument("artifact", type=Path, metavar="ARTIFACT_DIR")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--item", help="product id, typed or raw")
    which.add_argument("--seed", type=Path, metavar="CSV",
                       help="known customers: user ids in the first column")
    parser.add_argument("-n", type=positive_int, default=1000,
                        help="how many users (default 1000)")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print JSON")
    out.add_argument("--csv", action="store_true", help="print CSV, one row per user")
    parser.add_argument("--no-explain", action="store_true", help="skip the paths (--item)")
    parser.set_defaults(func=run_audience)


def run_audience(args: argparse.Namespace) -> int:
    """Print the audience (or the lookalikes) as text, JSON or CSV."""
    from recommend.marketer.audience import part_names
    from recommend.recommender import Recommender
    from recommend.shown import shown_number

    if args.seed is not None and not args.seed.is_file():
        raise FileNotFoundError(f"{args.seed}: no such seed file")
    rec = Recommender.load(args.artifact)
    if args.seed is not None:
        found: Any = rec.lookalikes(args.seed, args.n)
        rows = [[u, f"{s:.6f}"] for u, s in found.members]
        header, sentences = ["user", "score"], found.sentences
        lines = [f"{k:>4}. {u}  score {shown_number(s, 3):.3f}"
                 for k, (u, s) in enumerate(found.members, 1)]
    else:
        found = rec.audience(args.item, args.n, explain=not args.no_explain)
        names = list(part_names(rec.model))
        header = ["user", "score", *names, "paths", "withheld"]
        rows = [[m.user, f"{m.score:.6f}", *(f"{m.parts[n]:.6f}" for n in names),
                 " | ".join(p.text for p in m.paths), "; ".join(m.withheld)]
                for m in found.members]
        sentences = found.summary.sentences
        lines = []
        for k, m in enumerate(found.members, 1):
            lines.append(f"{k:>4}. {m.user}  score {shown_number(m.score, 3):.3f}  ("
                         + (", ".join(f"{n} {shown_number(v, 2):.2f}"
                                      for n, v in m.parts.items() if v) or NO_PART) + ")")
            lines += [f"      - {p.text}" for p in m.paths]
            if m.withheld:
                lines.append("      private evidence (not shown): " + "; ".join(m.withheld))
    if args.json:
        print(json.dumps(found.to_json(), indent=2, ensure_ascii=False))
    elif args.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    elif sentences or lines:
        print("\n".join([*sentences, "", *lines] if sentences else lines))
    if args.item is not None and not found.candidates:
        LOGGER.warning("no audience for %s: %s", found.item, "every user has it already"
                       if rec.graph.num_nodes("user") else "the graph holds no user")
    elif args.item is not None and len({m.score for m in found.members}) == 1 < len(found.members):
        LOGGER.warning("the %d users shown all score %.3f for %s: nothing orders them (which "
                       "of the tied are shown is arbitrary)", len(found.members),
                       shown_number(found.members[0].score, 3), found.item)
    return 0
