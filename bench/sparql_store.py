"""Benchmark: the artifact's SPARQL store (pyoxigraph) against rdflib on the 1M-event world.

The demo world at benchmark scale (100,000 products, 50,000 users, 1,000,000 events, no
images; ``kg.demo.generate_demo_world``, or ``--world DIR``) is read and built into a graph
(the record-made graph: no enrichment stage). Then:

* load: the N-Triples text of the graph written to a file (:func:`kg.rdf_store.store_lines`,
  timed), that file bulk-loaded into a fresh store (oxigraph's load alone), and
  :func:`kg.rdf_store.write_store` as the build runs it (text made and loaded); triples/s
  for each. rdflib's in-memory graph of the direct triples (:func:`kg.rdf.to_rdflib` with
  ``reified=False``, what ``shopgraph query`` used to build per call) for comparison;
* queries: three bound 3-hop queries, each over the same sampled bindings: in-process
  engine time (oxigraph ``Store.query`` vs rdflib ``Graph.query``, rows materialised) and
  the guarded call ``shopgraph query`` makes (:func:`kg.sparql_store.store_sparql`: check,
  fork, open read-only, evaluate, convert), timed in a fresh process that holds no graph
  (as the command) and in this one (which holds the graph and rdflib's copy, so forking
  costs more). p50 and p90 in ms;
* the store's size and the time to sha256 its files (what loading the artifact adds).

Run: ``.venv/bin/python bench/sparql_store.py [--world DIR]``; writes
bench/results/sparql_store.json. The machine's load average is recorded with the figures.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kg.atomic import atomic_write_json  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "sparql_store.json"
WORLD = {"seed": 7, "n_products": 100_000, "n_users": 50_000, "n_events": 1_000_000,
         "images": False}
QUERIES = {
    # brands bought by the people a user follows (the demo's query): user, friend, product, brand
    "followed_brands": ("user", """
        SELECT ?brand (COUNT(?product) AS ?purchases) WHERE {
            ?user rel:follows ?friend . ?friend rel:purchased ?product .
            ?product rel:made_by ?brand .
        } GROUP BY ?brand ORDER BY DESC(?purchases) ?brand LIMIT 5"""),
    # other products of a product's categories and their brands: product, category, other, brand
    "category_brands": ("product", """
        SELECT DISTINCT ?other ?brand WHERE {
            ?product rel:in_category ?category . ?other rel:in_category ?category .
            ?other rel:made_by ?brand . FILTER (?other != ?product)
        } LIMIT 50"""),
    # the broader categories of what a user viewed: user, product, category, broader
    "viewed_broader": ("user", """
        SELECT ?broader (COUNT(?product) AS ?views) WHERE {
            ?user rel:viewed ?product . ?product rel:in_category ?category .
            ?category rel:broader ?broader .
        } GROUP BY ?broader ORDER BY DESC(?views) ?broader LIMIT 5"""),
}


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2),
            "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 2),
            "n": len(ordered)}


def _load(graph: Any, tmp: Path) -> dict[str, Any]:
    """Triples/s: text made, oxigraph's bulk load of the text, the build's write_store."""
    import pyoxigraph as ox

    from kg.rdf_store import store_lines, write_store

    began = time.perf_counter()
    lines = 0
    with open(tmp / "graph.nt", "w", encoding="utf-8") as handle:
        for text in store_lines(graph):
            handle.write(text)
            lines += text.count("\n")
    text_seconds = time.perf_counter() - began
    (tmp / "bulk").mkdir()
    began = time.perf_counter()
    store = ox.Store(str(tmp / "bulk" / "store"))
    store.bulk_load(path=str(tmp / "graph.nt"), format=ox.RdfFormat.N_TRIPLES)
    store.flush()
    del store
    bulk_seconds = time.perf_counter() - began
    (tmp / "graph.nt").unlink()
    (tmp / "art").mkdir()
    began = time.perf_counter()
    written = write_store(graph, tmp / "art")
    build_seconds = time.perf_counter() - began
    return {"lines": lines, "triples": written.triples,
            "text_seconds": round(text_seconds, 1),
            "text_lines_per_s": round(lines / text_seconds),
            "bulk_load_seconds": round(bulk_seconds, 1),
            "bulk_load_triples_per_s": round(lines / bulk_seconds),
            "write_store_seconds": round(build_seconds, 1),
            "write_store_triples_per_s": round(lines / build_seconds),
            "store_files": len(written.files),
            "store_megabytes": round(sum(p.stat().st_size for p in written.files) / 1e6, 1)}


def _hash_seconds(folder: Path) -> float:
    from kg.artifact_files import file_sha256

    began = time.perf_counter()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            file_sha256(path)
    return round(time.perf_counter() - began, 2)


def _bindings(graph: Any, kind: str, count: int, rng: random.Random) -> list[str]:
    """Sampled ids of ``kind`` that have the first hop's edges (a user who follows someone
    or viewed something, a product with a category)."""
    relation = {"user": "follows", "product": "in_category"}[kind]
    candidates = [n for n in graph.nodes(kind) if graph.neighbors(n, relation)]
    return rng.sample(candidates, min(count, len(candidates)))


LEAN = """
import json, sys, time
from kg.sparql_store import store_sparql
folder, text, var, ids = json.loads(sys.argv[1])
store_sparql(folder, text, {var: ids[0]})
times = []
for node in ids:
    began = time.perf_counter()
    store_sparql(folder, text, {var: node})
    times.append(time.perf_counter() - began)
print(json.dumps(times))
"""


def _lean(store_dir: Path, text: str, var: str, ids: list[str]) -> list[float]:
    """store_sparql's times in a fresh process that holds no graph (as ``shopgraph query``:
    forking a process that holds gigabytes costs more)."""
    import json
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", LEAN, json.dumps([str(store_dir), text, var,
                                                                 ids])],
                         check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout)


def _queries(graph: Any, store_dir: Path, count: int, rdflib_count: int) -> dict[str, Any]:
    from kg.rdf import PREFIXES, node_uri, to_rdflib
    from kg.rdf_store import open_store
    from kg.sparql_check import check_query
    from kg.sparql_store import oxigraph_term, prepare_bound, store_sparql

    rng = random.Random(7)
    began = time.perf_counter()
    rdf = to_rdflib(graph, reified=False)
    rdflib_seconds = time.perf_counter() - began
    store = open_store(store_dir)
    prefixes = {k: str(v) for k, v in PREFIXES.items()}
    out: dict[str, Any] = {"rdflib_load": {"triples": len(rdf),
                                           "seconds": round(rdflib_seconds, 1),
                                           "triples_per_s": round(len(rdf) / rdflib_seconds)}}
    import pyoxigraph as ox

    for name, (var, text) in QUERIES.items():
        kind = "user" if var == "user" else "product"
        ids = _bindings(graph, kind, count, rng)
        ox_times, rdf_times, guarded, same = [], [], [], 0
        for i, node in enumerate(ids):
            query, _ = prepare_bound(text, check_query(text, PREFIXES, {var: node}), [var])
            prepared = check_query(text, PREFIXES, {var: node})  # prepare_bound changed its own
            subs = {ox.Variable(var): oxigraph_term(node_uri(node))}
            list(store.query(query, prefixes=prefixes, substitutions=subs))  # warm
            began = time.perf_counter()
            ox_rows = [tuple(s) for s in store.query(query, prefixes=prefixes,
                                                     substitutions=subs)]
            ox_times.append(time.perf_counter() - began)
            began = time.perf_counter()
            result = store_sparql(store_dir, text, {var: node})
            guarded.append(time.perf_counter() - began)
            if i < rdflib_count:
                began = time.perf_counter()
                rdf_rows = list(rdf.query(prepared, initBindings={var: node_uri(node)}))
                rdf_times.append(time.perf_counter() - began)
                same += len(rdf_rows) == len(ox_rows) == len(result.rows)
        out[name] = {"bound": var, "query": " ".join(text.split()),
                     "oxigraph_engine": _ms(ox_times),
                     "store_sparql_guarded_lean_process": _ms(_lean(store_dir, text, var, ids)),
                     "store_sparql_guarded_in_bench_process": _ms(guarded),
                     "rdflib_engine": _ms(rdf_times),
                     "row_counts_equal": f"{same}/{len(rdf_times)}"}
        print(name, out[name], flush=True)
    return out


def main() -> int:
    """Run the benchmark once and write its JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", type=Path, help="an existing world (default: generate it)")
    parser.add_argument("--bindings", type=int, default=30)
    parser.add_argument("--rdflib-bindings", type=int, default=10)
    args = parser.parse_args()
    import pyoxigraph
    import rdflib

    from kg.build import build_graph
    from kg.demo import DemoConfig, generate_demo_world
    from kg.graph import paused_gc
    from kg.reader import read_dataset

    with tempfile.TemporaryDirectory(prefix="sparql-store-") as name:
        tmp = Path(name)
        world = args.world
        if world is None:
            world = tmp / "world"
            generate_demo_world(world, DemoConfig(**WORLD), progress=False)
        began = time.perf_counter()
        with paused_gc():
            read = read_dataset(world, progress=False)
        graph = build_graph(read.dataset, progress=False)
        graph_seconds = time.perf_counter() - began
        print(graph.summary(), flush=True)
        load = _load(graph, tmp)
        print(load, flush=True)
        store_dir = tmp / "art" / "rdf_store"
        load["sha256_seconds"] = _hash_seconds(store_dir)
        queries = _queries(graph, store_dir, args.bindings, args.rdflib_bindings)
    results = {
        "benchmark": "kg.rdf_store + kg.sparql_store vs rdflib",
        "command": "python bench/sparql_store.py" + (f" --world {args.world}" if args.world
                                                     else ""),
        "world": {"config": WORLD} if args.world is None else {
            "folder": str(args.world), "note": "made by kg.demo.generate_demo_world; the "
            "default run generates it with the config WORLD of this script"},
        "graph": {"nodes": graph.num_nodes(), "edges": graph.num_edges(),
                  "read_and_build_seconds": round(graph_seconds, 1)},
        "load": load,
        "queries": queries,
        "targets": {"load_triples_per_s": 200_000, "bound_3hop_p50_ms": 50},
        "versions": {"pyoxigraph": pyoxigraph.__version__, "rdflib": rdflib.__version__,
                     "python": platform.python_version()},
        "cores": os.cpu_count(),
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),
    }
    atomic_write_json(RESULTS, results)
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
