"""A written user's list, computed by a long-running serving process (its model grown write
after write, every cache it keeps carried across them), is byte for byte the one a fresh
model holding the same writes computes: the artifact loaded anew and the log replayed up to
that write, nothing kept from before it."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import SimpleNamespace

from recommend.recommender import Recommender
from recommend.serve.api import RecsQuery
from recommend.serve.compute import ComputeServer
from recommend.serve.feedback import Refusals
from recommend.serve.reader import ReaderState
from recommend.serve.served import replay
from recommend.serve.shared_cache import SharedResponses
from recommend.serve.state import ServedState

#: Events of several kinds and users (one user twice), then a new product and an event on
#: it (a product grows the session transitions: the kept column forms must follow).
WRITES = [("events", {"user": "u0003", "target": "p0002", "kind": "purchase"}),
          ("events", {"user": "u0007", "target": "p0005", "kind": "like"}),
          ("events", {"user": "u0003", "target": "p0009", "kind": "cart"}),
          ("events", {"user": "u0011", "target": "p0001", "kind": "view"}),
          ("products", {"id": "fresh1", "title": "Stoneware Travel Mug", "price": 9.5,
                        "brand": "Hearthstone", "categories": ["Home", "Kitchen"]}),
          ("events", {"user": "u0011", "target": "fresh1", "kind": "purchase"}),
          ("events", {"user": "u0007", "target": "p0003", "kind": "click"})]


def test_a_list_after_writes_is_what_a_fresh_model_holding_them_computes(
        small_demo_artifact: Path, tmp_path: Path) -> None:
    state_dir, shared_file = tmp_path / "state", tmp_path / "responses.sqlite"
    writer = ServedState(small_demo_artifact, state_dir, defer_model=True)
    computing = ReaderState(small_demo_artifact, state_dir, tmp_path / "no-writer.sock",
                            worker=3, shared=SharedResponses(shared_file, 60, 1000))
    server = ComputeServer(computing, tmp_path / "compute.sock", None, warm=[])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    typed = computing.rec.user_id
    users = sorted({body["user"] for route, body in WRITES if route == "events"})
    for user in users:  # the long-running process's caches filled before the writes
        RecsQuery().body(computing, typed(user), None)
    reader = SharedResponses(shared_file, 60, 1000)  # a reader's view of the shared level
    try:
        for route, body in WRITES:
            seq = writer.write(route, body).seq
            assert seq is not None
            if route != "events":
                continue
            uid = typed(body["user"])
            reader.note([{"seq": seq, "files": {"events.jsonl": [body]}}], typed)
            deadline = time.monotonic() + 20
            while (kept := reader.get(RecsQuery().key(uid), uid)) is None:
                assert time.monotonic() < deadline, f"{uid} not computed after seq {seq}"
                time.sleep(0.02)
            assert kept.seq == seq  # the next write waits for this one's list
            fresh = Recommender.load(small_demo_artifact)
            replay(fresh, [e for e in writer.log.entries() if e["seq"] <= seq])
            expected = RecsQuery().body(SimpleNamespace(rec=fresh, refusals=Refusals()), uid,
                                        None)
            assert kept.body == expected, (route, body)
    finally:
        server.shutdown()
        server.close()
        computing.close()
        reader.close()
        writer.close()
