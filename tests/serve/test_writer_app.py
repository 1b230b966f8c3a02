"""The writer's internal app (:mod:`recommend.serve.writer_app`): a write applied and
answered with its log seq, a refusal with its reasons and nothing logged, an unknown route,
a body that is not JSON, and the readers' ready call."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from recommend.serve.state import ServedState
from recommend.serve.writer_app import WriterApp


def test_writes_refusals_and_ready(small_demo_artifact: Path, tmp_path: Path) -> None:
    state = ServedState(small_demo_artifact, tmp_path / "state", defer_model=True)
    try:
        client = TestClient(WriterApp(state, readers=1))  # no lifespan: uvicorn's is off
        got = client.post("/write/events",
                          json={"user": "u0001", "target": "p0002", "kind": "cart"})
        assert got.status_code == 200 and got.json() == {
            "accepted": 1, "merged": 0, "not_interested": 0, "seq": 1}
        bad = client.post("/write/events", json=[
            {"user": "u0001", "target": "p0003", "kind": "cart"},
            {"user": "u0001", "target": "p0003", "kind": "teleport"}])
        assert bad.status_code == 422 and "kind" in bad.json()["rejections"][0]["reason"]
        assert state.log.last_seq == 1  # nothing of the refused request logged
        assert client.post("/write/nothing", json={}).status_code == 404
        assert client.get("/write/events").status_code == 404
        assert client.post("/write/events", content=b"{not json").status_code == 400
        assert client.post("/ready/1").json() == {"ready": 1}
    finally:
        state.detach()
