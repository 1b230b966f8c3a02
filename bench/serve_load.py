"""Benchmark: ``shopgraph serve`` under load, killed with -9 mid-run, and nothing lost.

Loopback only, bounded in time, stops by itself. Starts ``shopgraph serve ARTIFACT`` in a
subprocess (fresh ``--state`` in a temporary folder, an API key, snapshots every 20 s), then
``--clients`` concurrent clients (asyncio) for ``--seconds``: 90% ``GET
/v1/users/{u}/recommendations?k=10&explain=true`` for random known users, 10% ``POST
/v1/events`` of one event (view, click, like, cart or purchase of a random product, each with
its own timestamp, so none merges). Users and products are drawn uniformly at random (each
client its own seeded generator) from every user of the artifact and every described product:
no user is favoured, so the server's response cache (``--cache-seconds``,
:mod:`recommend.serve.cache`) hits only when a user comes back within its seconds without a
write of theirs in between. The share of recommendations answered from it (the ``X-Cache``
header each answer carries) is reported as ``cache``; ``--cache-seconds 0`` runs the same load
with the cache off. At ``--kill-at`` of the run the server gets SIGKILL while
the clients go on (their failed calls in the dead window are counted apart, and no event
whose answer was lost counts as acknowledged); it is restarted on the same state (its start
replays the log) and the run goes on to the end. Then the server is stopped (SIGINT: a
shutdown snapshot), the state is loaded once more in this process, and every acknowledged
event is looked for as a stored edge with its timestamp.

Also measured: how soon a feedback event shows (a purchase of the first recommended product,
then the next recommendations must leave it out), and how soon it is reflected in full (the
answer's ``X-Log-Seq`` at least the purchase's log seq: a list computed from a model holding
it, not one kept from before it with the product taken out, :mod:`recommend.serve.stale`),
``--visibility`` times.

The clients are :mod:`load_client` connections (bench/load_client.py), not httpx: the load
shares the machine with the server, and httpx's AsyncClient took ~2.4 ms of CPU per request
from it (a seventh of the machine at 32 clients), this one a fraction of that. They run on
uvloop's event loop when it is installed (the serve extra): against a server sending a fixed
6 KB answer, 32 of them spent ~17 us of CPU per request there, ~40 us on asyncio's.

Reports the CPU the load generator (this process) and the server spent per answered request
(``cpu_ms_per_request``: they share the machine's cores), the machine's load average, and
throughput (over the whole run, and ``throughput_up_rps`` over the time the server was up: the
run less the kill-to-restarted window), p50/p99 per route, errors outside the kill window, peak
server memory (VmRSS), restart (replay) seconds, acknowledged events and how many were lost.
Where the recommendations' tail comes from (``routes.recommendations.tail``, bench/serve_tail.py):
p50/p99 by ``X-Cache`` (hit, stale, miss) and by why a request could not be a plain hit (the
user's own write before it, their first request, other), in the seconds after the restart and
outside them, and per 5 s of the run; ``server_cpu_seconds`` splits the server's CPU (whole
run) between the writer and its children (readers, compute), and start-up (``start_up``: each
start's until its health answered: loads, replay, warm-up) from the rest; ``server_by_process``
splits the CPU per request (while up) by process kind (writer, reader, compute). Before the
load, ``--lone`` requests of each route from one client, one at a time (``lone``): the cost of a
request itself. Under the load the clients are closed-loop by default (each sends its next
request when the last is answered), so by Little's law their mean latency is ``clients /
throughput``: at 32 clients, 200 req/s means 160 ms on average, and a p99 of 50 ms needs over
640 req/s. ``--rate R`` runs them open-loop instead: R requests/s in all on a fixed schedule,
each timed from when it was due (a request stuck behind a slow one counts its wait), which is
the latency a shop sees at that traffic.

Run: ``.venv/bin/python bench/serve_load.py --artifact ART [--seconds 60] [--clients 32]
[--rate 200] [--workers N] [--cache-seconds S] [--name serve_load_ml100k]``; ``--workers``
and ``--cache-seconds`` are the server's (``--workers 1``: one process; N: a writer and N
reader processes, memory summed over them); ``--serve-option ARG`` passes one more (e.g.
``--serve-option=--reader-nice=5``; the bench measures the defaults without it); ``--demo``
builds the small demo world instead (a correctness run). Writes bench/results/NAME.json.
Targets (issue 17): on ML-100K at 32 clients, explained recommendations p99 <= 50 ms and >=
200 req/s; 0 errors; 0 acknowledged events lost; a feedback event visible within 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sys
import tempfile
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np
from serve_process import KEY, CpuWhileUp, Server, free_port
from serve_tail import Reasons, Timed, tail

from kg.atomic import atomic_write_json

RESULTS = Path(__file__).resolve().parent / "results"
KINDS = ("view", "click", "like", "cart", "purchase")
#: Seconds a client waits after a failed call while the server is down: with 0.05 s the 32
#: clients' refused connections took 0.063 s of CPU a second from the restarting server,
#: with 0.25 s 0.013 (and the health look's new httpx client every 0.2 s ~0.09 s a second).
DOWN_RETRY = 0.25


class Load:
    """What the clients saw."""

    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = {"recommendations": [], "events": []}
        self.timed: list[Timed] = []  # each answered recommendation (serve_tail)
        self.reasons = Reasons()
        self.start = time.perf_counter()
        self.cache: dict[str, int] = {}  # recommendations answered, by their X-Cache
        self.errors: list[str] = []
        self.errors_while_down = 0
        self.served_while_down = 0  # answered between the kill and the restarted health
        self.acked: list[dict] = []
        self.down = False


async def client(load: Load, server: Server, users: list[str], products: list[str],
                 stop_at: float, rng: random.Random, feedback_share: float,
                 interval: float | None = None) -> None:
    """Send requests until ``stop_at``: each as soon as the last is answered (closed loop),
    or with ``interval`` one every ``interval`` s on a fixed schedule (open loop), timed from
    when it was due, so a request held up behind a slow one counts its wait."""
    from load_client import Connection, TransportError

    due = time.perf_counter() + (rng.random() * interval if interval else 0.0)
    query = urlencode(RECS_PARAMS)
    async with Connection("127.0.0.1", server.port, timeout=10, connect_retry=5.0) as http:
        while time.perf_counter() < stop_at:
            if interval:
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
            feedback = rng.random() < feedback_share
            start = due if interval else time.perf_counter()
            due += interval or 0.0
            try:
                if feedback:
                    event = make_event(rng, users, products)
                    got = await http.post("/v1/events", event, headers={"X-API-Key": KEY})
                    ok = got.status == 200 and got.json().get("accepted") == 1
                    if ok:
                        load.acked.append(event)
                        load.reasons.wrote(event["user"], time.perf_counter())
                else:
                    user = rng.choice(users)
                    reason, since = load.reasons.asked(user, start)
                    got = await http.get(f"/v1/users/{user}/recommendations?{query}")
                    ok = got.status == 200
                    if ok:
                        how = got.headers.get("x-cache", "none")
                        load.cache[how] = load.cache.get(how, 0) + 1
                        load.timed.append(Timed(start - load.start, how,
                                                time.perf_counter() - start, reason, since))
                route = "events" if feedback else "recommendations"
                if ok:
                    load.latency[route].append(time.perf_counter() - start)
                    load.served_while_down += load.down
                elif load.down:
                    load.errors_while_down += 1
                else:
                    load.errors.append(f"{route}: {got.status} {got.body[:200]!r}")
            except TransportError as err:
                if load.down:
                    load.errors_while_down += 1
                    await asyncio.sleep(DOWN_RETRY)
                else:
                    load.errors.append(f"{type(err).__name__}: {err}")


async def run_load(server: Server, users: list[str], products: list[str], args) -> dict:
    load = Load()
    rng = random.Random(0)
    start = load.start = time.perf_counter()
    stop_at = start + args.seconds
    interval = args.clients / args.rate if args.rate else None
    tasks = [asyncio.create_task(client(load, server, users, products, stop_at,
                                        random.Random(rng.random()), args.feedback_share,
                                        interval))
             for _ in range(args.clients)]
    restart_seconds = restarted_at = None
    kill_time = start + args.kill_at * args.seconds
    cpu = CpuWhileUp(server)
    while time.perf_counter() < stop_at:
        server.sample()
        if restart_seconds is None and args.kill_at < 1 and time.perf_counter() >= kill_time:
            load.down = True
            acked_before_kill = len(load.acked)
            down_since = time.perf_counter()
            cpu.pause()
            server.kill()
            await asyncio.to_thread(server.start)
            restart_seconds = time.perf_counter() - down_since
            restarted_at = time.perf_counter() - start
            cpu.resume()
            load.down = False
            print(f"killed -9 with {acked_before_kill} events acknowledged; restarted in "
                  f"{restart_seconds:.1f} s", file=sys.stderr)
        await asyncio.sleep(0.25)
    await asyncio.gather(*tasks)
    cpu.pause()
    wall = time.perf_counter() - start
    routes = {}
    for route, lat in load.latency.items():
        ms = np.array(lat) * 1000
        routes[route] = {"count": len(lat), **({
            "p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p99_ms": round(float(np.percentile(ms, 99)), 2)} if len(lat) else {})}
    routes["recommendations"]["tail"] = tail(load.timed, restarted_at)
    served = sum(len(v) for v in load.latency.values())
    served_up = served - load.served_while_down
    up = wall - (restart_seconds or 0.0)
    looked = sum(load.cache.get(h, 0) for h in ("hit", "stale", "miss"))
    return {"cache": {**load.cache, "hit_rate": round(load.cache.get("hit", 0) / looked, 4)
                      if looked else None},
            "cpu_ms_per_request": cpu.per_request(served_up) if served_up else None,
            "server_cpu_seconds": server.cpu_split(),
            "wall_seconds": round(wall, 1), "requests": served,
            "throughput_rps": round(served / wall, 1),
            "throughput_up_rps": round(served / up, 1), "routes": routes,
            "errors": len(load.errors), "error_samples": load.errors[:5],
            "failed_while_down": load.errors_while_down,
            "restart_seconds": None if restart_seconds is None else round(restart_seconds, 2),
            "peak_rss_mb": round(server.peak_rss_kb / 1024, 1), "acked": load.acked}


#: The recommendation request every client sends.
RECS_PARAMS = {"k": 10, "explain": "true"}


def make_event(rng: random.Random, users: list[str], products: list[str]) -> dict:
    """One feedback event of a random user on a random product, timed in the last ~day."""
    return {"user": rng.choice(users), "target": rng.choice(products),
            "target_type": "product", "kind": rng.choice(KINDS),
            "ts": round(time.time() - rng.random() * 1e5, 6)}


def lone(server: Server, users: list[str], products: list[str], times: int) -> dict:
    """p50/p99 of ``times`` explained recommendations and ``times // 4`` feedback events
    sent one at a time by one client (no queueing: what one request costs)."""
    import httpx

    rng = random.Random(2)
    out = {}
    with httpx.Client(base_url=server.url, timeout=10) as http:
        for route, n in (("recommendations", times), ("events", times // 4)):
            lat = []
            for _ in range(n):
                start = time.perf_counter()
                if route == "events":
                    http.post("/v1/events", headers={"X-API-Key": KEY},
                              json=make_event(rng, users, products)).raise_for_status()
                else:
                    http.get(f"/v1/users/{rng.choice(users)}/recommendations",
                             params=RECS_PARAMS).raise_for_status()
                lat.append((time.perf_counter() - start) * 1000)
            if lat:
                out[route] = {"count": n, "p50_ms": round(float(np.percentile(lat, 50)), 2),
                              "p99_ms": round(float(np.percentile(lat, 99)), 2)}
    return out


def visibility(server: Server, users: list[str], times: int) -> dict:
    """Seconds from a purchase's 2xx until the next recommendations leave the item out
    (``worst_seconds``), and until they are a list computed from a model holding the
    purchase (``fresh_worst_seconds``: the answer's ``X-Log-Seq`` at least the write's log
    seq; None when the server sends no such header); each read after the purchase on a new
    connection, so with ``--workers N`` any reader may answer it (not only the one that took
    the purchase). A trial whose call timed out (10 s) is counted (``timed_out``)."""
    import httpx

    seen, worst, fresh, fresh_worst, timed_out = 0, 0.0, 0, 0.0, 0
    with httpx.Client(base_url=server.url, timeout=10) as http:
        for user in random.Random(1).sample(users, min(times, len(users))):
            try:
                gone, recomputed = _visible(http, user)
            except httpx.TimeoutException:  # counted, not the end of the run (a busy machine)
                gone, recomputed, timed_out = None, None, timed_out + 1
            if gone is not None:
                seen, worst = seen + 1, max(worst, gone)
            if recomputed is not None and recomputed >= 0:
                fresh, fresh_worst = fresh + 1, max(fresh_worst, recomputed)
    return {"trials": times, "visible_within_5s": seen, "worst_seconds": round(worst, 4),
            "recomputed_within_5s": fresh, "timed_out": timed_out,
            "fresh_worst_seconds": round(fresh_worst, 4) if fresh else None}


def _visible(http: Any, user: str) -> tuple[float | None, float | None]:
    """One :func:`visibility` trial: (gone, recomputed) seconds, None: not within 5 s."""
    if not (recs := http.get(f"/v1/users/{user}/recommendations", params={"k": 5}).json()):
        return None, None
    item = recs[0]["item"]
    seq = http.post("/v1/events", headers={"X-API-Key": KEY}, json={
        "user": user, "target": item, "kind": "purchase"}).raise_for_status().json()["seq"]
    start, gone, recomputed = time.perf_counter(), None, None
    while time.perf_counter() - start < 5 and (gone is None or recomputed is None):
        again = http.get(f"/v1/users/{user}/recommendations", params={"k": 5},
                         headers={"Connection": "close"})
        now = time.perf_counter() - start
        if gone is None and item not in [r["item"] for r in again.json()]:
            gone = now
        reflects = again.headers.get("x-log-seq")
        if reflects is None or int(reflects) >= seq:
            recomputed = now if reflects is not None else -1.0
    return gone, recomputed


def lost_events(artifact: Path, state: Path, acked: list[dict]) -> int:
    """Acknowledged events missing from the state loaded afresh (snapshot plus log)."""
    from kg.schema import EVENT_RELATIONS
    from recommend.serve.state import ServedState

    served = ServedState(artifact, state)
    graph = served.rec.graph
    lost = 0
    for e in acked:
        edges = graph.neighbors(f"user:{e['user']}", EVENT_RELATIONS[e["kind"]])
        if not any(x.dst == f"product:{e['target']}" and x.ts is not None
                   and abs(x.ts - e["ts"]) < 1e-3 for x in edges):
            lost += 1
    served.detach()
    return lost


def demo_artifact(root: Path) -> Path:
    from kg.artifact import build_artifact
    from kg.demo import DemoConfig, generate_demo_world
    from recommend.hybrid.config import HybridConfig
    from recommend.model_stage import model_stage

    generate_demo_world(root / "data", DemoConfig(n_users=120, n_products=80, n_posts=300,
                                                  images=False))
    build_artifact(root / "data", root / "art", progress=False,
                   stages=[("models", model_stage(HybridConfig()))])
    return root / "art"


def run_loop(main: Coroutine[Any, Any, dict]) -> dict:
    """``main`` run on uvloop's event loop when it is installed, else asyncio's (module
    doc)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--artifact", type=Path, default=None)
    parser.add_argument("--demo", action="store_true", help="build and use the small demo world")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--feedback-share", type=float, default=0.1)
    parser.add_argument("--kill-at", type=float, default=0.5,
                        help="share of the run after which the server is killed (1: never)")
    parser.add_argument("--visibility", type=int, default=20)
    parser.add_argument("--lone", type=int, default=200,
                        help="requests sent one at a time before the load (0: none)")
    parser.add_argument("--rate", type=float, default=None,
                        help="open loop: this many requests/s in all, spread over the clients"
                             " on a fixed schedule (default: closed loop, as fast as answered)")
    parser.add_argument("--workers", type=int, default=None,
                        help="the server's --workers (default: the server's, the cores)")
    parser.add_argument("--cache-seconds", type=float, default=None,
                        help="the server's --cache-seconds (default: the server's; 0: off)")
    parser.add_argument("--serve-option", action="append", default=[], metavar="ARG",
                        help="one more argument for `shopgraph serve` (repeatable, e.g. "
                        "--serve-option=--reader-nice=5); recorded in the result")
    parser.add_argument("--name", default="serve_load")
    args = parser.parse_args()
    if (args.artifact is None) == (not args.demo):
        parser.error("give --artifact ART or --demo")
    if not 0 < args.seconds <= 600 or not 1 <= args.clients <= 256:
        parser.error("--seconds in (0, 600], --clients in [1, 256]")
    from recommend.recommender import Recommender

    with tempfile.TemporaryDirectory(prefix="serve-load-") as tmp:
        root = Path(tmp)
        artifact = demo_artifact(root) if args.demo else args.artifact.resolve()
        graph = Recommender.load(artifact).graph
        products = [graph.node_id("product", int(i)).partition(":")[2]
                    for i in np.flatnonzero(graph.described("product"))]
        users = graph.raw_ids("user")
        server = Server(artifact, root / "state", free_port(), root / "server.log",
                        args.workers, args.cache_seconds, args.serve_option)
        first_start = server.start()
        alone = lone(server, users, products, args.lone)
        load_before = os.getloadavg()
        load = run_loop(run_load(server, users, products, args))
        load["machine_load"] = {"before": [round(x, 2) for x in load_before],
                                "after": [round(x, 2) for x in os.getloadavg()]}
        seen = visibility(server, users, args.visibility)
        server.stop()
        acked = load.pop("acked")
        lost = lost_events(artifact, root / "state", acked)
        result = {"artifact": str(artifact), "clients": args.clients, "seconds": args.seconds,
                  "rate": args.rate, "workers": args.workers,
                  "cache_seconds": args.cache_seconds, "serve_options": args.serve_option,
                  "feedback_share": args.feedback_share, "kill_at": args.kill_at,
                  "first_start_seconds": round(first_start, 2), "lone": alone, **load,
                  "acknowledged_events": len(acked), "lost_events": lost,
                  "visibility": seen, "machine": {"cpus": os.cpu_count(),
                                                  "python": platform.python_version()}}
    RESULTS.mkdir(parents=True, exist_ok=True)
    atomic_write_json(RESULTS / f"{args.name}.json", result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
