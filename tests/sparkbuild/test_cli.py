"""``shopgraph build --engine``: options checked before anything is built (no Spark needed)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from scripts.cli import main
from sparkbuild import session


def _dataset(root: Path) -> Path:
    folder = root / "data"
    folder.mkdir()
    (folder / "products.jsonl").write_text('{"id": "A", "title": "Tea"}\n', encoding="utf-8")
    return folder


def test_spark_options_need_the_spark_engine(tmp_path, capsys) -> None:
    code = main(["--no-progress", "build", str(_dataset(tmp_path)), "--out",
                 str(tmp_path / "art"), "--graph-only", "--spark-master", "local[1]"])
    assert code == 2
    err = capsys.readouterr().err
    assert "--spark-master, --spark-driver-memory, --spark-metapaths and" in err
    assert not (tmp_path / "art").exists()


def test_a_cluster_master_needs_shared_scratch(tmp_path) -> None:
    from sparkbuild.engine import SparkEngine

    engine = SparkEngine(None, "spark://cluster:7077")  # refused before Spark is touched
    with pytest.raises(ValueError, match="--spark-scratch DIR on storage every executor"):
        engine.build(_dataset(tmp_path), tmp_path / "art", [], config=None)
    assert not (tmp_path / "art").exists()


def test_the_spark_engine_says_what_is_missing(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(session, "java_version", lambda: None)
    monkeypatch.setattr(session, "missing", lambda: "no Java found (install "
                        "openjdk-17-jre-headless or set JAVA_HOME)")
    code = main(["--no-progress", "build", str(_dataset(tmp_path)), "--out",
                 str(tmp_path / "art"), "--graph-only", "--engine", "spark"])
    assert code == 1
    assert "--engine spark: no Java found" in capsys.readouterr().err
    assert not (tmp_path / "art").exists()


def test_java_version_reads_the_major_version(monkeypatch, tmp_path) -> None:
    java = tmp_path / "bin" / "java"
    java.parent.mkdir()
    java.write_text('#!/bin/sh\necho \'openjdk version "1.8.0_392"\' >&2\n')
    java.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    assert session.java_version() == 8
    monkeypatch.setitem(sys.modules, "pyspark", object())  # pyspark "present"
    assert session.missing() == "Java 8 found, Spark needs Java 17 or later"
    java.write_text('#!/bin/sh\necho \'openjdk version "17.0.15" 2025-04-15\' >&2\n')
    assert session.java_version() == 17
    assert session.missing() is None
