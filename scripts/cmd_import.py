"""``shopgraph import KIND [SRC] --out DATASET_DIR``: a public dataset, or the demo world,
as a shopgraph dataset folder.

Kinds: ``movielens``, ``amazon-beauty-kg``, ``amazon-reviews``, ``ciao``, ``amazon2023`` (SRC
is the dataset's folder) and ``demo`` (a generated world; no SRC). Besides the record files the
folder gets ``import_rejected.jsonl`` (source rows not converted) and, where the dataset
has them, ``relations.jsonl`` and ``heldout/`` (see :mod:`kg.loaders.common`). The folder is
written whole and atomically; an existing ``--out`` must be empty or a dataset shopgraph wrote
(stamped, :mod:`kg.ownership`) holding no other file, and must not be or hold SRC.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

KINDS = ("movielens", "amazon-beauty-kg", "amazon-reviews", "ciao", "amazon2023", "demo")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``import`` sub-command."""
    parser = subparsers.add_parser(
        "import",
        help="turn a public dataset (or the demo world) into a dataset folder",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("kind", choices=KINDS, metavar="KIND", help=", ".join(KINDS))
    parser.add_argument("src", nargs="?", type=Path, help="the source dataset folder")
    parser.add_argument("--out", type=Path, required=True, help="the dataset folder to write")
    parser.add_argument(
        "--limit", type=int, default=None, help="movielens, ciao: read only the first N rating rows"
    )
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
