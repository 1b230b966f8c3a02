"""``shopgraph import``: the files it writes, its summary line, and its errors."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import pytest

from kg.atomic import atomic_dir
from kg.ownership import DATASET_KIND
from kg.reader import read_dataset
from scripts.cli import main


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_import_movielens_writes_a_valid_dataset_quickly(shared_dataset, tmp_path, capsys):
    out = tmp_path / "ml"
    start = time.perf_counter()
    code = main(["import", "movielens", str(shared_dataset("ml-100k")), "--out", str(out)])
    elapsed = time.perf_counter() - start
    assert code == 0
    line = capsys.readouterr().out.strip()
    assert "events.jsonl 100000" in line and "users.jsonl 943" in line and "rejected 0" in line
    assert elapsed < 10
    assert (out / "import_rejected.jsonl").read_text() == ""
    read = read_dataset(out, progress=False)
    assert read.rejections == []
    assert len(read.dataset.events) == 100_000


def _write_small_movielens(folder: Path) -> None:
    folder.mkdir()
    (folder / "u.genre").write_text("unknown|0\nDrama|1\n")
    (folder / "u.user").write_text("1|30|F|writer|02139\n2|40|M|other\n")
    (folder / "u.item").write_text("1|Heat (1995)|01-Jan-1995||url|0|1\n")
    (folder / "u.data").write_text("1\t1\t4\t881250949\n1\tone\t4\t881250949\n")


def test_rejected_source_rows_are_written_and_counted(tmp_path, capsys):
    _write_small_movielens(tmp_path / "src")
    out = tmp_path / "out"
    with atomic_dir(out, kind=DATASET_KIND) as previous:  # an earlier import with side files
        (previous / "heldout").mkdir()
        (previous / "relations.jsonl").write_text('{"relation": "old", "src": "a:1"}\n')
        (previous / "heldout" / "test_purchases.jsonl").write_text("{}\n")
    assert main(["import", "movielens", str(tmp_path / "src"), "--out", str(out)]) == 0
    assert "rejected 2" in capsys.readouterr().out
    rejected = _jsonl(out / "import_rejected.jsonl")
    assert [(r["file"], r["line"]) for r in rejected] == [("u.user", 2), ("u.data", 2)]
    assert all(r["reason"] for r in rejected)
    # a previous import's side files do not survive into this one
    assert not (out / "relations.jsonl").exists()
    assert not (out / "heldout" / "test_purchases.jsonl").exists()
    assert _jsonl(out / "products.jsonl") == [
        {
            "id": "1",
            "title": "Heat",
            "categories": ["movie", "Drama"],
            "attributes": {"genres": "Drama", "release_date": "01-Jan-1995", "imdb_url": "url",
                           "decade": "1990s"},
            "year": 1995,
        }
    ]


def test_import_amazon_beauty_kg_writes_relations_and_heldout(tmp_path, capsys):
    src, out = tmp_path / "src", tmp_path / "out"
    files = {
        "pgpr/product.txt.gz": "P0\nP1\n",
        "pgpr/users.txt.gz": "U0\n",
        "pgpr/brand.txt.gz": "Acme\n",
        "pgpr/category.txt.gz": "Beauty\n",
        "pgpr/related_product.txt.gz": "R0\n",
        "pgpr/brand_p_b.txt.gz": "0\n\n",
        "pgpr/category_p_c.txt.gz": "0\n0\n",
        "pgpr/also_bought_p_p.txt.gz": "0\n\n",
        "pgpr/also_viewed_p_p.txt.gz": "\n0\n",
        "pgpr/bought_together_p_p.txt.gz": "\n\n",
        "cafe/train_labels.txt.gz": "0\t0\n",
        "cafe/test_labels.txt.gz": "0\t1\n",
    }
    for name, text in files.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_bytes(gzip.compress(text.encode()))
    assert main(["import", "amazon-beauty-kg", str(src), "--out", str(out)]) == 0
    summary = capsys.readouterr().out
    assert "relations.jsonl 2" in summary and "heldout/test_purchases.jsonl 1" in summary
    assert _jsonl(out / "relations.jsonl") == [
        {"relation": "also_bought", "src": "product:P0", "dst": "product:R0"},
        {"relation": "also_viewed", "src": "product:P1", "dst": "product:R0"},
    ]
    assert _jsonl(out / "heldout" / "test_purchases.jsonl") == [{"user": "U0", "product": "P1"}]
    assert _jsonl(out / "events.jsonl") == [
        {"user": "U0", "target": "product:P0", "kind": "purchase"}
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["import", "ciao"], "give the source folder"),
        (["import", "ciao", "no/such/folder"], "source folder not found"),
        (["import", "amazon-reviews", ".", "--limit", "5"], "--limit applies to"),
    ],
)
def test_bad_command_lines_exit_2_with_a_reason(tmp_path, capsys, argv, message):
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    assert message in capsys.readouterr().err


def test_import_demo_writes_a_valid_dataset(tmp_path, capsys):
    demo = pytest.importorskip("kg.demo")
    if not hasattr(demo, "generate_demo_world"):
        pytest.skip("kg.demo.generate_demo_world is not written yet")
    out = tmp_path / "demo"
    argv = [
        "import",
        "demo",
        "--out",
        str(out),
        "--seed",
        "3",
        "--users",
        "30",
        "--products",
        "40",
        "--posts",
        "40",
        "--no-images",
    ]
    assert main(argv) == 0
    assert "demo world" in capsys.readouterr().out
    read = read_dataset(out, progress=False)
    assert read.rejections == []
    assert len(read.dataset.users) == 30 and len(read.dataset.products) == 40
