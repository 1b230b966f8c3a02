"""The Spark build's quarantine (sparkbuild.assemble.Quarantine) without Spark: held
rejections and Parquet tables written here, read in file and line order; indexing reads
only the part that holds the row."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kg.reader import FileCounts, Rejection
from sparkbuild.assemble import Quarantine
from sparkbuild.records import EVENTS, FOLLOWS, Accepted


def _table(folder: Path, name: str, parts: list[list[int]]) -> Accepted:
    """Rejected tables of ``name`` in ``folder``: one Parquet part per list of lines."""
    folder.mkdir()
    for n, lines in enumerate(parts):
        pq.write_table(pa.table({"line": pa.array(lines, pa.int64()),
                                 "reason": [f"bad {name} {line}" for line in lines],
                                 "raw": [f"raw {line}" for line in lines]}),
                       folder / f"part-{n:05d}.parquet", row_group_size=2)
    rejected = sum(len(lines) for lines in parts)
    return Accepted(folder, FileCounts(read=rejected, rejected=rejected), folder)


@pytest.fixture
def quarantine(tmp_path: Path) -> Quarantine:
    held = [Rejection("users.jsonl", 4, "bad user", "u"),
            Rejection("products.jsonl", 2, "bad product", "p"),
            Rejection("posts.jsonl", 9, "bad post", "q"),
            Rejection("products.jsonl", 7, "bad product", "p2")]
    tables = {FOLLOWS: _table(tmp_path / "follows", FOLLOWS, [[1, 3], [5, 8, 13]]),
              EVENTS: _table(tmp_path / "events", EVENTS, [[2], [], [4, 6, 9, 10, 11], [20]])}
    return Quarantine(held, tables)


def test_rejections_come_in_file_then_line_order(quarantine: Quarantine) -> None:
    got = [(r.file, r.line) for r in quarantine]
    assert got == [("products.jsonl", 2), ("products.jsonl", 7), ("users.jsonl", 4),
                   *((FOLLOWS, n) for n in (1, 3, 5, 8, 13)), ("posts.jsonl", 9),
                   *((EVENTS, n) for n in (2, 4, 6, 9, 10, 11, 20))]
    assert len(quarantine) == len(got) == 16
    assert quarantine[5].reason == f"bad {FOLLOWS} 5" and quarantine[5].raw == "raw 5"


def test_indexing_and_slicing_agree_with_iteration(quarantine: Quarantine) -> None:
    everything = list(quarantine)
    assert [quarantine[i] for i in range(len(everything))] == everything
    assert [quarantine[i] for i in range(-len(everything), 0)] == everything
    for cut in (slice(None), slice(3, 9), slice(7, 14, 3), slice(-4, None), slice(10, 2),
                slice(None, None, -2), slice(15, 40)):
        assert quarantine[cut] == everything[cut]
    with pytest.raises(IndexError):
        quarantine[16]
    with pytest.raises(IndexError):
        quarantine[-17]


def test_an_index_reads_only_the_part_that_holds_it(quarantine: Quarantine,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    read: list[int] = []
    real = pq.ParquetFile.iter_batches

    def counted(self: pq.ParquetFile, *args: object, **kwargs: object):
        read.append(self.metadata.num_rows)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", counted)
    last = quarantine[-1]
    assert (last.file, last.line) == (EVENTS, 20)
    assert read == [1]  # the last part alone, not the 11 rows before it
    read.clear()
    assert quarantine[12].line == 9 and read == [5]
