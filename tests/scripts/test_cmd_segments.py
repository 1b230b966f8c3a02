"""``shopgraph segments`` describes a segment (its members' mean interests, from what they
bought) only when it holds at least ``privacy.min_people`` users: its reader is the shop's
marketer, another person, who sees aggregates over at least that many (docs/marketer.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kg.artifact import build_artifact
from kg.jsonl import write_dataset
from kg.records import Dataset, Event, Product, User
from scripts.cli import main


def artifact(tmp_path: Path, group: int) -> Path:
    """Two kinds of shoppers, ``group`` users each: one buys kitchen things, one bath things."""
    products = [Product(f"p{i}", f"Item {i}", categories=("kitchen" if i < 3 else "bath",))
                for i in range(6)]
    users = [User(f"u{j}") for j in range(2 * group)]
    events = [Event(f"u{j}", f"p{i + (3 if j >= group else 0)}", "product", "purchase",
                    ts=1.7e9 + 60 * (3 * j + i)) for j in range(2 * group) for i in range(3)]
    write_dataset(Dataset(products, users, [], [], events), tmp_path / "data")
    build_artifact(tmp_path / "data", tmp_path / "art", progress=False)
    return tmp_path / "art"


@pytest.mark.parametrize("group", [4, 5])
def test_a_segment_under_min_people_is_not_described(tmp_path: Path, capsys, group: int
                                                     ) -> None:
    art = artifact(tmp_path, group)
    assert main(["segments", str(art), "--k", "2", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)["segments"]
    assert sorted(s["size"] for s in found) == [group, group]
    assert all(bool(s["top_features"]) == (group >= 5) for s in found)
    assert main(["segments", str(art), "--k", "2"]) == 0
    text = capsys.readouterr().out
    assert ("category:" in text) == (group >= 5)
    assert ("fewer than 5 users" in text) == (group < 5)
