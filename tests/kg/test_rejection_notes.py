"""The build's notice for a file it mostly rejected: the count, the commonest reason, a hint."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from kg.rejection_notes import commonest_reasons, reason_pattern, rejection_notes


def quarantine(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_text("".join(json.dumps({"file": f, "line": i + 1, "reason": r, "raw": "{}"}) + "\n"
                            for i, (f, r) in enumerate(rows)), encoding="utf-8")
    return path


def test_a_reason_pattern_drops_the_values() -> None:
    assert reason_pattern('unknown user "u9" (events.user)') == "unknown user … (events.user)"
    assert reason_pattern('"ts": 1.7e12 is after 2026-12-08') == "…: … is after …-…-…"
    assert reason_pattern('unknown user "a \\"b\\"" (x)') == "unknown user … (x)"


def test_the_commonest_reason_per_file(tmp_path) -> None:
    q = quarantine(tmp_path / "rejected.jsonl", [
        ("events.jsonl", 'unknown user "u1" (events.user)'),
        ("events.jsonl", 'unknown user "u2" (events.user)'),
        ("events.jsonl", 'unknown target "p9" (events.target): no product or post has it'),
        ("posts.jsonl", "not JSON")])
    assert commonest_reasons(q) == {
        "events.jsonl": ("unknown user … (events.user)", 2, 'unknown user "u1" (events.user)'),
        "posts.jsonl": ("not JSON", 1, "not JSON")}


def test_a_file_mostly_rejected_gets_a_note_and_a_missing_file_is_named(tmp_path) -> None:
    q = quarantine(tmp_path / "rejected.jsonl",
                   [("events.jsonl", f'unknown user "u{i}" (events.user)') for i in range(3)]
                   + [("posts.jsonl", "not JSON")])
    inputs = {"events.jsonl": {"read": 4, "rejected": 3},
              "posts.jsonl": {"read": 10, "rejected": 1},
              "products.jsonl": {"read": 0, "rejected": 0}}
    notes = rejection_notes(inputs, q, {"users.jsonl": False, "events.jsonl": True})
    assert notes == ['events.jsonl: 3 of 4 lines rejected; 3 of them like: unknown user "u0" '
                     "(events.user) (the folder has no users.jsonl: every user a record names "
                     "needs its own line there)"]
    # users.jsonl there: the reason alone (a typo, a user file cut short)
    notes = rejection_notes(inputs, q, {"users.jsonl": True})
    assert notes[0].endswith('like: unknown user "u0" (events.user)')
    assert rejection_notes(inputs, q, {}, share=0.8) == []  # 3 of 4 is under 80%


def test_build_warns_on_stderr(tmp_path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "products.jsonl").write_text('{"id": "p1", "title": "Mug"}\n')
    (data / "events.jsonl").write_text('{"user": "u1", "target": "p1", "kind": "view"}\n' * 2)
    done = subprocess.run([sys.executable, "-m", "scripts.cli", "--no-progress", "build",
                           str(data), "--out", str(tmp_path / "art"), "--no-nlp", "--no-vision",
                           "--no-profiles", "--no-models"], capture_output=True, text=True,
                          check=True)
    assert "events.jsonl: 2 of 2 lines rejected" in done.stderr
    assert "the folder has no users.jsonl" in done.stderr
