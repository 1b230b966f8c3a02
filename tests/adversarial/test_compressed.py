"""Compressed dataset files are not read (docs/dataset.md names the .jsonl files only): a folder
of only ``.jsonl.gz`` files is an error naming them, and gzip bytes under a ``.jsonl`` name are
rejected with a reason that says the file is compressed, not only "not UTF-8"."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from kg.reader import read_dataset

LINES = "".join(json.dumps({"id": f"u{i}"}) + "\n" for i in range(50)).encode()


def test_a_folder_of_gzipped_files_names_them(tmp_path: Path) -> None:
    (tmp_path / "users.jsonl.gz").write_bytes(gzip.compress(LINES))
    with pytest.raises(FileNotFoundError, match=r"users\.jsonl\.gz: compressed, not read"):
        read_dataset(tmp_path, progress=False)


def test_gzip_bytes_under_a_jsonl_name_say_so(tmp_path: Path) -> None:
    (tmp_path / "users.jsonl").write_bytes(gzip.compress(LINES))
    result = read_dataset(tmp_path, progress=False)
    assert result.dataset.users == [] and result.rejections
    first = result.rejections[0]
    assert (first.file, first.line) == ("users.jsonl", 1)
    assert first.reason.endswith("(the file looks gzip-compressed: gunzip it)")
