"""``shopgraph audience``: text, CSV and JSON output; bad seeds and items are usage errors."""

from __future__ import annotations

import csv
import io
import json

from scripts.cli import main


def test_audience_csv_and_json(market_artifact, capsys) -> None:
    assert main(["audience", str(market_artifact), "--item", "p0004", "-n", "7", "--csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0][:2] == ["user", "score"] and rows[0][-2:] == ["paths", "withheld"]
    assert len(rows) == 8 and all(r[0].startswith("user:") for r in rows[1:])
    assert main(["audience", str(market_artifact), "--item", "product:p0004", "-n", "7",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["item"] == "product:p0004" and len(out["members"]) == 7
    assert [m["user"] for m in out["members"]] == [r[0] for r in rows[1:]]


def test_audience_text_and_lookalikes(market_artifact, tmp_path, capsys) -> None:
    assert main(["audience", str(market_artifact), "--item", "p0004", "-n", "30"]) == 0
    text = capsys.readouterr().out
    assert "  1. user:" in text and "Spending power:" in text
    seed = tmp_path / "customers.csv"
    seed.write_text("user\n" + "\n".join(f"u{k:04d}" for k in range(1, 40)) + "\n")
    assert main(["audience", str(market_artifact), "--seed", str(seed), "-n", "5",
                 "--csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == ["user", "score"] and len(rows) == 6


def test_audience_errors(market_artifact, tmp_path, capsys) -> None:
    seed = tmp_path / "customers.csv"
    seed.write_text("u0001\nnobody\n")
    assert main(["audience", str(market_artifact), "--seed", str(seed)]) == 2
    assert f"{seed}:2: unknown user 'nobody'" in capsys.readouterr().err
    assert main(["audience", str(market_artifact), "--seed", str(tmp_path / "none.csv")]) == 2
    assert main(["audience", str(market_artifact), "--item", "nothing"]) == 2
    assert "unknown item" in capsys.readouterr().err
