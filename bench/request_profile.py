"""Where one request's time goes, by sampling its stack (not by cProfile).

cProfile charges every Python call its own overhead, so code made of many small calls looks
far costlier than it is: on ML-100K (session 21) it put ``paths.privacy.people`` at ~9% of an
explained request and the cf co-hops at ~5%, yet a memo that took nearly every one of those
calls away changed thread CPU by 0.1% (lockstep A/B, 0.999x). Here a thread reads the
serving thread's stack every ``--interval`` seconds (the interpreter's switch interval is
lowered meanwhile, so the samples are not only taken where the GIL is released), and each
sample is charged to the repository functions on the stack: *inclusive* (every one on it,
once) and *self* (the innermost, where the time is spent). numpy/scipy time is charged to the
repository function that called them.

Loads an artifact (default: ``bench/recommend_speed.py``'s ML-100K one, built with the
defaults of ``shopgraph build`` when absent), warms it with 5 requests, then samples
``--rounds`` passes of ``recommend(user, k=10)`` over ``--users`` random known users (seed
0), with explanations and without. Prints the largest shares; writes
``bench/results/request_profile.json`` (``--out``). The shares are of the sampled requests'
time; run it quiet for a profile that matches ``bench/recommend_speed.py``'s latencies.

Run: ``python bench/request_profile.py [--artifact DIR] [--users 300] [--rounds 2]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # bench.request_modules, when run as a script

from bench.request_modules import ml100k_artifact, module_of  # noqa: E402
from kg.atomic import atomic_write_json  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "request_profile.json"
#: One sample: the repository functions on the stack, innermost first ("module:function").
Stack = tuple[str, ...]


def repository_stack(frame: Any, names: dict[Any, str | None]) -> Stack:
    """The repository functions on ``frame``'s stack, innermost first (``names``: each code
    object's "module:function", or None outside the repository, kept across samples)."""
    out = []
    while frame is not None:
        code = frame.f_code
        if code not in names:
            module = module_of(code.co_filename)
            names[code] = None if module is None else f"{module}:{code.co_name}"
        if names[code] is not None:
            out.append(names[code])
        frame = frame.f_back
    return tuple(out)


def shares(stacks: Sequence[Stack]) -> tuple[dict[str, float], dict[str, float]]:
    """(inclusive, self) share of the samples per function: inclusive counts a function once
    per sample it is anywhere on; self, the samples it is the innermost of. Samples with no
    repository frame count in the total (time outside the repository's calls)."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for stack in stacks:
        inclusive.update(set(stack))
        if stack:
            own[stack[0]] += 1
    n = max(len(stacks), 1)
    return ({k: v / n for k, v in inclusive.most_common()},
            {k: v / n for k, v in own.most_common()})


def sample(work: Callable[[], None], interval: float) -> list[Stack]:
    """The stacks of this thread while it runs ``work()``, one every ``interval`` seconds."""
    target = threading.get_ident()
    stacks: list[Stack] = []
    names: dict[Any, str | None] = {}
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            frame = sys._current_frames().get(target)
            if frame is not None:
                stacks.append(repository_stack(frame, names))
            time.sleep(interval)

    switch = sys.getswitchinterval()
    sys.setswitchinterval(min(switch, interval / 10))
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        work()
    finally:
        done.set()
        watcher.join()
        sys.setswitchinterval(switch)
    return stacks


def _table(title: str, found: dict[str, float], top: int) -> Iterable[str]:
    yield title
    for name, share in list(found.items())[:top]:
        yield f"  {share:6.1%}  {name}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--artifact", type=Path, default=None,
                        help="default: recommend_speed.py's ML-100K artifact (built if absent)")
    parser.add_argument("--users", type=int, default=300, help="random known users (seed 0)")
    parser.add_argument("--rounds", type=int, default=2, help="passes over the users")
    parser.add_argument("--interval", type=float, default=0.0005, help="seconds per sample")
    parser.add_argument("--top", type=int, default=30, help="rows printed per table")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.users < 1 or args.rounds < 1 or not args.interval > 0:
        parser.error("--users and --rounds must be >= 1 and --interval > 0")
    if args.artifact is None:
        args.artifact = ml100k_artifact()
    from recommend.recommender import Recommender

    rec = Recommender.load(args.artifact, verify=False)
    graph = rec.graph
    rng = np.random.default_rng(0)
    picks = rng.choice(graph.num_nodes("user"), min(args.users, graph.num_nodes("user")),
                       replace=False)
    users = [graph.node_id("user", int(i)) for i in picks]
    for user in users[:5]:  # the per-graph caches a served model keeps, filled once
        rec.recommend(user, k=10)
    result: dict[str, Any] = {"artifact": str(args.artifact), "users": len(users),
                              "rounds": args.rounds, "interval_seconds": args.interval,
                              "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}
    for explain in (True, False):
        def work(explain: bool = explain) -> None:
            for _ in range(args.rounds):
                for user in users:
                    rec.recommend(user, k=10, explain=explain)

        start = time.thread_time()
        stacks = sample(work, args.interval)
        cpu_ms = (time.thread_time() - start) * 1e3 / (len(users) * args.rounds)
        inclusive, own = shares(stacks)
        key = "with_explanations" if explain else "without_explanations"
        result[key] = {"samples": len(stacks), "thread_cpu_ms_per_request": round(cpu_ms, 3),
                       "inclusive": {k: round(v, 4) for k, v in inclusive.items()},
                       "self": {k: round(v, 4) for k, v in own.items()}}
        print(f"{key}: {len(stacks)} samples, thread CPU {cpu_ms:.2f} ms per request "
              "(sampling included)")
        for line in (*_table(" inclusive", inclusive, args.top),
                     *_table(" self", own, args.top)):
            print(line)
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    atomic_write_json(args.out, result)
    print(f"wrote {args.out} (load average {result['load_average_at_start']} -> "
          f"{result['load_average_at_end']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
