"""A catalogue of one product that every user has: each command says why it found nothing,
never a bare empty answer (or a blank line), nor a "()" of no parts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts.cli import main


def _built(root: Path, buyers: int) -> Path:
    rows = {"products.jsonl": [{"id": "p0", "title": "Red mug", "categories": ["Home"]}],
            "users.jsonl": [{"id": f"u{j}"} for j in range(8)],
            "events.jsonl": [{"user": f"u{j}", "target": "p0", "kind": "purchase",
                              "ts": 1_700_000_000 + j} for j in range(buyers)]}
    for name, lines in rows.items():
        (root / name).write_text("".join(json.dumps(r) + "\n" for r in lines))
    assert main(["--no-progress", "build", str(root), "--out", str(root / "art"), "--no-nlp",
                 "--no-vision", "--no-profiles"]) == 0
    return root / "art"


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _built(tmp_path_factory.mktemp("one_product"), buyers=8)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[str, str]:
    assert main(["--no-progress", *argv]) == 0
    got = capsys.readouterr()
    return got.out, got.err


def test_similar_says_the_catalogue_holds_no_other_product(artifact: Path, capsys) -> None:
    out, err = _run(capsys, "similar", str(artifact), "--item", "p0")
    assert out == ""
    assert "no product similar to product:p0: the catalogue holds no other product" in err


def test_audience_of_a_product_everyone_has_says_so(artifact: Path, capsys) -> None:
    out, err = _run(capsys, "audience", str(artifact), "--item", "p0", "-n", "3")
    assert out == ""
    assert "no audience for product:p0: every user has it already" in err


def test_a_score_no_component_gave_anything_to_says_so(artifact: Path, capsys) -> None:
    out, _ = _run(capsys, "explain", str(artifact), "--user", "u0", "--item", "p0")
    assert out.splitlines()[0] == "product:p0 for user:u0: score 0.000 (no component scores it)"


def test_an_audience_nothing_orders_says_so(tmp_path: Path, capsys) -> None:
    art = _built(tmp_path, buyers=5)  # u5, u6, u7 lack it; nothing tells them apart
    capsys.readouterr()
    out, err = _run(capsys, "audience", str(art), "--item", "p0", "-n", "2")
    assert len(out.splitlines()) == 2
    assert "the 2 users shown all score 0.000 for product:p0: nothing orders them" in err
