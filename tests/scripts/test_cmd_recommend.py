"""shopgraph recommend / explain / similar on a small demo artifact."""

from __future__ import annotations

import json

import pytest

from scripts.cli import main
from scripts.cmd_recommend import format_parts


@pytest.fixture
def artifact(small_demo_artifact):
    return small_demo_artifact


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_parts_print_signed_and_drop_the_tiny_ones() -> None:
    assert format_parts({"cf": 0.1234, "content": 0.004, "graph": -0.02, "social": -0.006}) \
        == "cf +0.12, graph -0.02, social -0.01"
    assert format_parts({"cf": 0.0}) == "no component scores it"


def test_text_output_names_each_part_in_recommend_and_explain(artifact, capsys) -> None:
    code, out, _ = run(capsys, "recommend", artifact, "--user", "u0001", "-k", "1")
    line = out.splitlines()[0]
    item = line.split()[1]
    assert code == 0 and line.startswith(" 1. product:")
    parts = line.rpartition("(")[2].rstrip(")")
    code, out, _ = run(capsys, "explain", artifact, "--user", "u0001", "--item", item)
    assert code == 0
    assert out.splitlines()[0].startswith(f"{item} for user:u0001: score ")
    assert out.splitlines()[0].endswith(f" ({parts})")


def test_recommend_json_has_the_documented_keys(artifact, capsys) -> None:
    code, out, _ = run(capsys, "recommend", artifact, "--user", "u0001", "-k", "4", "--json")
    assert code == 0
    recs = json.loads(out)
    assert len(recs) == 4
    for r in recs:
        assert {"item", "score", "parts", "paths"} <= set(r)
        assert r["item"].startswith("product:") and isinstance(r["parts"], dict)
        for p in r["paths"]:
            assert {"nodes", "edges", "text"} <= set(p)
            assert p["nodes"][0] == "user:u0001" and p["nodes"][-1] == r["item"]
            assert all(len(e) == 3 for e in p["edges"])


def test_recommend_text_and_filters(artifact, capsys) -> None:
    code, out, _ = run(capsys, "recommend", artifact, "--user", "user:u0001", "-k", "3",
                       "--price-max", "25")
    assert code == 0 and out.count("product:") >= 3


def test_recommend_html_writes_the_page(artifact, capsys, tmp_path) -> None:
    code, out, _ = run(capsys, "recommend", artifact, "--user", "u0001", "-k", "2",
                       "--html", tmp_path / "why.html")
    page = (tmp_path / "why.html").read_text(encoding="utf-8")
    assert code == 0 and page.startswith("<!DOCTYPE html>")
    items = [line.split()[1] for line in out.splitlines() if line[:3].strip().rstrip(".").isdigit()]
    assert len(items) == 2 and all(item in page for item in items)


def test_unknown_user_is_cold_start_with_a_notice(artifact, capsys) -> None:
    code, out, err = run(capsys, "recommend", artifact, "--user", "stranger", "--json")
    assert code == 0
    assert all("cold start" in r["reason"] for r in json.loads(out))
    assert "notice: user:stranger is not in the graph (user ids look like 'u0001')" in err


def test_a_raw_id_of_another_shape_is_named_and_strict_fails(artifact, capsys) -> None:
    code, out, err = run(capsys, "recommend", artifact, "--user", "7", "-k", "2")
    assert code == 0 and out.count("cold start (unknown user)") == 2
    assert "user:7 is not in the graph (did you mean u0007" in err
    for command in (["recommend"], ["explain", "--item", "p0001"]):
        code, out, err = run(capsys, *command, artifact, "--user", "7", "--strict")
        assert code == 1 and out == ""
        assert "error: user:7 is not in the graph (did you mean u0007" in err
    code, _, err = run(capsys, "recommend", artifact, "--user", "u0001", "--strict", "-k", "1")
    assert code == 0 and err == ""


def test_fewer_than_k_and_bad_values_are_said(artifact, capsys) -> None:
    code, out, err = run(capsys, "recommend", artifact, "--user", "u0001", "-k", "5",
                         "--category", "no-such-category")
    assert code == 0 and out == ""
    assert "notice: no product(s) of the 5 asked for: 0 products new to the user pass the " \
        "filters" in err
    code, out, err = run(capsys, "recommend", artifact, "--user", "u0001", "-k", "100000",
                         "--json", "--no-explain")  # more than the catalogue: it says so
    assert code == 0 and f"{len(json.loads(out))} product(s) of the 100000 asked for: the " \
        "catalogue holds " in err
    code, out, err = run(capsys, "recommend", artifact, "--user", "u0001", "-k", "5",
                         "--category", "home/kitchen", "--json")
    found = json.loads(out)
    assert code == 0 and found and ("notice" in err) == (len(found) < 5)
    for argv, message in ((["--diversity", "1.5"], "diversity must be a number in [0, 1]"),
                          (["--price-min", "nan"], "price_min must be a finite number"),
                          (["-k", "0"], "k must be a whole number >= 1, not 0")):
        code, _, err = run(capsys, "recommend", artifact, "--user", "u0001", *argv)
        assert code == 2 and message in err
    code, _, err = run(capsys, "similar", artifact, "--item", "p0001", "-k", "0")
    assert code == 2 and "k must be a whole number >= 1, not 0" in err


def test_explain_json_and_picture(artifact, capsys, tmp_path) -> None:
    _, out, _ = run(capsys, "recommend", artifact, "--user", "u0001", "-k", "1", "--json")
    item = json.loads(out)[0]["item"]
    picture = tmp_path / "why.png"
    code, out, _ = run(capsys, "explain", artifact, "--user", "u0001", "--item", item,
                       "--json", "--picture", picture)
    assert code == 0
    result = json.loads(out)
    assert result["item"] == item and result["paths"]
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_unknown_item_exits_2_with_its_id(artifact, capsys) -> None:
    code, _, err = run(capsys, "explain", artifact, "--user", "u0001", "--item", "zzz9")
    assert code == 2 and "zzz9" in err
    code, _, err = run(capsys, "similar", artifact, "--item", "zzz9")
    assert code == 2 and "zzz9" in err


def test_similar_json(artifact, capsys) -> None:
    code, out, _ = run(capsys, "similar", artifact, "--item", "p0001", "-k", "3", "--json")
    assert code == 0
    found = json.loads(out)
    assert len(found) == 3 and "product:p0001" not in {r["item"] for r in found}
    assert any(r["paths"] for r in found)  # pairs only people join are shown in aggregate
    for r in found:
        assert {"item", "score", "parts", "paths", "reason"} <= set(r)
        for p in r["paths"]:
            assert {"nodes", "edges", "text"} <= set(p) and p["text"]
            assert p["nodes"][0] == "product:p0001" and p["nodes"][-1] == r["item"]
            assert len(p["edges"]) == len(p["nodes"]) - 1
            assert all(isinstance(e, list) and len(e) == 3 for e in p["edges"])
    code, out, _ = run(capsys, "similar", artifact, "--item", "p0001", "-k", "2")
    assert code == 0 and out.count("\n    - ") >= 2


def test_evaluate_counts_read_as_words() -> None:
    from scripts.cmd_evaluate import counted

    assert (counted(1, "pair"), counted(1, "user")) == ("1 pair", "1 user")  # "1 pairs of 1 users"
    assert (counted(0, "pair"), counted(1200, "user")) == ("0 pairs", "1,200 users")
