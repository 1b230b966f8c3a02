"""Which of this repository's modules one explained request runs (issue 12's "at most 10").

Loads an artifact (default: ML-100K built with the defaults of ``shopgraph build`` by
``bench/recommend_speed.py``'s helpers in its work folder, built there first when absent),
makes one warm-up request (it fills the per-graph caches a served
model keeps: the first request after a load pays for them once), then, under
``sys.setprofile``, calls ``Recommender.recommend(user, k=10, explain=True)`` for
``--users`` random known users (seed 0) and one unknown user, and records every module of
this repository whose code ran (a Python function of it was called), grouped by subpackage:
per request, and the union; and which module called which (the nearest repository frame up
the stack), the edges a drawing of the flow should have. The warm-up request is traced
apart (what a first request after a load adds), and the same users' requests with
``explain=False`` (which modules only explaining runs). Writes
``bench/results/request_modules.json`` (``--out``).

Only code that runs counts: a module imported but never called is not listed, and
numpy/scipy/FAISS are not this repository's. The count moves with the artifact: the served
blend, the CF family and which components explain an item decide which modules run
(docs/architecture.md, section 2).

Run: ``python bench/request_modules.py [--artifact DIR] [--users 20]``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kg.atomic import atomic_write_json

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # bench.recommend_speed, when run as a script
RESULTS = ROOT / "bench" / "results" / "request_modules.json"


def module_of(filename: str) -> str | None:
    """The dotted name of the repository module at ``filename`` (None outside the
    repository, in its tests or in its benches)."""
    try:
        relative = Path(filename).resolve().relative_to(ROOT)
    except ValueError:
        return None
    if relative.suffix != ".py" or relative.parts[0] in ("tests", "bench", ".venv"):
        return None
    parts = list(relative.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts) or None


@dataclass
class Trace:
    """The repository modules whose Python functions ran, and which called which."""

    modules: set[str] = field(default_factory=set)
    calls: set[tuple[str, str]] = field(default_factory=set)  # (caller, callee) modules


@contextmanager
def traced() -> Iterator[Trace]:
    """What of the repository runs inside the block (:class:`Trace`): a called function's
    module, and the nearest repository module up its stack as the caller."""
    trace = Trace()
    known: dict[str, str | None] = {}

    def module(frame: Any) -> str | None:
        filename = frame.f_code.co_filename
        if filename not in known:
            known[filename] = module_of(filename)
        return known[filename]

    def hook(frame: Any, event: str, _arg: Any) -> None:
        if event != "call":
            return
        name = module(frame)
        if name is None:
            return
        trace.modules.add(name)
        caller = frame.f_back
        while caller is not None and module(caller) is None:
            caller = caller.f_back
        if caller is not None and module(caller) != name:
            trace.calls.add((module(caller), name))

    previous = sys.getprofile()
    sys.setprofile(hook)
    try:
        yield trace
    finally:
        sys.setprofile(previous)


def grouped(modules: set[str]) -> dict[str, list[str]]:
    """``modules`` by subpackage (``recommend.paths``, ``kg``, ...), sorted."""
    out: dict[str, list[str]] = {}
    for name in sorted(modules):
        package = name.rsplit(".", 1)[0] if "." in name else name
        out.setdefault(package, []).append(name)
    return out


def trace_requests(call: Callable[[str], Any], users: list[str]) -> list[Trace]:
    """What each ``call(user)`` runs."""
    out = []
    for user in users:
        with traced() as trace:
            call(user)
        out.append(trace)
    return out


def ml100k_artifact(work: Path = Path("/tmp/sg_bench_recommend_speed")) -> Path:
    """``bench/recommend_speed.py``'s ML-100K artifact in its ``work`` folder, imported and
    built with the defaults there first when absent."""
    from bench.recommend_speed import ML_100K, build_in_subprocess, prepare

    art = work / "art-ml-100k"
    if not (art / "hybrid.json").is_file():
        work.mkdir(parents=True, exist_ok=True)
        dataset = prepare(work, big=False).get("ml-100k")
        if dataset is None:
            sys.exit(f"ML-100K not found at {ML_100K} (set SHOPGRAPH_SHARED_DATA), and no "
                     "--artifact given: nothing traced")
        build_in_subprocess(dataset, art, timeout=3600.0)
    return art


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--artifact", type=Path, default=None,
                        help="default: recommend_speed.py's ML-100K artifact (built if absent)")
    parser.add_argument("--users", type=int, default=20, help="random known users (seed 0)")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.artifact is None:
        args.artifact = ml100k_artifact()
    from recommend.recommender import Recommender

    rec = Recommender.load(args.artifact)
    graph = rec.graph
    rng = np.random.default_rng(0)
    picks = rng.choice(graph.num_nodes("user"), min(args.users + 1, graph.num_nodes("user")),
                       replace=False)
    known = [graph.node_id("user", int(i)) for i in picks]
    warm_user, users = known[0], known[1:]

    def call(user: str, explain: bool = True) -> Any:
        return rec.recommend(user, k=args.k, explain=explain)

    with traced() as warm:
        call(warm_user)
    traces = trace_requests(call, users)
    per_request = [t.modules for t in traces]
    union: set[str] = set().union(*per_request)
    calls = sorted(set().union(*(t.calls for t in traces)))
    unknown = trace_requests(call, ["user:request-modules-unknown"])[0].modules
    first = warm.modules
    plain: set[str] = set().union(*(t.modules for t in trace_requests(
        lambda user: call(user, explain=False), users)))
    counts = [len(m) for m in per_request]
    in_every = set.intersection(*per_request) if per_request else set()
    cf = rec.model.components.get("cf")
    result = {
        "artifact": str(args.artifact),
        "served": {"blend": rec.model.blend.kind, "components": list(rec.model.blend.names),
                   "cf_model": type(cf.model).__name__ if cf is not None else None},
        "k": args.k, "explain": True, "known_users": len(users),
        "modules_per_request": {"min": min(counts), "median": float(np.median(counts)),
                                "max": max(counts)},
        "union": {"count": len(union), "by_package": grouped(union)},
        "in_every_request": {"count": len(in_every), "by_package": grouped(in_every)},
        "unknown_user": {"count": len(unknown), "by_package": grouped(unknown)},
        "first_request_after_load": {"count": len(first),
                                     "beyond_union": sorted(first - union)},
        "without_explanations": {"count": len(plain), "by_package": grouped(plain),
                                 "explaining_only": grouped(union - plain)},
        "calls": [list(pair) for pair in calls],
    }
    atomic_write_json(args.out, result)
    print(f"{len(users)} known users: {min(counts)}-{max(counts)} modules per request "
          f"(median {np.median(counts):g}), {len(union)} in all; unknown user {len(unknown)}; "
          f"first request after load {len(first)}; without explanations {len(plain)}")
    for package, names in grouped(union).items():
        print(f"  {package} ({len(names)}): {', '.join(n.rsplit('.', 1)[-1] for n in names)}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
