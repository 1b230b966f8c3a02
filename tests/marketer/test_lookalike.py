"""Lookalikes: the seed file's checks, who is returned, and the traits shared."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recommend.recommender import Recommender


@pytest.fixture(scope="module")
def rec(market_artifact):
    return Recommender.load(market_artifact)


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "customers.csv"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(("data", "message"), [
    (b"user\nu0001\nnobody\n", r"customers.csv:3: unknown user 'nobody'"),
    (b"u0001\n\xff\xfe\n", r"customers.csv:2: not UTF-8"),
    (b"u0001\n,extra\n", r"customers.csv:2: no user id"),
    (b"user_id\n\n", r"customers.csv: no user ids"),
    (b"u0001\nproduct:p0001\n", r"customers.csv:2: .*product id"),
])
def test_a_bad_seed_file_names_file_and_line(rec, tmp_path, data, message) -> None:
    with pytest.raises(ValueError, match=message):
        rec.lookalikes(_write(tmp_path, data), 10)


def test_lookalikes_leave_out_the_seeds_and_merge_repeats(rec, tmp_path) -> None:
    seed = _write(tmp_path, b"\xef\xbb\xbfcustomer_id,name\nu0001,a\nuser:u0002\nu0001\nu0003\n")
    found = rec.lookalikes(seed, 25)
    assert found.merged == 1
    users = [u for u, _ in found.members]
    assert len(users) == 25 and not {"user:u0001", "user:u0002", "user:u0003"} & set(users)
    scores = [s for _, s in found.members]
    assert scores == sorted(scores, reverse=True)


def test_lookalikes_of_a_segment_come_from_it(rec) -> None:
    """Seeds drawn mostly from one cluster segment: most lookalikes are in it too, and it is
    a trait they share."""
    g = rec.graph
    members = g.matrix("member_of", "segment", "user").tocsc()
    clusters = [j for j, s in enumerate(g.nodes("segment")) if "cluster" in s]
    j = max(clusters, key=lambda c: members.indptr[c + 1] - members.indptr[c])
    inside = members.indices[members.indptr[j]:members.indptr[j + 1]]
    rng = np.random.default_rng(0)
    outside = np.setdiff1d(np.arange(g.num_nodes("user")), inside)
    seeds = np.r_[rng.choice(inside, size=len(inside) // 3, replace=False),
                  rng.choice(outside, size=6, replace=False)]  # a trait all share is hidden
    found = rec.lookalikes([g.node_id("user", int(u)) for u in seeds], len(inside))
    got = {g.index(u) for u, _ in found.members}
    share = len(got & set(inside.tolist())) / len(got)
    assert share > 2 * len(inside) / g.num_nodes("user")
    assert any(a.node == g.node_id("segment", j) for a, _ in found.shared)
    min_people = rec.model.config.privacy.min_people
    for a, b in found.shared:
        assert b.count >= min_people and b.lift > 1 and a.lift > 1


def test_unknown_seed_ids_are_refused(rec) -> None:
    with pytest.raises(ValueError, match="unknown seed users"):
        rec.lookalikes(["u0001", "nobody"], 5)
