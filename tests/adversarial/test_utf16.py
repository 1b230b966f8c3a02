"""A dataset file saved as UTF-16 (Excel, PowerShell's default) is rejected line by line with
a reason that says so, not "malformed JSON: Expecting value at character 1"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kg.reader import read_dataset


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_every_line_of_a_utf16_file_names_the_encoding(tmp_path: Path, encoding: str) -> None:
    text = "".join(json.dumps({"id": f"u{i}"}) + "\n" for i in range(3))
    (tmp_path / "users.jsonl").write_bytes(text.encode(encoding))
    result = read_dataset(tmp_path, progress=False)
    assert result.dataset.users == []
    assert result.rejections and all("UTF-16" in r.reason for r in result.rejections), \
        [r.reason for r in result.rejections]
