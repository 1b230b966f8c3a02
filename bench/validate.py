"""Benchmark: validating reader throughput on a synthetic dataset with bad lines mixed in.

Writes ~10k products, ~20k users, 50k follows, 20k posts and 1M events (plus ~0.5% bad lines
of varied kinds per file, and some identical duplicates) into a temporary folder, then
times ``kg.reader.read_dataset`` and reports records/s overall and per file, and peak RSS.

Run: ``.venv/bin/python bench/validate.py [--events 1000000]``; writes bench/results/validate.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from kg.atomic import atomic_write_json
from kg.reader import read_dataset

RESULTS = Path(__file__).resolve().parent / "results" / "validate.json"
KINDS = ["view", "click", "like", "comment", "share", "cart", "purchase", "rate"]


def _bad_line(rng: random.Random, kind: str) -> bytes:
    """One bad line of a random flavour (what real exports get wrong)."""
    flavour = rng.randrange(8)
    if flavour == 0:
        return b'{"id": "x", "title": "broken'  # malformed JSON
    if flavour == 1:
        return b'{"user": "u1", "target": "\xff\xfe"}'  # not UTF-8
    if flavour == 2:
        return b"[1, 2, 3]"  # not an object
    if flavour == 3:
        return b'{"nothing": "useful"}'  # missing ids
    if flavour == 4:
        return {
            "products": b'{"id": "p-bad", "title": "t", "price": NaN}',
            "users": b'{"id": "u-bad", "age": "old"}',
            "follows": b'{"follower": "u1", "followee": "u1"}',
            "posts": b'{"id": "q-bad", "author": "nobody"}',
            "events": b'{"user": "u1", "target": "p1", "kind": "rate", "value": NaN}',
        }[kind]
    if flavour == 5:
        return {
            "products": b'{"id": "p1", "title": "a conflicting title"}',
            "users": b'{"id": "u1", "age": 151}',
            "follows": b'{"follower": "ghost", "followee": "u1"}',
            "posts": b'{"id": "q1", "author": "u1", "products": ["p-none"]}',
            "events": b'{"user": "ghost", "target": "p1", "kind": "view"}',
        }[kind]
    if flavour == 6:
        return b'{"id": 1.5, "user": true, "follower": [], "kind": "buy", "ts": "yesterday"}'
    return b'{"user": "u2", "target": "nowhere", "kind": "view", "ts": 1e30}'


def _write(
    path: Path, rows: Iterable[dict[str, Any]], kind: str, rng: random.Random, bad: float
) -> int:
    """Write rows as JSON Lines with bad lines and duplicates interleaved; return line count."""
    n_lines = 0
    with open(path, "wb") as out:
        for row in rows:
            line = json.dumps(row, separators=(",", ":")).encode()
            out.write(line + b"\n")
            n_lines += 1
            if rng.random() < bad:
                out.write(_bad_line(rng, kind) + b"\n")
                n_lines += 1
            if rng.random() < 0.001:
                out.write(line + b"\n")  # identical duplicate: merged
                n_lines += 1
        if kind == "events":
            out.write(b'{"user": "u1", "text": "' + b"x" * (1 << 21) + b'"}\n')  # over 1 MB
            n_lines += 1
    return n_lines


def make_dataset(
    root: Path, *, n_products: int, n_users: int, n_events: int, seed: int
) -> dict[str, int]:
    """Write the synthetic dataset; return lines written per file."""
    rng = random.Random(seed)
    brands = [f"brand{i}" for i in range(300)]
    cats = [f"cat{i}" for i in range(60)]
    products = [
        {
            "id": f"p{i}",
            "title": f"Product {i} {rng.choice(brands)}",
            "brand": rng.choice(brands),
            "categories": rng.sample(cats, 2),
            "price": round(rng.uniform(1, 300), 2),
            "attributes": {"colour": rng.choice(["red", "blue"]), "size": rng.randrange(30, 50)},
        }
        for i in range(n_products)
    ]
    users = [
        {"id": f"u{i}", "age": rng.randrange(14, 90), "location": rng.choice(["Oslo", "Lyon"])}
        for i in range(n_users)
    ]
    follow_pairs = {(rng.randrange(n_users), rng.randrange(n_users)) for _ in range(50_000)}
    follows = [{"follower": f"u{a}", "followee": f"u{b}"} for a, b in follow_pairs if a != b]
    n_posts = n_users
    posts = [
        {
            "id": f"q{i}",
            "author": f"u{rng.randrange(n_users)}",
            "text": "loving my new shoes",
            "ts": 1_600_000_000 + i,
            "products": [f"p{rng.randrange(n_products)}"],
        }
        for i in range(n_posts)
    ]
    lines = {}
    for name, rows in (
        ("products", products),
        ("users", users),
        ("follows", follows),
        ("posts", posts),
    ):
        lines[f"{name}.jsonl"] = _write(root / f"{name}.jsonl", rows, name, rng, 0.005)

    def events() -> Iterator[dict[str, Any]]:
        for i in range(n_events):
            kind = rng.choice(KINDS)
            on_post = kind in ("like", "comment", "share") and rng.random() < 0.5
            target = f"q{rng.randrange(n_posts)}" if on_post else f"p{rng.randrange(n_products)}"
            row = {"user": f"u{rng.randrange(n_users)}", "target": target, "kind": kind}
            if rng.random() < 0.5:
                row["target"] = ("post:" if on_post else "product:") + target
            if kind == "rate":
                row["value"] = rng.randrange(1, 6)
            row["ts"] = 1_600_000_000 + i if i % 10 else "2021-03-04T05:06:07Z"
            yield row

    lines["events.jsonl"] = _write(root / "events.jsonl", events(), "events", rng, 0.005)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        lines = make_dataset(
            root, n_products=10_000, n_users=20_000, n_events=args.events, seed=args.seed
        )
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        start, cpu_start = time.perf_counter(), time.process_time()
        result = read_dataset(root, progress=False)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    total = sum(c.read for c in result.counts.values())
    per_file = {}
    for name, c in result.counts.items():
        per_file[name] = {
            "lines": lines[name],
            "read": c.read,
            "accepted": c.accepted,
            "rejected": c.rejected,
            "merged": c.merged,
            "seconds": round(c.seconds, 3),
            "records_per_s": round(c.read / c.seconds) if c.seconds else None,
        }
        assert c.read == c.accepted + c.rejected, name
        print(
            f"{name:15s} {c.read:>9,} read {c.accepted:>9,} accepted {c.rejected:>6,} rejected "
            f"{c.merged:>5,} merged  {c.seconds:6.2f} s  {c.read / c.seconds:>9,.0f} records/s"
        )
    print(f"overall: {total:,} records in {seconds:.2f} s = {total / seconds:,.0f} records/s")
    print(f"CPU time {cpu:.2f} s = {total / cpu:,.0f} records per CPU-second")
    print(f"peak RSS {rss_peak:,.0f} MiB (before reading {rss_before:,.0f} MiB)")
    atomic_write_json(
        RESULTS,
        {
            "benchmark": "read_dataset (validate + quarantine), progress off",
            "command": f"python bench/validate.py --events {args.events} --seed {args.seed}",
            "python": platform.python_version(),
            "cpu": platform.processor() or platform.machine(),
            "records": total,
            "seconds": round(seconds, 3),
            "records_per_s": round(total / seconds),
            "cpu_seconds": round(cpu, 3),
            "records_per_cpu_s": round(total / cpu),
            "load_average_1min": round(os.getloadavg()[0], 2),
            "rejections": len(result.rejections),
            "peak_rss_mib": round(rss_peak),
            "rss_before_read_mib": round(rss_before),
            "files": per_file,
        },
    )


if __name__ == "__main__":
    main()
