"""A catalogue with no user, and users with no product: the audience says the graph holds no
user (not "every user has it already"), and one segment of identical users is "1 segment",
with no silhouette (not "1 segments ..., silhouette nan")."""

from __future__ import annotations

import json
from pathlib import Path

from scripts.cli import main


def _build(root: Path, name: str, rows: list[dict], *flags: str) -> Path:
    (root / name).write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["--no-progress", "build", str(root), "--out", str(root / "art"), "--no-nlp",
                 "--no-vision", *flags]) == 0
    return root / "art"


def test_an_audience_in_a_shop_with_no_user_says_so(tmp_path: Path, capsys) -> None:
    art = _build(tmp_path, "products.jsonl", [{"id": f"p{i}", "title": f"Lamp {i}"}
                                              for i in range(5)], "--no-profiles")
    capsys.readouterr()
    assert main(["--no-progress", "audience", str(art), "--item", "p1"]) == 0
    got = capsys.readouterr()
    assert got.out == "" and "no audience for product:p1: the graph holds no user" in got.err


def test_identical_users_are_one_segment_without_a_silhouette(tmp_path: Path, capsys) -> None:
    art = _build(tmp_path, "users.jsonl", [{"id": f"u{i}"} for i in range(6)], "--graph-only")
    capsys.readouterr()
    assert main(["--no-progress", "segments", str(art)]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first == "6 users -> 1 segment (kmeans), no silhouette for one segment"
