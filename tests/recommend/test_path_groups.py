"""Paths grouped by their shared entity: one path stands for every instance through it."""

from __future__ import annotations

import numpy as np
import pytest

from kg.graph import KnowledgeGraph
from recommend.paths import GraphPathScorer, MetaPath, Step, fidelity_check, iter_instances
from recommend.paths.explain import explain_paths_many
from recommend.paths.instances import (
    instances_as_groups,
    top_groups_many,
    top_instances_many,
    values_at,
)
from recommend.paths.metapaths import step_matrices

SAME_CATEGORY = MetaPath("rated>same_category", (Step("rated", "out", "product"),
                                                 Step("in_category", "out"),
                                                 Step("in_category", "in")))
CO = MetaPath("rated>also_viewed", (Step("rated", "out", "product"), Step("also_viewed")))


def films() -> KnowledgeGraph:
    """user:1 rated A, B (thrillers) and C (a comedy); X is a thriller and a comedy."""
    g = KnowledgeGraph()
    for p in "ABCX":
        g.add_node(f"product:{p}", title=f"Film {p}")
    g.add_node("category:movie/thriller", name="Thriller")
    g.add_node("category:movie/comedy", name="Comedy")
    g.add_edges("rated", ["user:1"] * 3, ["product:A", "product:B", "product:C"],
                weight=[5.0, 3.0, 4.0], ts=[1.0, 2.0, 3.0])
    g.add_edges("in_category", ["product:A", "product:B", "product:C", "product:X",
                                "product:X"],
                ["category:movie/thriller", "category:movie/thriller",
                 "category:movie/comedy", "category:movie/thriller", "category:movie/comedy"])
    g.add_edges("also_viewed", ["product:A"], ["product:X"])
    return g


def test_a_group_carries_the_sum_of_its_instances() -> None:
    g = films()
    steps = step_matrices(g, SAME_CATEGORY)
    u, x = g.index("user:1"), g.index("product:X")
    groups, total = top_groups_many(steps, u, np.array([x]), 5)[0]
    instances = list(iter_instances(steps, u, x))
    assert total == pytest.approx(sum(v for _, v in instances))
    by_entity: dict[int, list[float]] = {}
    for nodes, v in instances:
        by_entity.setdefault(nodes[2], []).append(v)
    assert {nodes[2]: n for nodes, _, n in groups} == {b: len(vs) for b, vs in by_entity.items()}
    assert {nodes[2]: v for nodes, v, _ in groups} == pytest.approx(
        {b: sum(vs) for b, vs in by_entity.items()})
    thriller = g.index("category:movie/thriller")
    best = max((v, nodes) for nodes, v in instances if nodes[2] == thriller)[1]
    assert groups[0][0] == best  # the thriller group (A and B) is the larger; A its best
    # a 2-hop meta-path: every instance is its own group
    co = step_matrices(g, CO)
    plain = top_instances_many(co, u, np.array([x]), 5)[0]
    assert top_groups_many(co, u, np.array([x]), 5)[0] == (
        [(nodes, v, 1) for nodes, v in plain[0]], plain[1])


def test_ungrouped_3_hop_instances_come_as_groups_of_one() -> None:
    g = films()
    steps = step_matrices(g, SAME_CATEGORY)
    u, x = g.index("user:1"), g.index("product:X")
    best, total = top_instances_many(steps, u, np.array([x]), 5)[0]
    assert len(best) == 3  # A and B through Thriller, C through Comedy: not grouped
    assert instances_as_groups(steps, u, np.array([x]), 5) == [
        ([(nodes, v, 1) for nodes, v in best], total)]


def test_grouped_paths_say_how_many_of_yours_lead_there_and_are_faithful() -> None:
    g = films()
    (paths,) = explain_paths_many(g, "user:1", ["product:X"], [SAME_CATEGORY], [1.0],
                                  max_paths=3, group=True)
    assert [p.nodes[2] for p in paths] == ["category:movie/thriller", "category:movie/comedy"]
    assert sum(p.contribution for p in paths) == pytest.approx(1.0)
    # the thriller group is shown through the latest of its films (B, rated after A), though
    # A's instance is the larger (5 stars against 3)
    assert paths[0].nodes[1] == "product:B"
    assert paths[0].text.endswith("; you rated 2 in Thriller")
    assert paths[0].note == "; you rated 2 in Thriller"
    assert paths[1].note == ""  # one film: the path is its own instance
    (single,) = explain_paths_many(g, "user:1", ["product:X"], [SAME_CATEGORY], [1.0],
                                   max_paths=3)
    assert len(single) == 3 and all(p.note == "" for p in single)
    assert paths[0].contribution > single[0].contribution

    scorer = GraphPathScorer([SAME_CATEGORY]).prepare(g, {SAME_CATEGORY.name: 1.0})
    check = fidelity_check(g, "user:1", "product:X", paths[0], scorer)
    # masking the path's edges takes out at least what the group carries
    assert check.before - check.after >= paths[0].contribution * check.before - 1e-12


def test_values_at_reads_a_walked_row_as_its_dense_form_does() -> None:
    """The instances read a user's walked rows at a few nodes without making the dense row
    (80,000 posts wide on the size world): the same values, 0 where the row holds none."""
    import scipy.sparse as sp

    from recommend.paths.instances import _first_step, values_at
    from recommend.paths.walks import walk_dense, walk_start

    rng = np.random.default_rng(3)
    nodes = np.arange(40)
    for _ in range(20):
        m = sp.random(5, 40, density=0.3, format="csr", random_state=rng)
        m.indices = m.indices.copy()
        for r in range(5):  # rows with their indices unsorted, as a product of steps leaves them
            lo, hi = m.indptr[r], m.indptr[r + 1]
            m.indices[lo:hi] = m.indices[lo:hi][::-1].copy()
            m.data[lo:hi] = m.data[lo:hi][::-1].copy()
        for r in range(5):
            dense = walk_dense(walk_start(m, r))
            assert np.array_equal(values_at(_first_step(m, r), nodes), dense)
            few = rng.choice(40, 3)  # fewer nodes than a quarter of the width: searched
            assert values_at(_first_step(m, r), few).tobytes() == dense[few].tobytes()
    empty = (np.zeros(0, np.int64), np.zeros(0), 40)
    assert np.array_equal(values_at(empty, nodes), np.zeros(40))


@pytest.mark.parametrize("seed", range(5))
def test_middle_instances_are_the_same_read_from_the_users_rows_or_the_columns(seed: int
                                                                                ) -> None:
    """The user's side (their few a) and the middle nodes' columns (every a into b) give the
    same positive instances, in the same order, with the same values."""
    import scipy.sparse as sp

    from recommend.paths.instances import _from_rows

    rng = np.random.default_rng(seed)
    step = sp.random(60, 12, density=0.3, format="csr", random_state=seed)
    step.data[rng.random(step.nnz) < 0.1] = 0.0  # stored zeros too
    first = (np.sort(rng.choice(60, 7, replace=False)), rng.random(7), 60)
    b = rng.integers(0, 12, 9)  # middle nodes, repeated ones too
    hop = rng.random(9)
    csc = step.tocsc()
    lo, hi = csc.indptr[b], csc.indptr[b + 1]
    a_all = np.concatenate([csc.indices[x:y] for x, y in zip(lo, hi, strict=True)])
    v_all = (values_at(first, a_all) * np.concatenate([csc.data[x:y] for x, y in
                                                      zip(lo, hi, strict=True)])
             * np.repeat(hop, hi - lo))
    g_all = np.repeat(np.arange(len(b)), hi - lo)
    a, data, count = _from_rows(step, np.unique(first[0]), b)
    v = values_at(first, a) * data * np.repeat(hop, count)
    g = np.repeat(np.arange(len(b)), count)
    keep_all, keep = v_all > 0, v > 0
    assert np.array_equal(a_all[keep_all], a[keep])
    assert np.array_equal(g_all[keep_all], g[keep])
    assert np.array_equal(v_all[keep_all], v[keep])  # bit for bit


@pytest.mark.parametrize("seed", range(30))
def test_a_groups_latest_then_largest_is_what_the_stable_sort_put_first(seed: int) -> None:
    """A group's instance through the user's latest act (then the largest, then the first)
    is found without a sort: the same position as the sort by group, latest, largest."""
    from recommend.paths.group_batch import _first_latest

    rng = np.random.default_rng(seed)
    count = rng.integers(0, 5, rng.integers(1, 9))  # groups of none among them
    n = int(count.sum())
    values = rng.choice([0.0, -0.0, 0.25, 0.5, 1.0], n)  # ties, and zeros of either sign
    when = np.where(values > 0, rng.choice([-np.inf, 3.0, 7.0], n), -np.inf)
    group_of = np.repeat(np.arange(len(count)), count)
    order = np.lexsort((-values, -when, group_of))
    ordered = group_of[order]
    first = np.r_[True, ordered[1:] != ordered[:-1]] if n else np.zeros(0, bool)
    assert _first_latest(count, when, values).tolist() == order[first].tolist()


def test_a_one_step_meta_path_of_a_user_without_its_edges_finds_nothing() -> None:
    """The early return for a user whose row of a 1-step meta-path is empty (or beyond the
    matrix) gives what the gathered last hops give: no instance and a 0 total."""
    g = films()
    g.add_edges("rated", ["user:2"], ["product:X"], weight=[1.0], ts=[4.0])
    one = MetaPath("rated", (Step("rated", "out", "product"),))
    steps = step_matrices(g, one)
    items = np.array([g.index(f"product:{p}") for p in "ABCX"])
    u1, u2 = g.index("user:1"), g.index("user:2")
    found = top_instances_many(steps, u1, items, 5)
    assert [len(best) for best, _ in found] == [1, 1, 1, 0]
    assert [total for _, total in found] == [steps[0][u1, i] for i in items]
    lone = steps[0].copy()
    lone.data[lone.indptr[u1]:lone.indptr[u1 + 1]] = 0.0
    lone.eliminate_zeros()  # user:1 with no rating left
    assert top_instances_many([lone], u1, items, 5) == [([], 0.0)] * 4
    assert top_instances_many([lone], lone.shape[0] + 3, items, 5) == [([], 0.0)] * 4
    x = int(items[3])
    assert top_instances_many(steps, u2, items, 5)[3][0] == [((u2, x), steps[0][u2, x])]


def test_several_scorers_instances_in_one_pass_are_each_scorers_own() -> None:
    """_instances_each (every scorer's grouped meta-paths in one batch) gives each scorer
    what _instances gives it alone, a meta-path's same steps over other items included."""
    from recommend.paths.explain import _instances, _instances_each

    g = films()
    steps = {mp.name: step_matrices(g, mp) for mp in (SAME_CATEGORY, CO)}
    x, a = g.index("product:X"), g.index("product:A")
    asked = [(np.array([x, a]), [SAME_CATEGORY, CO], [1.0, 0.5], steps),
             (np.array([x]), [SAME_CATEGORY], [2.0], steps),
             (np.array([], np.int64), [CO], [1.0], steps)]
    for group in (True, False):
        for k in (1, 3):
            got = _instances_each(g, "user:1", asked, max_paths=k, group=group)
            for (found, totals), (items, mps, weights, s) in zip(got, asked, strict=True):
                alone, alone_totals = _instances(g, "user:1", items, mps, weights,
                                                 max_paths=k, steps=s, group=group)
                assert found == alone and totals.tolist() == alone_totals.tolist()
                assert len(found) == len(items)
            assert any(got[0][0]) and any(got[1][0])  # (instances found: the test bites)
