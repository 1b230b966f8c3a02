"""The session component's own path: "N people who rated A rated B within the next hour"."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from cf.session import transition_matrix
from kg.graph import KnowledgeGraph
from recommend.hybrid.audit import path_is_valid
from recommend.hybrid.config import HybridConfig, SessionConfig
from recommend.hybrid.evidence import Evidence, component_evidence, path_fidelity
from recommend.hybrid.session import SessionComponent
from recommend.paths.explain import scored_paths_many
from recommend.paths.precount import count_session_people
from recommend.paths.privacy import hop_exists, people, violations
from recommend.paths.reasons import evidence_paths, evidence_types
from recommend.paths.select import Selection
from recommend.paths.sentences import render_path
from recommend.paths.sequence import (
    SequenceHop,
    _count,
    count_pairs,
    pair_table,
    sequence_people,
    window_words,
)
from recommend.paths.user_reasons import own_products

HOUR = SequenceHop(3600.0, 50)


def film_graph(crowd: int = 5, relation: str = "rated") -> KnowledgeGraph:
    """user:1 rated A (last) and V; ``crowd`` people rated A then B within minutes; 6 others
    rated B a week before A (they rated both, but not in that order)."""
    g = KnowledgeGraph()
    for p in "ABV":
        g.add_node(f"product:{p}", title=f"Film {p}")
    g.add_edges("rated", ["user:1", "user:1"], ["product:V", "product:A"], ts=[50.0, 100.0])
    seq = [f"user:s{k}" for k in range(crowd)]
    g.add_edges(relation, seq * 2, ["product:A"] * crowd + ["product:B"] * crowd,
                ts=[1000.0] * crowd + [1600.0] * crowd)
    late = [f"user:o{k}" for k in range(6)]
    g.add_edges("rated", late * 2, ["product:B"] * 6 + ["product:A"] * 6,
                ts=[0.0] * 6 + [7 * 86_400.0] * 6)
    return g


def session_evidence(g: KnowledgeGraph, hop: SequenceHop = HOUR) -> Evidence:
    return Evidence("session", 0.4, ((g.index("product:A"), 1.0),), hop.relation)


def test_a_hop_spells_its_rule_and_reads_back() -> None:
    hop = SequenceHop(86_400.0, 7)
    assert SequenceHop.parse(hop.relation) == hop
    assert hop.relation == "next_within_86400s_lag7"
    for window in (14 * 86_400.0, 1_234_567.0, 1e20, 2.5e-7, 0.1):  # exact, any size
        assert SequenceHop.parse(SequenceHop(window, 3).relation) == SequenceHop(window, 3)
    assert SequenceHop.parse("next_within_1e+s_lag3") is None
    assert SequenceHop.parse("co_rated") is None and SequenceHop.parse("next_within_x") is None
    with pytest.raises(ValueError, match="max_lag"):
        SequenceHop(3600.0, 0)
    assert [window_words(s) for s in (60, 1800, 3600, 7200, 86_400, 259_200, 5.5)] == [
        "minute", "30 minutes", "hour", "2 hours", "day", "3 days", "5.5 seconds"]


def brute_force(users, items, times, n_items: int, window: float, max_lag: int) -> np.ndarray:
    """Per user, the (item, time)-sorted events; every later one within the lag and window."""
    counts = np.zeros((n_items, n_items), np.int64)
    for u in set(users):
        mine = sorted((t, i) for uu, i, t in zip(users, items, times, strict=True) if uu == u)
        for x, (t0, a) in enumerate(mine):
            for t1, b in mine[x + 1:x + 1 + max_lag]:
                if t1 - t0 <= window:
                    counts[a, b] += 1
    return counts


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 5), st.integers(0, 20)),
                min_size=1, max_size=40, unique_by=lambda e: (e[0], e[1])),
       st.sampled_from([0.0, 3.0, 8.0, 100.0]), st.integers(1, 4))
def test_the_people_counted_are_the_session_models_own_count(events, window, max_lag) -> None:
    g = KnowledgeGraph()
    for p in range(6):
        g.add_node(f"product:{p}")
    users, items, times = zip(*events, strict=True)
    g.add_edges("viewed", [f"user:{u}" for u in users], [f"product:{i}" for i in items],
                ts=[float(t) for t in times])
    idx = [g.index(f"product:{i}") for i in range(6)]
    u = np.array([g.index(f"user:{x}") for x in users])
    it = np.array([idx[i] for i in items])
    ts = np.array(times, np.float64)
    expected = brute_force(u.tolist(), it.tolist(), ts.tolist(), 6, window, max_lag)
    fitted = transition_matrix(u, it, ts, 6, window=window, max_lag=max_lag).toarray()
    hop = SequenceHop(window, max_lag)
    sources = [f"product:{a}" for a in range(6)] + ["user:0", "product:absent"]
    # counted at once, as a request's evidence paths ask them
    count_pairs(g, [(a, f"product:{b}") for b in range(6) for a in sources], hop)
    for a in range(6):
        for b in range(6):
            n = sequence_people(g, f"product:{a}", f"product:{b}", hop)  # (kept at once)
            assert n == expected[idx[a], idx[b]] == _count(g, f"product:{a}",
                                                           f"product:{b}", hop)
            assert (n > 0) == (fitted[idx[a], idx[b]] > 0)  # exactly the model's hops
            assert people(g, (f"product:{a}", hop.relation, f"product:{b}")) == n
    table = pair_table(g, hop)  # every pair at once: the same counts
    assert table is not None
    keys, held, width = table  # (keys None: every pair's count, dense)
    dense = held.astype(np.int64) if keys is None else np.zeros(width * width, np.int64)
    if keys is not None:
        dense[keys] = held
        assert held.min(initial=1) > 0 and (np.diff(keys) > 0).all()
    assert np.array_equal(dense.reshape(width, width), expected[:width, :width])
    assert not expected[width:].any() and not expected[:, width:].any()


@pytest.mark.parametrize("limit", [0, 40, 41, 10**9])
def test_pairs_are_counted_alone_when_the_table_would_be_too_large(monkeypatch, limit) -> None:
    import recommend.paths.sequence as sequence

    monkeypatch.setattr(sequence, "TABLE_PAIRS", limit)
    g = links_graph()
    held = pair_table(g, HOUR)
    # 41 (user, pair) entries: user:1's P0..P5 (15 pairs), 26 people's Pk then X
    assert (held is None) == (limit < 41)
    for k, crowd in enumerate(CROWD):
        assert sequence_people(g, f"product:P{k}", "product:X", HOUR) == crowd
        assert sequence_people(g, "product:X", f"product:P{k}", HOUR) == 0
        assert sequence_people(g, f"product:P{k}", "product:P0", HOUR) == 0


def test_a_session_path_goes_through_the_sequence_it_counted() -> None:
    g = film_graph(crowd=5)
    [(name, share, (fraction, kind, nodes, edges, _))] = evidence_paths(
        g, "user:1", "product:B", [session_evidence(g)], own_products(g, "user:1"),
        min_people=5)
    assert (name, share, fraction, kind) == ("session", 0.4, 1.0, "session>next")
    assert nodes == ("user:1", "product:A", "product:B")
    assert edges == (("user:1", "rated", "product:A"),
                     ("product:A", "next_within_3600s_lag50", "product:B"))
    assert all(hop_exists(g, e) for e in edges) and not violations(g, "user:1", edges)
    # 11 people rated both, 5 of them B within the hour after A: the session counted those
    assert people(g, ("product:A", "co_rated", "product:B")) == 11
    assert render_path(g, nodes, edges, now=100.0) == (
        "You rated Film A today; 5 people who rated Film A rated Film B within the next hour")


def test_a_session_path_needs_enough_people_in_that_order() -> None:
    g = film_graph(crowd=4)  # 10 rated both, but only 4 in sequence: no session path
    own = own_products(g, "user:1")
    assert evidence_paths(g, "user:1", "product:B", [session_evidence(g)], own,
                          min_people=5) == []
    assert len(evidence_paths(g, "user:1", "product:B", [session_evidence(g)], own,
                              min_people=4)) == 1
    short = SequenceHop(60.0, 50)  # minutes apart, not within one minute: nobody
    assert evidence_paths(g, "user:1", "product:B", [session_evidence(g, short)], own,
                          min_people=1) == []
    edge = ("product:A", short.relation, "product:B")
    assert not hop_exists(g, edge)
    assert violations(g, "user:1", [edge], min_people=1)
    assert evidence_paths(g, "user:1", "product:B", [Evidence("session", 0.4, (
        (g.index("product:A"), 1.0),))], own, min_people=1) == []  # no hop named: no path


def test_mixed_events_are_said_as_interest() -> None:
    g = film_graph(crowd=5, relation="viewed")
    edges = (("user:1", "rated", "product:A"), ("product:A", HOUR.relation, "product:B"))
    text = render_path(g, ("user:1", "product:A", "product:B"), edges)
    assert text.endswith("5 people who showed interest in Film A showed interest in Film B "
                         "within the next hour")


def test_session_types_are_listed_once() -> None:
    types = evidence_types(film_graph(), ["cf", "session"])
    assert "session>next" in types and not any(
        t.startswith("session>co_") for t in types)


def test_the_served_session_path_is_valid_faithful_and_kept_across_save(tmp_path) -> None:
    g = film_graph(crowd=5)
    comp = SessionComponent.fit(g, window=3600.0, max_lag=50, recency_tau=None)
    assert comp is not None and comp.evidence_relation() == HOUR.relation
    comp.save(tmp_path)
    again = SessionComponent.load(tmp_path, g, HybridConfig(session=SessionConfig(window=60.0)))
    assert (again.window, again.max_lag) == (3600.0, 50)  # what it counted, not the config
    u, b = g.index("user:1"), g.index("product:B")
    model = SimpleNamespace(components={"session": comp})
    [[ev]] = component_evidence(model, u, np.array([b]), [{"session": 0.3}])
    assert ev.relation == HOUR.relation and ev.links[0][0] == g.index("product:A")
    [shown] = scored_paths_many(g, "user:1", ["product:B"], [], max_paths=3,
                                selection=Selection(), evidence=[[ev]], totals=[0.3],
                                min_share=0.02)
    [path] = shown
    assert (path.component, path.metapath, path.kind) == ("session", "session>next", "score")
    assert path_is_valid(g, path) and path_fidelity(model, g, "user:1", "product:B", path)
    assert "within the next hour" in path.text


def test_an_artifact_saved_without_the_window_takes_the_configs(tmp_path) -> None:
    g = film_graph()
    c = sp.csr_matrix((g.num_nodes("product"),) * 2)
    buf_meta = np.array('{"recency_tau": 10.0}')
    np.savez(tmp_path / "session_transitions.npz", data=c.data, indices=c.indices,
             indptr=c.indptr, shape=np.array(c.shape), meta=buf_meta)
    comp = SessionComponent.load(
        tmp_path, g, HybridConfig(session=SessionConfig(window=86_400.0, max_lag=9)))
    assert comp.evidence_relation() == SequenceHop(86_400.0, 9).relation


def test_a_hop_is_only_between_two_products() -> None:
    g = film_graph()
    assert sequence_people(g, "product:A", "product:A", HOUR) == 0
    assert sequence_people(g, "user:1", "product:B", HOUR) == 0
    assert sequence_people(g, "product:A", "product:missing", HOUR) == 0


def test_a_counted_pair_is_kept_across_events_and_renewed_with_new_nodes() -> None:
    """The session model's counts are fixed at its fit: an event written since does not
    renew the table (never more people than the graph holds); a new node does."""
    g = film_graph(crowd=5)
    assert sequence_people(g, "product:A", "product:B", HOUR) == 5
    more = [f"user:s{k}" for k in range(5, 8)]  # three of them rate A then B again
    for user in more:
        g.add_node(user)
    assert sequence_people(g, "product:A", "product:B", HOUR) == 5
    g.add_edges("rated", more * 2, ["product:A"] * 3 + ["product:B"] * 3,
                ts=[2000.0] * 3 + [2060.0] * 3)
    assert sequence_people(g, "product:A", "product:B", HOUR) == 5  # kept: at most the truth
    g.add_node("product:C")
    assert sequence_people(g, "product:A", "product:B", HOUR) == 8  # renewed


def links_graph() -> KnowledgeGraph:
    """user:1 rated P0..P5; for each Pk, ``CROWD[k]`` people rated Pk then X minutes later."""
    g = KnowledgeGraph()
    g.add_node("product:X")
    g.add_edges("rated", ["user:1"] * 6, [f"product:P{k}" for k in range(6)],
                ts=[float(k) for k in range(6)])
    for k, crowd in enumerate(CROWD):
        them = [f"user:{k}-{j}" for j in range(crowd)]
        g.add_edges("rated", them * 2, [f"product:P{k}"] * crowd + ["product:X"] * crowd,
                    ts=[1000.0] * crowd + [1060.0] * crowd)
    return g


CROWD = (5, 2, 6, 5, 1, 7)


@pytest.mark.parametrize(("per_component", "tried"), [(1, 1), (2, 3), (3, 4), (4, 6), (9, 6)])
def test_session_people_are_counted_for_the_links_the_paths_try(monkeypatch, per_component,
                                                                tried) -> None:
    import recommend.paths.sequence as sequence

    monkeypatch.setattr(sequence, "TABLE_PAIRS", 0)  # no table of every pair: counted alone
    counted: list[tuple[str, str]] = []
    real = sequence._counts
    monkeypatch.setattr(sequence, "_counts", lambda g, pairs, hop: (
        counted.extend(pairs), real(g, pairs, hop))[1])
    g = links_graph()
    own = own_products(g, "user:1")
    links = tuple((g.index(f"product:P{k}"), 1.0 - k / 10) for k in (0, 1, 2, 3, 4, 5))
    ev = [[Evidence("session", 0.4, links, HOUR.relation)]]
    count_session_people(g, ["product:X"], ev, own, min_people=5, per_component=per_component)
    # in order until per_component have 5 people: P0, P1 (2), P2, P3, P4 (1), P5
    assert counted == [(f"product:P{k}", "product:X") for k in range(tried)]
    found = evidence_paths(g, "user:1", "product:X", ev[0], own, min_people=5,
                           per_component=per_component)
    assert len(counted) == tried  # every count the paths needed was made at once
    fresh = links_graph()
    assert found == evidence_paths(fresh, "user:1", "product:X", ev[0],
                                   own_products(fresh, "user:1"), min_people=5,
                                   per_component=per_component)
    assert [p[2][2][1] for p in found] == [f"product:P{k}" for k in (0, 2, 3, 5)][
        :per_component]
