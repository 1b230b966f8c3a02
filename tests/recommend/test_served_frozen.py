"""A served model's objects are left out of the cyclic collector's walks (a full collection of
a loaded size world took 100-375 ms inside a request); a publish gives them back so a replaced
model's cycles are freed, and a dropped Recommender unfreezes everything (it is freed by
reference counting: no cycle runs through it)."""

from __future__ import annotations

import gc
import time
import weakref
from pathlib import Path

from kg.records import Event
from recommend import Recommender


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_served_objects_are_frozen_a_publish_frees_the_replaced_model_and_a_drop_unfreezes(
        small_demo_artifact: Path) -> None:
    was = gc.isenabled()
    gc.disable()
    try:
        probe = _Cycle()  # (alive at the load: frozen with the model)
        rec = Recommender.load(small_demo_artifact, verify=False)
        assert gc.get_freeze_count() > 0
        rec._serving.latest().probe = probe  # type: ignore[attr-defined]  # the old state's cycle
        old = weakref.ref(probe)
        del probe
        gc.collect()
        assert old() is not None
        users, products = rec.graph.raw_ids("user"), rec.graph.raw_ids("product")
        assert rec.add([Event(users[1], products[2], "product", "purchase",
                              ts=time.time() - 60)]).accepted == 1
        gc.collect()
        assert old() is None  # the replaced state's cycle is freed, not kept frozen
        assert gc.get_freeze_count() > 0  # the new one frozen after that full collection
        assert rec.recommend(rec.graph.nodes("user")[0], k=5)  # the new state serves
        serving = weakref.ref(rec._serving)
        del rec
        assert serving() is None  # no cycle through it: its finalizer has run
        assert gc.get_freeze_count() == 0
    finally:
        if was:
            gc.enable()
