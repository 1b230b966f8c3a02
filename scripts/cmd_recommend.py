"""``shopgraph recommend ARTIFACT_DIR --user ID -k 10 [--json] [--html OUT.html]``: top products
with reasons.

``--json`` prints a JSON list of ``{"item", "score", "parts": {...}, "paths": [{"nodes",
"edges": [[src, type, dst], ...], "text", ...}], "reason"}``. An unknown user gets cold-start
recommendations (the ``reason`` says so) and a notice on stderr naming ids that look alike
(``--user 42`` where ids are ``u0042``); ``--strict`` makes it an error (exit 1). Fewer than
``-k`` products passing the filters is a notice too. A category is a name at any level
(``Kitchen``) or a path as ``shopgraph profile`` prints it (``home/kitchen``). ``--html`` also
writes a page of the same recommendations with their paths drawn (:mod:`recommend.report`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from scripts.console import LOGGER

if TYPE_CHECKING:
    from recommend.recommender import Recommender


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``recommend`` sub-command."""
    parser = subparsers.add_parser("recommend", help="recommend products to a user, explained",
                                   description=__doc__.split("\n\n")[0])
    add_user_arguments(parser)
    parser.add_argument("-k", type=int, default=10, help="how many products (default 10)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--include-seen", action="store_true",
                        help="allow products the user already interacted with")
    parser.add_argument("--category", action="append", default=[],
                        help="keep products in this category or below: a name (Kitchen) or a"
                        " path as `shopgraph profile` prints it (home/kitchen); repeatable")
    parser.add_argument("--brand", action="append", default=[],
                        help="keep products of this brand (repeatable)")
    parser.add_argument("--price-min", type=float, default=None)
    parser.add_argument("--price-max", type=float, default=None)
    parser.add_argument("--diversity", type=float, default=0.0,
                        help="0..1: trade score for variety (maximal marginal relevance)")
    parser.add_argument("--no-explain", action="store_true", help="skip the paths")
    add_output_argument(parser, "--html", "OUT.html",
                        "also write an HTML page with the paths drawn")
    parser.set_defaults(func=run_recommend)


def run_recommend(args: argparse.Namespace) -> int:
    """Print the recommendations (text or JSON)."""
    from recommend.nothing import why_nothing
    from recommend.shown import shown_name, shown_number

    rec = load_for_user(args, args.html)
    recs = rec.recommend(args.user, k=args.k, exclude_seen=not args.include_seen,
                         categories=args.category, brands=args.brand,
                         price_min=args.price_min, price_max=args.price_max,
                         diversity=args.diversity, explain=not args.no_explain)
    if args.html is not None:
        from recommend.report import write_report

        write_report(rec, {args.user: recs}, args.html)
    why = None if recs else why_nothing(rec.graph, rec.user_id(args.user), rec.manifest)
    if why is not None:
        LOGGER.warning("nothing to recommend to %s: %s", rec.user_id(args.user), why)
    elif len(recs) < args.k:
        LOGGER.warning("%s", fewer_note(rec, args, len(recs)))
    if args.json:
        print(json.dumps([r.to_json() for r in recs], indent=2, ensure_ascii=False))
        return 0
    for n, r in enumerate(recs, start=1):
        title = shown_name(rec.graph.node_attrs(r.item).get("title"))
        print(f"{n:>2}. {r.item}  {title}  score {shown_number(r.score, 3):.3f}  "
              f"({format_parts(r.parts)})")
        if r.reason:
            print(f"    [{r.reason}]")
        for p in r.paths:
            print(f"    - {p.text}")
    return 0


def fewer_note(rec: Recommender, args: argparse.Namespace, found: int) -> str:
    """The notice of a list shorter than ``-k``: how many products pass the filters and are
    new to the user, and how many of those no component scores."""
    from recommend.nothing import open_products
    from recommend.request import request_filters

    filters = request_filters(args.category, args.brand, args.price_min, args.price_max)
    total = open_products(rec, rec.user_id(args.user), exclude_seen=not args.include_seen,
                          filters=filters)
    some = f"{total:,} products" + ("" if args.include_seen else " new to the user")
    note = f"{found or 'no'} product(s) of the {args.k} asked for: " + (
        f"{some} pass the filters" if filters.active else f"the catalogue holds {some}")
    if total > found:
        note += (f"; no interaction, text or link scores the other {total - found:,}: "
                 "not ranked")
    return note


#: What a list prints in place of the parts of a score no component gave anything to.
NO_PART = "no component scores it"


def format_parts(parts: dict[str, float]) -> str:
    """The components' parts of a score as ``name +0.12, ...``, leaving out those under 0.005
    either way (all of them: "no component scores it"); shared with ``explain``."""
    return ", ".join(f"{k} {v:+.2f}" for k, v in parts.items() if abs(v) >= 0.005) \
        or NO_PART


def add_user_arguments(parser: argparse.ArgumentParser) -> None:
    """``ARTIFACT_DIR``, ``--user`` and ``--strict`` (an unknown user is an error); shared
    with ``explain``."""
    parser.add_argument("artifact", type=Path, metavar="ARTIFACT_DIR")
    parser.add_argument("--user", required=True, help="user id, typed (user:42) or raw (42)")
    parser.add_argument("--strict", action="store_true",
                        help="an unknown user is an error (exit 1), not a cold-start notice")


def add_output_argument(parser: argparse.ArgumentParser, flag: str, metavar: str,
                        help: str) -> None:
    """An optional output file ``flag`` and ``--overwrite`` (shared with ``explain``)."""
    parser.add_argument(flag, type=Path, default=None, metavar=metavar, help=help)
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing output file")


def load_for_user(args: argparse.Namespace, out: Path | None) -> Recommender:
    """The artifact's recommender, once ``out`` (when given) is known to be writable and
    ``args.user`` has been checked (:func:`check_user`); shared with ``explain``."""
    from kg.ownership import check_new_file
    from recommend.recommender import Recommender

    if out is not None:
        check_new_file(out, overwrite=args.overwrite)
    rec = Recommender.load(args.artifact)
    check_user(rec, args.user, strict=args.strict)
    return rec


def check_user(rec: Recommender, user: str, *, strict: bool) -> None:
    """A notice on stderr when ``user`` is not in the graph, naming ids that look alike;
    with ``strict`` the run fails instead (exit 1)."""
    from recommend.request import similar_ids
    from scripts.cli import RunError

    uid = rec.user_id(user)
    if rec.graph.has_node(uid):
        return
    known = rec.graph.raw_ids("user")
    alike = similar_ids(known, uid.partition(":")[2])
    hint = (f" (did you mean {', '.join(alike)}?)" if alike
            else f" (user ids look like {known[0]!r})" if known else "")
    message = f"{uid} is not in the graph{hint}"
    if strict:
        raise RunError(message)
    LOGGER.warning("%s; answering as for an unknown user (cold start)", message)
