"""release_memory collects unreachable cycles and trims the heap where glibc is the C library."""

from __future__ import annotations

import gc
import platform
import weakref

from kg.memory import release_memory


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
