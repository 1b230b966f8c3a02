"""Benchmark: the artifact's SPARQL store (pyoxigraph) against rdflib on the 1M-event world.

The demo world at benchmark scale (100,000 products, 50,000 users, 1,000,000 events, no
images; ``kg.demo.generate_demo_world``, or ``--world DIR``) is read and built into a graph
(the record-made graph: no enrichment stage). Three sections, each can be run alone:

* ``load``: the N-Triples text of the graph written to a file (:func:`kg.rdf_store.store_lines`,
  timed), that file bulk-loaded into a fresh store (oxigraph's load alone), and
  :func:`kg.rdf_store.write_store` as the build runs it (text made and loaded in one stream);
  triples/s and CPU seconds for each. ``--slice N`` loads only the text's first N lines (the
  node triples come first, then the edges block by block), for a figure in a minute;
* ``queries``: three bound 3-hop queries, each over the same sampled bindings: in-process
  engine time (``Store.query``, rows materialised) and the guarded call ``shopgraph query``
  makes (:func:`kg.sparql_store.store_sparql`: check, fork, open read-only, evaluate,
  convert), timed in a fresh process that holds no graph (as the command): a process asking
  the same query text again (its check remembered) and one paying the check every call (as
  one ``shopgraph query`` per process does). p50 and p90 in ms. Run alone with
  ``--store DIR`` (a store kept by an earlier ``--keep-store DIR``), it needs no graph;
* ``rdflib``: rdflib's in-memory graph of the direct triples (:func:`kg.rdf.to_rdflib` with
  ``reified=False``, what ``shopgraph query`` used to build per call): its load, its engine
  time on the same queries and bindings, the row counts compared with oxigraph's, and the
  guarded call timed in this process, which then holds the graph and rdflib's copy (forking
  it costs more). It takes many minutes and about 4 GB: ``--skip-rdflib`` leaves it out.

Run: ``.venv/bin/python bench/sparql_store.py [--world DIR] [--only load|queries]
[--skip-rdflib] [--slice N] [--keep-store DIR | --store DIR]``. It updates
bench/results/sparql_store.json: a section run replaces its old figures, a section not run
keeps the previous ones, and every section carries the ``run`` it comes from (command,
commit, time, load average).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kg.atomic import atomic_write_json  # noqa: E402
from kg.rdf_store import LOAD_STREAMS  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "sparql_store.json"
SECTIONS = ("notes", "world", "graph", "load", "queries", "rdflib")
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
# who may be bound: a user who follows someone, a product with a category (by node index)
CANDIDATES = {"user": "SELECT DISTINCT ?n ?i WHERE { ?n rel:follows ?x ; sg:index ?i }",
              "product": "SELECT DISTINCT ?n ?i WHERE { ?n rel:in_category ?x ; sg:index ?i }"}


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2),
            "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 2),
            "n": len(ordered)}


class _Clock:
    """Wall and CPU seconds (this process's threads) of a block."""

    def __enter__(self) -> _Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def _load(graph: Any, tmp: Path, art: Path, lines_cap: int | None, streams: int
          ) -> dict[str, Any]:
    """Triples/s: text made, oxigraph's bulk load of the text, the build's write_store into
    ``art`` (or, with a cap, the same streamed load of the text's first ``lines_cap``
    lines)."""
    import pyoxigraph as ox

    from kg.rdf_store import STORE_DIR, load_text, store_lines, write_store

    def items() -> Any:
        return store_lines(graph) if lines_cap is None else _first_lines(graph, lines_cap)

    lines = 0
    with _Clock() as text, open(tmp / "graph.nt", "w", encoding="utf-8") as handle:
        for item in items():
            handle.write(item)
            lines += item.count("\n")
    (tmp / "bulk").mkdir()
    with _Clock() as bulk:
        store = ox.Store(str(tmp / "bulk" / "store"))
        store.bulk_load(path=str(tmp / "graph.nt"), format=ox.RdfFormat.N_TRIPLES, lenient=True)
        store.flush()
        del store
    (tmp / "graph.nt").unlink()
    art.mkdir(parents=True)
    with _Clock() as build:
        if lines_cap is None:
            written = write_store(graph, art, streams=streams)
            files, triples = written.files, written.triples
        else:
            load_text(art / STORE_DIR, items(), streams=streams)
            files, triples = list((art / STORE_DIR).iterdir()), None
    out = {"lines": lines, "triples": triples, "first_lines_only": lines_cap,
           "write_store_streams": streams}
    for name, clock in (("text", text), ("bulk_load", bulk), ("write_store", build)):
        out[name] = {"seconds": round(clock.wall, 1), "cpu_seconds": round(clock.cpu, 1),
                     "triples_per_s": round(lines / clock.wall)}
    out["store_files"] = len(files)
    out["store_megabytes"] = round(sum(p.stat().st_size for p in files) / 1e6, 1)
    return out


def _first_lines(graph: Any, cap: int) -> Any:
    """The graph's text items up to ``cap`` lines."""
    from kg.rdf_store import store_lines

    left = cap
    for item in store_lines(graph):
        if left <= 0:
            return
        left -= item.count("\n")
        yield item


def _hash_seconds(folder: Path) -> float:
    from kg.artifact_files import file_sha256

    began = time.perf_counter()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            file_sha256(path)
    return round(time.perf_counter() - began, 2)


def _bindings(store: Any, count: int, rng: random.Random) -> dict[str, list[str]]:
    """Per query, sampled ids (node index order, one generator for all: the same ids as the
    graph's ``nodes(kind)`` filtered by the first hop)."""
    from kg.rdf import PREFIXES, uri_node_id

    prefixes = {k: str(v) for k, v in PREFIXES.items()}
    found = {kind: [uri_node_id(row["n"].value) for row in sorted(
        store.query(text, prefixes=prefixes), key=lambda r: int(r["i"].value))]
        for kind, text in CANDIDATES.items()}
    return {name: rng.sample(found[var], min(count, len(found[var])))
            for name, (var, _) in QUERIES.items()}


LEAN = """
import json, sys, time
import kg.sparql_store as s
folder, text, var, ids = json.loads(sys.argv[1])
s.store_sparql(folder, text, {var: ids[0]})
again, fresh = [], []
for node in ids:
    began = time.perf_counter()
    s.store_sparql(folder, text, {var: node})
    again.append(time.perf_counter() - began)
    s._checked.cache_clear()
    began = time.perf_counter()
    s.store_sparql(folder, text, {var: node})
    fresh.append(time.perf_counter() - began)
print(json.dumps([again, fresh]))
"""


def _lean(store_dir: Path, text: str, var: str, ids: list[str]) -> list[list[float]]:
    """store_sparql's times in a fresh process that holds no graph (as ``shopgraph query``),
    interleaved: the query's check remembered, and paid anew."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", LEAN,
                          json.dumps([str(store_dir), text, var, ids])],
                         check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout)


def _engine(store: Any, text: str, var: str, node: str) -> tuple[float, list[tuple]]:
    """One in-process oxigraph evaluation (after a warm-up): seconds and rows."""
    import pyoxigraph as ox

    from kg.rdf import PREFIXES, node_uri
    from kg.sparql_store import check_store_query, oxigraph_term, prepare_bound

    query, _ = prepare_bound(text, check_store_query(text, {var: node}), [var])
    prefixes = {k: str(v) for k, v in PREFIXES.items()}
    subs = {ox.Variable(var): oxigraph_term(node_uri(node))}
    list(store.query(query, prefixes=prefixes, substitutions=subs))  # warm
    began = time.perf_counter()
    rows = [tuple(s) for s in store.query(query, prefixes=prefixes, substitutions=subs)]
    return time.perf_counter() - began, rows


def _queries(store_dir: Path, ids: dict[str, list[str]]) -> dict[str, Any]:
    from kg.rdf_store import open_store

    store = open_store(store_dir)
    out: dict[str, Any] = {}
    for name, (var, text) in QUERIES.items():
        engine = [_engine(store, text, var, node)[0] for node in ids[name]]
        again, fresh = _lean(store_dir, text, var, ids[name])
        out[name] = {"bound": var, "query": " ".join(text.split()),
                     "oxigraph_engine": _ms(engine),
                     "store_sparql_guarded_lean_process": _ms(again),
                     "store_sparql_guarded_lean_process_check_each_call": _ms(fresh)}
        print(name, out[name], flush=True)
    return out


def _rdflib(graph: Any, store_dir: Path, ids: dict[str, list[str]], count: int
            ) -> dict[str, Any]:
    """rdflib's load and engine times, row counts against oxigraph's, and the guarded call
    from this process (holding the graph and rdflib's copy)."""
    from kg.rdf import PREFIXES, node_uri, to_rdflib
    from kg.rdf_store import open_store
    from kg.sparql_check import check_query
    from kg.sparql_store import store_sparql

    with _Clock() as clock:
        rdf = to_rdflib(graph, reified=False)
    store = open_store(store_dir)
    out: dict[str, Any] = {"load": {"triples": len(rdf), "seconds": round(clock.wall, 1),
                                    "triples_per_s": round(len(rdf) / clock.wall)}}
    for name, (var, text) in QUERIES.items():
        times, guarded, same = [], [], 0
        for i, node in enumerate(ids[name]):
            began = time.perf_counter()
            result = store_sparql(store_dir, text, {var: node})
            guarded.append(time.perf_counter() - began)
            if i < count:
                prepared = check_query(text, PREFIXES, {var: node})
                began = time.perf_counter()
                rows = list(rdf.query(prepared, initBindings={var: node_uri(node)}))
                times.append(time.perf_counter() - began)
                same += len(rows) == len(_engine(store, text, var, node)[1]) == len(
                    result.rows)
        out[name] = {"rdflib_engine": _ms(times), "row_counts_equal": f"{same}/{len(times)}",
                     "store_sparql_guarded_in_bench_process": _ms(guarded)}
        print(name, out[name], flush=True)
    return out


def _run_stamp(argv: list[str]) -> dict[str, Any]:
    """Where a section's figures come from (its load average is taken when it was made)."""
    import pyoxigraph
    import rdflib

    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    return {"command": " ".join(["python bench/sparql_store.py", *argv]),
            "commit": commit or None, "cores": os.cpu_count(),
            "versions": {"pyoxigraph": pyoxigraph.__version__, "rdflib": rdflib.__version__,
                         "python": platform.python_version()},
            "started_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M")}


def _stamped(run: dict[str, Any], figures: dict[str, Any]) -> dict[str, Any]:
    """A section's figures with their run and the load average now."""
    return {**figures, "run": {**run, "load_average_1min_after": round(os.getloadavg()[0], 2)}}


def _graph(world: Path | None, tmp: Path) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    from kg.build import build_graph
    from kg.demo import DemoConfig, generate_demo_world
    from kg.graph import paused_gc
    from kg.reader import read_dataset

    if world is None:
        world = tmp / "world"
        generate_demo_world(world, DemoConfig(**WORLD), progress=False)
        about: dict[str, Any] = {"config": WORLD}
    else:
        about = {"folder": str(world), "note": "made by kg.demo.generate_demo_world; the "
                 "default run generates it with the config WORLD of this script"}
    with _Clock() as clock:
        with paused_gc():
            read = read_dataset(world, progress=False)
        graph = build_graph(read.dataset, progress=False)
    print(graph.summary(), flush=True)
    return graph, about, {"nodes": graph.num_nodes(), "edges": graph.num_edges(),
                          "read_and_build_seconds": round(clock.wall, 1)}


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", type=Path, help="an existing world (default: generate it)")
    parser.add_argument("--only", choices=("load", "queries"),
                        help="run only this section (and rdflib, unless --skip-rdflib)")
    parser.add_argument("--skip-rdflib", action="store_true",
                        help="leave out rdflib (keep its previous figures)")
    parser.add_argument("--slice", type=int, metavar="N",
                        help="load only the text's first N lines (with --only load)")
    parser.add_argument("--load-streams", type=int, default=LOAD_STREAMS, metavar="K",
                        help="bulk loads at once in write_store (default %(default)s; "
                        "kg/rdf_store.py says what two cost)")
    parser.add_argument("--store", type=Path, metavar="DIR",
                        help="query the store in DIR (kept by --keep-store) instead of writing "
                        "one (with --only queries)")
    parser.add_argument("--keep-store", type=Path, metavar="DIR",
                        help="write the store into the new folder DIR (DIR/rdf_store) and "
                        "keep it")
    parser.add_argument("--out", type=Path, default=RESULTS, help="the results JSON to update "
                        "(default: %(default)s)")
    parser.add_argument("--bindings", type=int, default=30)
    parser.add_argument("--rdflib-bindings", type=int, default=10)
    args = parser.parse_args()
    if args.slice is not None and args.only != "load":
        parser.error("--slice goes with --only load (a cut store answers no query)")
    if args.store is not None and (args.only != "queries" or args.keep_store is not None):
        parser.error("--store (a folder kept by --keep-store) goes with --only queries")
    if args.slice is not None and args.keep_store is not None:
        parser.error("--keep-store keeps a whole store: not with --slice")
    if args.keep_store is not None and args.keep_store.exists():
        parser.error(f"--keep-store {args.keep_store}: exists (choose a new folder)")
    return args


def main() -> int:
    """Run the chosen sections and merge their figures into the results JSON."""
    args = _arguments()
    from kg.rdf_store import STORE_DIR, open_store, write_store

    previous = json.loads(args.out.read_text()) if args.out.is_file() else {}
    run = _run_stamp(sys.argv[1:])
    results: dict[str, Any] = {
        "benchmark": "kg.rdf_store + kg.sparql_store vs rdflib",
        "targets": {"load_triples_per_s": 200_000, "bound_3hop_p50_ms": 50},
        **{k: previous[k] for k in SECTIONS if k in previous}}
    with tempfile.TemporaryDirectory(prefix="sparql-store-") as name:
        tmp = Path(name)
        needs_graph = args.store is None or not (args.skip_rdflib or args.only == "load")
        graph = None
        if needs_graph:
            graph, results["world"], built = _graph(args.world, tmp)
            results["graph"] = _stamped(run, built)
        art = args.keep_store or tmp / "art"
        store_dir = None if args.store is None else args.store / STORE_DIR
        if args.only != "queries":
            results["load"] = _stamped(run, _load(graph, tmp, art, args.slice,
                                                      args.load_streams))
            print(results["load"], flush=True)
            store_dir = art / STORE_DIR
        if args.only != "load":
            if store_dir is None:
                art.mkdir(parents=True)
                write_store(graph, art)
                store_dir = art / STORE_DIR
            ids = _bindings(open_store(store_dir), args.bindings, random.Random(7))
            results["queries"] = _stamped(run, {
                **_queries(store_dir, ids), "sha256_seconds": _hash_seconds(store_dir),
                "store": str(args.store or "the store written by this run")})
            if not args.skip_rdflib:
                results["rdflib"] = _stamped(run, _rdflib(graph, store_dir, ids,
                                                          args.rdflib_bindings))
    atomic_write_json(args.out, results)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
