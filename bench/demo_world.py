"""Benchmark: generating the demo world at benchmark scale, and at the default size.

Times ``kg.demo.generate_demo_world`` with 100,000 products, 50,000 users, 1,000,000 events
and no images (the scale other benchmarks feed on), then the default world (with images).
Reports wall and CPU seconds per run, rows per file and the process's peak RSS; each run is
in a fresh subprocess so the peak RSS belongs to it alone.

Run: ``.venv/bin/python bench/demo_world.py``; writes bench/results/demo_world.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from kg.atomic import atomic_write_json

RESULTS = Path(__file__).resolve().parent / "results" / "demo_world.json"
CHILD = """
import json, resource, sys, time
from kg.demo import DemoConfig, generate_demo_world
config = DemoConfig(**json.loads(sys.argv[1]))
wall, cpu = time.perf_counter(), time.process_time()
summary = generate_demo_world(sys.argv[2], config, progress=False)
print(json.dumps({"wall_seconds": round(time.perf_counter() - wall, 2),
                  "cpu_seconds": round(time.process_time() - cpu, 2),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                  "counts": summary.counts}))
"""


def run(config: dict[str, object]) -> dict[str, object]:
    """Generate one world in a subprocess; return its figures."""
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, json.dumps(config), str(Path(tmp) / "world")],
            check=True,
            capture_output=True,
            text=True,
        )
        figures = json.loads(out.stdout)
        size = sum(f.stat().st_size for f in (Path(tmp) / "world").rglob("*") if f.is_file())
    figures["megabytes_written"] = round(size / 1e6, 1)
    return {"config": config, **figures}


def main() -> int:
    """Run the benchmark and write its JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    big = {
        "seed": args.seed,
        "n_products": 100_000,
        "n_users": 50_000,
        "n_events": 1_000_000,
        "images": False,
    }
    runs = {"benchmark_scale": run(big), "default": run({"seed": args.seed})}
    for name, figures in runs.items():
        print(
            f"{name}: {figures['wall_seconds']} s wall, {figures['cpu_seconds']} s CPU, "
            f"peak RSS {figures['peak_rss_mb']} MB, {figures['megabytes_written']} MB written"
        )
        print("  " + ", ".join(f"{k} {v}" for k, v in figures["counts"].items()))
    atomic_write_json(
        RESULTS,
        {
            "benchmark": "kg.demo.generate_demo_world",
            "command": f"python bench/demo_world.py --seed {args.seed}",
            "cpu": platform.machine(),
            "cores": os.cpu_count(),
            "load_average_1min": round(os.getloadavg()[0], 2),
            "runs": runs,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
