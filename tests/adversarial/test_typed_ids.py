"""An export whose ids already carry their type ("product:7", "user:3") reads and answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kg.reader import read_dataset


def _write(folder: Path, name: str, rows: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def _typed_world(folder: Path) -> None:
    _write(folder, "products.jsonl", [{"id": f"product:{i}", "title": f"Lamp {i}"}
                                      for i in range(3)] + [{"id": "9", "title": "Mug"}])
    _write(folder, "users.jsonl", [{"id": "user:1"}, {"id": "user:2"}])
    _write(folder, "events.jsonl", [
        {"user": "user:1", "target": "product:0", "kind": "purchase"},
        {"user": "user:2", "target": "product:1", "kind": "view", "target_type": "product"},
        {"user": "user:2", "target": "product:9", "kind": "view"},  # typed, raw "9" exists
        {"user": "user:2", "target": "product:5", "kind": "view"},  # neither exists
    ])


def test_a_typed_target_falls_back_to_the_raw_id_that_spells_it(tmp_path: Path) -> None:
    _typed_world(tmp_path)
    result = read_dataset(tmp_path, progress=False)
    targets = [(e.target, e.target_type) for e in result.dataset.events]
    # "product:9" means raw "9" (typed wins), "product:0" is only a raw id
    assert targets == [("product:0", "product"), ("product:1", "product"), ("9", "product")]
    assert [r.line for r in result.rejections] == [4]
    assert result.rejections[0].reason == 'unknown product "5" (events.target)'


def test_typed_raw_ids_are_found_as_written(tmp_path: Path) -> None:
    from recommend.request import graph_id

    nodes = {"product:product:0", "product:9", "user:user:1", "user:product:x"}

    class Graph:
        def has_node(self, node: str) -> bool:
            return node in nodes

    g = Graph()
    assert graph_id(g, "product:0", "product") == "product:product:0"  # only the raw id
    assert graph_id(g, "product:9", "product") == "product:9"  # typed wins
    assert graph_id(g, "9", "product") == "product:9"
    assert graph_id(g, "user:1", "user") == "user:user:1"
    assert graph_id(g, "product:x", "user") == "user:product:x"
    assert graph_id(g, "user:7", "user") == "user:7"  # unknown either way: typed
    with pytest.raises(ValueError, match="is a product id, expected a user"):
        graph_id(g, "product:y", "user")


@pytest.mark.parametrize(("raw", "reason"), [
    ("x" * 1001, "is 1,001 characters long; at most 1,000"),
    ("a\tb", "holds a control character"),
    ("a\x85b", "holds a control character"),
    ("..", "is a path step: no URL can carry it (/items/.. is /)"),
    (".", "is a path step: no URL can carry it (/items/.. is /)"),
])
def test_an_id_no_command_or_url_can_carry_is_rejected(tmp_path: Path, raw: str,
                                                        reason: str) -> None:
    _write(tmp_path, "users.jsonl", [{"id": raw}, {"id": "y" * 1000}, {"id": "👩🏽\u200d💻"}])
    result = read_dataset(tmp_path, progress=False)
    assert [u.id for u in result.dataset.users] == ["y" * 1000, "👩🏽\u200d💻"]
    assert result.rejections[0].line == 1 and result.rejections[0].reason.endswith(reason)


def test_the_profile_command_finds_a_typed_raw_user(tmp_path: Path, capsys) -> None:
    from kg.artifact import build_artifact
    from scripts.cli import main

    _typed_world(tmp_path / "data")
    build_artifact(tmp_path / "data", tmp_path / "art", progress=False, stages=[])
    assert main(["profile", str(tmp_path / "art"), "--user", "user:1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["user_id"] == "user:user:1"
