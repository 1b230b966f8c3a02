"""Is one code tree's request faster than another's? Both serve the same requests in turn.

A latency figure taken on a shared 2-core machine moves with whatever else runs: two runs
of the same code minutes apart differ by more than most changes gain. Here two worker
processes, one per code tree (``--old`` and ``--new``: checkouts, e.g. ``git worktree add
--detach``), load the same artifact and answer the same ``recommend(user, k=10)`` requests
one after the other, request by request: whatever the machine does meanwhile lands on both
nearly alike. Each request's *thread* CPU time is measured in the worker (the time the
serving thread ran, not what it waited), and the figure is the ratio of the two trees' total
thread CPU over all requests, with a 95% bootstrap interval over users (requests of a user
resampled together). Each worker also hashes its answers (items, scores and, explained,
every path), so the run says whether the change kept the answers
byte-identical.

The worker that runs second after the same request has a slight disadvantage (caches of
the CPU warmed by the other); the order alternates every request to cancel it.

Run: ``python bench/lockstep.py --artifact DIR --old TREE --new TREE [--users 300]
[--rounds 3] [--plain]``; writes ``bench/results/lockstep.json`` (``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "lockstep.json"

_WORKER = r"""
import hashlib, json, sys, time
from recommend import Recommender
rec = Recommender.load(sys.argv[1], verify=False)
explain = sys.argv[2] == "explain"
print(json.dumps({"users": list(rec.graph.nodes("user"))}), flush=True)
for line in sys.stdin:
    user = line.strip()
    c0 = time.thread_time()
    recs = rec.recommend(user, k=10, explain=explain)
    cpu = time.thread_time() - c0
    answer = json.dumps([r.to_json() for r in recs], sort_keys=True)
    print(json.dumps({"cpu": cpu, "sha": hashlib.sha256(answer.encode()).hexdigest()}),
          flush=True)
"""


def _start(tree: Path, artifact: Path, explain: bool) -> tuple[subprocess.Popen, list[str]]:
    """A worker process importing the repository at ``tree``, and the artifact's users (its
    first line, once it has loaded)."""
    env = dict(os.environ, PYTHONPATH=str(tree), HF_HUB_OFFLINE="1", PYTHONHASHSEED="0")
    proc = subprocess.Popen([sys.executable, "-c", _WORKER, str(artifact),
                             "explain" if explain else "plain"], cwd=tree, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    ready = proc.stdout.readline()
    if not ready:
        raise RuntimeError(f"the worker of {tree} died while loading {artifact}")
    return proc, json.loads(ready)["users"]


def _ask(proc: subprocess.Popen, user: str) -> dict:
    proc.stdin.write(user + "\n")
    proc.stdin.flush()
    line = proc.stdout.readline()
    if not line:
        raise RuntimeError(f"a worker died answering {user}")
    return json.loads(line)


def _sample(users: list[str], n: int, seed: int) -> list[str]:
    """``n`` random ones of ``users`` (seed ``seed``)."""
    rng = np.random.default_rng(seed)
    return [users[j] for j in rng.choice(len(users), min(n, len(users)), replace=False)]


def _interval(old: np.ndarray, new: np.ndarray, reps: int = 2000) -> tuple[float, float]:
    """95% bootstrap interval of sum(new) / sum(old), users resampled (rows: users)."""
    rng = np.random.default_rng(1)
    idx = rng.integers(0, len(old), size=(reps, len(old)))
    ratios = new.sum(axis=1)[idx].sum(axis=1) / old.sum(axis=1)[idx].sum(axis=1)
    return float(np.percentile(ratios, 2.5)), float(np.percentile(ratios, 97.5))


def run(artifact: Path, old: Path, new: Path, n_users: int, rounds: int,
        explain: bool, seed: int = 0) -> dict:
    """Thread-CPU ratio new / old over ``rounds`` passes of the same users, and whether the
    answers were identical."""
    (old_proc, known), (new_proc, _) = (_start(old, artifact, explain),
                                        _start(new, artifact, explain))
    workers = {"old": old_proc, "new": new_proc}
    users = _sample(known, n_users, seed)
    cpu = {"old": np.zeros((len(users), rounds)), "new": np.zeros((len(users), rounds))}
    differ: list[str] = []
    try:
        for u in users[:5]:  # warm-up: lazy caches are built once
            for proc in workers.values():
                _ask(proc, u)
        step = 0
        for r in range(rounds):
            for i, u in enumerate(users):
                order = ("old", "new") if step % 2 == 0 else ("new", "old")
                step += 1
                answers = {name: _ask(workers[name], u) for name in order}
                for name, a in answers.items():
                    cpu[name][i, r] = a["cpu"]
                if r == 0 and answers["old"]["sha"] != answers["new"]["sha"]:
                    differ.append(u)
    finally:
        for proc in workers.values():
            proc.stdin.close()
            proc.wait(timeout=60)
    lo, hi = _interval(cpu["old"], cpu["new"])
    p50 = {name: round(float(np.median(c)) * 1e3, 3) for name, c in cpu.items()}
    return {"ratio": round(float(cpu["new"].sum() / cpu["old"].sum()), 4),
            "ci95": [round(lo, 4), round(hi, 4)], "p50_thread_cpu_ms": p50,
            "users": len(users), "rounds": rounds, "explain": explain,
            "identical_answers": not differ, "users_answered_differently": len(differ),
            "first_different": differ[:5]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifact", type=Path, required=True)
    parser.add_argument("--old", type=Path, required=True, help="the baseline code tree")
    parser.add_argument("--new", type=Path, required=True, help="the changed code tree")
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--plain", action="store_true", help="requests without explanations")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    load = os.getloadavg()
    start = time.perf_counter()
    result = run(args.artifact, args.old.resolve(), args.new.resolve(), args.users,
                 args.rounds, explain=not args.plain)
    result |= {"artifact": str(args.artifact), "old": str(args.old), "new": str(args.new),
               "load_average": {"began": [round(x, 2) for x in load],
                                "ended": [round(x, 2) for x in os.getloadavg()]},
               "seconds": round(time.perf_counter() - start, 1)}
    print(json.dumps(result, indent=1))
    from kg.atomic import atomic_write_json

    atomic_write_json(args.out, result)


if __name__ == "__main__":
    main()
