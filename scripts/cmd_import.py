"""``shopgraph import KIND [SRC] --out DATASET_DIR``: a public dataset, or the demo world,
as a shopgraph dataset folder.

Kinds: ``movielens``, ``amazon-beauty-kg``, ``amazon-reviews``, ``ciao``, ``amazon2023`` (SRC
is the dataset's folder), ``table`` (CSV or Parquet exports: SRC, or ``--catalogue``,
``--customers``, ``--orders`` files; columns given by ``--map KIND.FIELD=COLUMN`` or
``--mapping FILE``; see :mod:`kg.loaders.table`) and ``demo`` (a generated world; no SRC).
Besides the record files the folder gets ``import_rejected.jsonl`` (source rows not
converted) and, where the dataset has them, ``relations.jsonl`` and ``heldout/`` (see
:mod:`kg.loaders.common`). The folder is written whole and atomically; an existing ``--out``
must be empty or a dataset shopgraph wrote (stamped, :mod:`kg.ownership`) holding no other
file, and must not be or hold SRC.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

KINDS = ("movielens", "amazon-beauty-kg", "amazon-reviews", "ciao", "amazon2023", "table",
         "demo")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``import`` sub-command."""
    parser = subparsers.add_parser(
        "import",
        help="turn a public dataset (or the demo world) into a dataset folder",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("kind", choices=KINDS, metavar="KIND", help=", ".join(KINDS))
    parser.add_argument("src", nargs="?", type=Path,
                        help="the source dataset folder (table: the default source table)")
    parser.add_argument("--out", type=Path, required=True, help="the dataset folder to write")
    parser.add_argument(
        "--limit", type=int, default=None, help="movielens, ciao: read only the first N rating rows"
    )
    table = parser.add_argument_group("table (CSV or Parquet exports)")
    table.add_argument("--map", action="append", default=[], metavar="KIND.FIELD=COLUMN",
                       help="read a record field from a column, e.g. products.id=Handle,"
                       " 'events.ts=Created at' (repeatable; KIND: products, users, events)")
    table.add_argument("--mapping", type=Path, metavar="FILE",
                       help="the mapping as a JSON or TOML file (--map entries win)")
    for kind, option in (("products", "--catalogue"), ("users", "--customers"),
                         ("events", "--orders")):
        table.add_argument(option, dest=f"{kind}_file", type=Path, metavar="FILE",
                           help=f"the table {kind} are read from (default: SRC)")
    demo = parser.add_argument_group("demo")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--users", type=int, default=600)
    demo.add_argument("--products", type=int, default=360)
    demo.add_argument("--posts", type=int, default=3500)
    demo.add_argument("--events", type=int, default=None, help="default: the generator's own")
    demo.add_argument("--no-images", action="store_true", help="write no image files")
    parser.set_defaults(func=run_import)


def run_import(args: argparse.Namespace) -> int:
    """Run one import; print a one-line summary; return the exit code."""
    if args.kind == "demo":
        return _run_demo(args)
    if args.kind == "table":
        return _run_table(args)
    from kg.atomic import atomic_dir
    from kg.loaders import LOADERS, write_load_result
    from kg.ownership import DATASET_KIND

    if args.src is None:
        raise ValueError(f"import {args.kind}: give the source folder (SRC)")
    if not args.src.exists():
        raise FileNotFoundError(f"{args.src}: source folder not found")
    if args.limit is not None and args.kind not in ("movielens", "ciao"):
        raise ValueError(f"--limit applies to movielens and ciao, not {args.kind}")
    start = time.perf_counter()
    loader = LOADERS[args.kind]
    with atomic_dir(args.out, kind=DATASET_KIND, protect=[args.src]) as tmp:
        result = loader(args.src, limit=args.limit) if args.limit is not None else loader(args.src)
        counts = write_load_result(result, tmp)
    print(
        f"imported {args.kind} into {args.out} in {time.perf_counter() - start:.1f} s: "
        f"{counts.summary()}"
    )
    return 0


def _run_table(args: argparse.Namespace) -> int:
    from kg.atomic import atomic_dir
    from kg.loaders import write_load_result
    from kg.loaders.table import load_tables
    from kg.loaders.table_mapping import build_mapping
    from kg.ownership import DATASET_KIND

    start = time.perf_counter()
    files = {kind: getattr(args, f"{kind}_file") for kind in ("products", "users", "events")}
    specs = build_mapping(args.map, args.mapping, files)
    sources = [f for f in (args.src, *files.values()) if f is not None]
    with atomic_dir(args.out, kind=DATASET_KIND, protect=sources) as tmp:
        result = load_tables(specs, args.src)
        counts = write_load_result(result, tmp)
    read = ", ".join(f"{name} {n}" for name, n in result.rows_read.items())
    print(f"imported tables into {args.out} in {time.perf_counter() - start:.1f} s: rows read"
          f" {read}; written {counts.summary()} (see {args.out / 'import_rejected.jsonl'})")
    return 0


def _run_demo(args: argparse.Namespace) -> int:
    from kg.demo import DemoConfig, generate_demo_world

    if args.src is not None:
        raise ValueError("import demo takes no SRC")
    config = DemoConfig(
        seed=args.seed,
        n_users=args.users,
        n_products=args.products,
        n_posts=args.posts,
        n_events=args.events,
        images=not args.no_images,
    )
    summary = generate_demo_world(args.out, config, progress=not args.no_progress)
    counts = ", ".join(f"{name} {count}" for name, count in summary.counts.items())
    print(f"generated the demo world into {summary.out_dir}: {counts}")
    return 0
