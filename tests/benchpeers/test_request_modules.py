"""bench/request_modules.py: it lists the repository modules that run, and who called whom."""

from __future__ import annotations

from bench.request_modules import ROOT, grouped, module_of, traced


def test_module_of_names_repository_modules_only() -> None:
    assert module_of(str(ROOT / "kg" / "schema.py")) == "kg.schema"
    assert module_of(str(ROOT / "recommend" / "paths" / "__init__.py")) == "recommend.paths"
    assert module_of(str(ROOT / "tests" / "conftest.py")) is None
    assert module_of(str(ROOT / "bench" / "shapes.py")) is None
    assert module_of("/usr/lib/python3/json/__init__.py") is None


def test_traced_lists_the_modules_that_ran_and_the_calls_between_them() -> None:
    from kg.build import build_graph
    from kg.records import Dataset, Product

    with traced() as trace:
        build_graph(Dataset(products=[Product(id="a", title="A", categories=("Shoes",))]),
                    progress=False)
    assert {"kg.build", "kg.schema"} <= trace.modules
    assert not any(name.startswith(("bench", "tests")) for name in trace.modules)
    assert any(caller == "kg.build" for caller, _ in trace.calls)
    assert all(caller in trace.modules and callee in trace.modules and caller != callee
               for caller, callee in trace.calls)
    with traced() as idle:
        sum(range(3))
    assert idle.modules == set()


def test_grouped_by_subpackage() -> None:
    assert grouped({"kg.edges", "recommend.paths.path", "recommend.request"}) == {
        "kg": ["kg.edges"], "recommend.paths": ["recommend.paths.path"],
        "recommend": ["recommend.request"]}
