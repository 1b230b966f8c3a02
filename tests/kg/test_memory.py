"""release_memory collects unreachable cycles and trims the heap where glibc is the C library;
collect_only_new keeps what was alive before it out of the collector's walks; so does
frozen_while_alive while its owner lives, and after a thaw the next full collection frees what
was replaced and freezes the rest again."""

from __future__ import annotations

import gc
import platform
import weakref

from kg.memory import collect_only_new, frozen_while_alive, release_memory, thaw


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


class _Owner:
    pass


class _Holder:
    def __init__(self) -> None:
        self.node: _Node | None = _Node()


def test_frozen_while_alive_leaves_what_was_alive_out_until_the_owner_is_gone():
    was = gc.isenabled()
    gc.disable()
    try:
        before = _cycle()
        owner = _Owner()
        frozen_while_alive(owner)
        assert gc.get_freeze_count() > 0
        release_memory()
        assert before() is not None  # frozen: not walked while the owner lives
        del owner  # (freed by reference counting: its finalizer unfreezes)
        assert gc.get_freeze_count() == 0
        release_memory()
        assert before() is None
    finally:
        if was:
            gc.enable()


def test_a_thaw_frees_what_was_replaced_and_the_next_full_collection_freezes_the_rest():
    was = gc.isenabled()
    gc.disable()
    try:
        holder = _Holder()  # a served state's cycle
        replaced = weakref.ref(holder.node)
        owner = _Owner()
        frozen_while_alive(owner)
        holder.node = None  # the state is replaced: its cycle is garbage, but frozen
        release_memory()
        assert replaced() is not None  # without a thaw it would stay for the owner's life
        thaw()
        assert gc.get_freeze_count() == 0
        release_memory()
        assert replaced() is None
        assert gc.get_freeze_count() > 0  # what survived the full walk is frozen again
        release_memory()
        assert gc.get_freeze_count() > 0  # (once: later collections do not refreeze)
        del owner
        assert gc.get_freeze_count() == 0
    finally:
        if was:
            gc.enable()


def test_a_build_scope_ending_under_an_owner_refreezes_after_the_next_full_collection():
    was = gc.isenabled()
    gc.disable()
    try:
        owner = _Owner()
        frozen_while_alive(owner)
        with collect_only_new():
            made = _cycle()
        assert gc.get_freeze_count() == 0  # the scope's end gave everything back
        release_memory()
        assert made() is None and gc.get_freeze_count() > 0
        del owner
        assert gc.get_freeze_count() == 0
    finally:
        if was:
            gc.enable()
