"""``shopgraph demo``: generates, builds and queries the demo world end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.artifact import load_artifact
from scripts.cli import main


def test_demo_builds_a_loadable_artifact_and_answers_sparql(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["demo", "--out", str(tmp_path / "out"), "--no-progress", "--clip-epochs", "2"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    artifact = load_artifact(tmp_path / "out" / "artifact")
    assert artifact.manifest["records"]["rejected"] == 0
    assert artifact.graph.num_edges("purchased") > 0
    brand_rows = [line for line in printed.splitlines() if line.startswith("brand:")]
    assert brand_rows, printed
    counts = [int(line.split()[-1]) for line in brand_rows]
    assert counts == sorted(counts, reverse=True)
    page = (tmp_path / "out" / "recommendations.html").read_text(encoding="utf-8")
    assert "user:newcomer" in page and page.count('class="card"') == 15
