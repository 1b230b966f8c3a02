"""The CLI on hostile input: exit code 2 and one ``error:`` line, never a traceback."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from kg.artifact import MANIFEST_FILE
from kg.artifact_files import file_sha256
from scripts.cli import main


@pytest.fixture
def art(small_demo_artifact, tmp_path):
    folder = tmp_path / "art"
    shutil.copytree(small_demo_artifact, folder)
    return folder


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_query_is_refused_before_the_artifact_is_read(capsys, tmp_path):
    code, _, err = run(capsys, "query", str(tmp_path / "nowhere"),
                       "SELECT * WHERE { SERVICE <http://127.0.0.1:8765/sparql> { ?s ?p ?o } }")
    assert code == 2
    assert "SERVICE <http://127.0.0.1:8765/sparql> refused" in one_error_line(err)
    code, _, err = run(capsys, "query", str(tmp_path / "nowhere"),
                       "SELECT ?p WHERE { ?u rel:purchased ?p }", "--bind", "x=user:1")
    assert code == 2
    assert "--bind x: the query has no variable ?x" in one_error_line(err)
    code, _, err = run(capsys, "query", str(tmp_path / "nowhere"), "SELEKT ?p")
    assert code == 2
    assert "SPARQL syntax error at line 1" in one_error_line(err)


def test_query_limits_on_the_command_line(capsys, art):
    code, out, err = run(capsys, "query", str(art), "SELECT ?s WHERE { ?s ?p ?o }",
                         "--max-rows", "4", "--no-progress")
    assert code == 0
    assert "(4 rows; stopped at the row limit of 4" in out
    assert "row limit" in err
    code, _, err = run(capsys, "query", str(art),
                       "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?c ?f",
                       "--timeout", "1", "--no-progress")
    assert code == 2
    assert "time limit of 1 s" in one_error_line(err)


def test_tampered_cf_model_is_an_error_not_a_crash(capsys, art):
    path = art / "cf_model.npz"
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["x_indices"] = np.full_like(arrays["x_indices"], 10**8)
    np.savez(path, **arrays)
    code, _, err = run(capsys, "recommend", str(art), "--user", "user:u0001", "--no-explain")
    assert code == 2
    assert "cf_model.npz: sha256 differs" in one_error_line(err)
    manifest = json.loads((art / MANIFEST_FILE).read_text())
    manifest["files"]["cf_model.npz"] = file_sha256(path)
    (art / MANIFEST_FILE).write_text(json.dumps(manifest))
    code, _, err = run(capsys, "recommend", str(art), "--user", "user:u0001", "--no-explain")
    assert code == 2
    assert "cf_model.npz: x indices: indices out of range" in one_error_line(err)
