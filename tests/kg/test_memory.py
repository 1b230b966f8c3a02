"""release_memory collects unreachable cycles and trims the heap where glibc is the C library;
collect_only_new keeps what was alive before it out of the collector's walks; as_long_lived
moves what a load made to the oldest generation unwalked."""

from __future__ import annotations

import gc
import platform
import weakref

from kg.memory import as_long_lived, collect_only_new, release_memory


class _Node:
    def __init__(self) -> None:
        self.me = self


def test_release_memory_collects_cycles_and_trims_on_glibc():
    was = gc.isenabled()
    gc.disable()
    try:
        node = _Node()
        ref = weakref.ref(node)
        del node
        assert ref() is not None  # a cycle: only the collector frees it
        trimmed = release_memory()
        assert ref() is None
    finally:
        if was:
            gc.enable()
    assert trimmed == (platform.libc_ver()[0] == "glibc")


def _cycle() -> weakref.ref:
    node = _Node()
    return weakref.ref(node)  # the cycle is garbage once this frame ends


def test_collect_only_new_walks_only_what_the_scope_made_and_frees_the_rest_after():
    was = gc.isenabled()
    gc.disable()
    try:
        before = _cycle()
        with collect_only_new():
            with collect_only_new():  # nested: one freeze for both
                inner = _cycle()
                release_memory()
                assert inner() is None  # the scope's own garbage is collected
                assert before() is not None  # what was alive before it is not walked
            assert gc.get_freeze_count() > 0  # the outer scope still holds the freeze
            release_memory()
            assert before() is not None
        assert gc.get_freeze_count() == 0
        release_memory()
        assert before() is None  # unfrozen at the end: collected by the next collection
    finally:
        if was:
            gc.enable()


def test_a_hybrid_fit_runs_inside_the_scope_even_outside_a_build():
    from recommend.hybrid.config import BlendConfig, HybridConfig
    from recommend.hybrid.encoders import LsaEncoder
    from recommend.hybrid.fit import fit_hybrid
    from tests.recommend.shops import two_group_shop

    frozen: list[int] = []
    config = HybridConfig(components=("cf", "popularity"),
                          blend=BlendConfig(learned_ranker=False))
    fit_hybrid(two_group_shop(40, 6, described=True, seed=0), config, encoder=LsaEncoder(dim=8),
               log=lambda _: frozen.append(gc.get_freeze_count()))
    assert frozen and min(frozen) > 0  # what was alive before the fit is left out
    assert gc.get_freeze_count() == 0


def _in_generation(obj: object, generation: int) -> bool:
    return any(o is obj for o in gc.get_objects(generation))


def test_as_long_lived_moves_the_young_to_the_oldest_generation_unwalked():
    was = gc.isenabled()
    gc.disable()
    try:
        data = [{"ids": [1, 2]} for _ in range(50)]
        assert _in_generation(data, 0)
        collections = gc.get_stats()[0]["collections"]
        as_long_lived()
        assert _in_generation(data, 2) and not _in_generation(data, 0)
        assert gc.get_freeze_count() == 0
        assert gc.get_stats()[0]["collections"] == collections  # nothing walked
        garbage = _cycle()
        as_long_lived()
        gc.collect(1)
        assert garbage() is not None  # a young collection no longer sees it
        gc.collect()
        assert garbage() is None  # the next full collection does
        with collect_only_new():
            frozen = gc.get_freeze_count()
            young = [[0]]
            as_long_lived()  # inside a scope: its freeze is kept, nothing moves
            assert gc.get_freeze_count() == frozen and _in_generation(young, 0)
        gc.freeze()  # frozen by someone else (a served model kept out of the walks)
        try:
            later = [[1]]
            frozen = gc.get_freeze_count()
            as_long_lived()
            assert gc.get_freeze_count() == frozen and _in_generation(later, 0)
        finally:
            gc.unfreeze()
    finally:
        if was:
            gc.enable()


def test_a_loaded_graphs_nodes_are_not_left_young(tmp_path):
    from kg.graph_io import load_graph, save_graph
    from tests.recommend.shops import two_group_shop

    save_graph(two_group_shop(30, 5, described=True, seed=0), tmp_path)
    was = gc.isenabled()
    gc.disable()
    try:
        gc.collect()
        graph = load_graph(tmp_path)
        assert _in_generation(graph._ids["product"], 2)
        assert _in_generation(graph._attrs["product"], 2)
    finally:
        if was:
            gc.enable()
