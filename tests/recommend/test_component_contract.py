"""One contract, checked for every registered hybrid component (recommend.hybrid.component).

Each component (cf once per model: on the demo "auto" would pick only EASE) is fitted
through the registry on the small demo world's graph and asked
only what the contract promises: scores of known and unknown users, candidates within the
catalogue, one product's column equal to its scores transposed, a save/load round trip that
scores the same, and a refresh after an add of edges that equals a full refresh (and, where
the component promises it, a refit).
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import numpy as np
import pytest

from kg.artifact import load_artifact
from kg.delta import graph_delta
from kg.graph import KnowledgeGraph
from kg.interactions import grow_interactions
from kg.records import Event, Follow
from recommend.hybrid.candidates import gather
from recommend.hybrid.cold import cold_parts
from recommend.hybrid.component import Component, FitShared, component_type, registry
from recommend.hybrid.config import COMPONENTS, CfConfig, ContentConfig, HybridConfig
from recommend.hybrid.content_component import ContentComponent
from recommend.hybrid.model import HybridModel, make_encoder
from recommend.hybrid.path_component import PathComponent
from recommend.updates import check

CONFIG = HybridConfig(content=ContentConfig(encoder="lsa"))
NAMES = tuple(registry())
#: Every component once, cf once per model (``cf:ease`` ...): the cases the contract checks.
CASES = (*(f"cf:{m}" for m in ("ease", "itemknn", "als")), *(n for n in NAMES if n != "cf"))
#: The same scores for every user, known or not.
USER_INDEPENDENT = {"popularity"}
#: Components whose refresh after an add is exactly a refit on the grown graph (the path
#: scorers with their meta-path weights kept; cf and session keep their fitted weights).
REFIT_ON_REFRESH = {"content", "popularity", "graph", "social"}
#: Factor models keep their fitted users' factors: an add of those users' edges leaves their
#: scores as they were (only users added later are folded in from their histories).
KEEP_FITTED_USERS = {"cf:als"}
NOW = time.time() - 3600.0


@pytest.fixture(scope="module")
def graph(small_demo_artifact: Path) -> KnowledgeGraph:
    return load_artifact(small_demo_artifact).graph


@pytest.fixture(scope="module")
def shared(graph: KnowledgeGraph) -> FitShared:
    encoder = make_encoder(CONFIG)
    assert encoder is not None
    content = ContentComponent.fit(graph, encoder, half_life_days=CONFIG.content.half_life_days)
    return FitShared(content)


def kind(case: str) -> str:
    """The component name of ``case``."""
    return case.partition(":")[0]


def config(case: str) -> HybridConfig:
    """The config ``case`` is fitted with (its cf model, if it names one)."""
    model = case.partition(":")[2]
    if not model:
        return CONFIG
    return HybridConfig(content=ContentConfig(encoder="lsa"), cf=CfConfig(model=model))


@pytest.fixture(scope="module")
def fitted(graph: KnowledgeGraph, shared: FitShared) -> dict[str, Component]:
    comps = {case: component_type(kind(case)).from_graph(graph, config(case), shared)
             for case in CASES}
    missing = [n for n, c in comps.items() if c is None]
    assert not missing, f"no evidence on the demo world for {missing}"
    return comps  # type: ignore[return-value]


def all_users(graph: KnowledgeGraph) -> np.ndarray:
    return np.arange(graph.num_nodes("user"), dtype=np.int64)


def grown(graph: KnowledgeGraph) -> tuple[KnowledgeGraph, object, KnowledgeGraph]:
    """``graph`` plus purchases and follows of known users (edges only), the delta, and the
    same grown graph built afresh without cached derived state."""
    users = [u.partition(":")[2] for u in graph.nodes("user")]
    products = [p.partition(":")[2] for p in graph.nodes("product")]
    records = [*(Event(users[(5 * k) % len(users)], products[(7 * k + 3) % len(products)],
                       "product", "purchase", ts=NOW + k) for k in range(20)),
               *(Follow(users[(3 * k + 1) % len(users)], users[(11 * k) % len(users)], ts=NOW)
                 for k in range(1, 20))]
    dataset = check(graph, records).dataset
    new = graph.fork()
    new.add_records(dataset)
    delta = graph_delta(graph, new)
    assert delta.incremental and len(delta.users)
    grow_interactions(graph, new, delta.users)
    clean = graph.fork()
    clean.add_records(dataset)
    clean._derived = {}  # nothing carried over: everything derived afresh
    return new, delta, clean


def test_the_registry_names_every_configurable_component() -> None:
    assert set(NAMES) == set(COMPONENTS)
    assert all(component_type(n).name == n for n in NAMES)
    with pytest.raises(ValueError, match="unknown component 'ghost'; known: "):
        component_type("ghost")


def test_each_cf_case_fits_the_model_it_names(fitted) -> None:
    models = {c: type(fitted[c].model).__name__ for c in CASES if kind(c) == "cf"}
    assert models == {"cf:ease": "EASE", "cf:itemknn": "NeighbourItemKNN",
                      "cf:als": "WeightedALS"}


@pytest.mark.parametrize("name", CASES)
def test_scores_cover_the_products_for_known_and_unknown_users(fitted, graph, name) -> None:
    comp = fitted[name]
    assert comp.name == kind(name) and isinstance(comp.cold, bool)
    users = all_users(graph)
    n_items = graph.num_nodes("product")
    s = comp.scores(users)
    assert s.shape == (len(users), n_items) and s.dtype == np.float64
    assert np.isfinite(s).all() and s.any()
    unknown = comp.scores(np.array([len(users), len(users) + 5], np.int64))
    assert unknown.shape == (2, n_items)
    if name in USER_INDEPENDENT:
        assert (unknown == s[0]).all()
    else:
        assert not unknown.any()
    assert comp.scores(np.array([], np.int64)).shape == (0, n_items)


@pytest.mark.parametrize("name", CASES)
def test_candidates_are_its_scores_within_the_catalogue(fitted, graph, name) -> None:
    comp = fitted[name]
    users = all_users(graph)[:40]
    described = graph.described("product")
    cols = np.flatnonzero(described)
    dense = comp.scores(users)[:, cols]
    found = comp.candidates(users, cols)
    allowed = np.ones((len(users), len(cols)), bool)
    if isinstance(found, np.ndarray):
        assert np.array_equal(found, dense)
    else:  # a proposer: its own top N, scored as densely
        top = found.top(allowed, 10)
        assert top.shape == allowed.shape and (top.sum(axis=1) <= 10).all()
        rows, items = np.nonzero(top)
        np.testing.assert_allclose(found.at(rows, items), dense[rows, items], rtol=1e-5,
                                   atol=1e-6)
    pool = gather({name: found}, allowed, 10)
    assert pool.items.size and np.isin(pool.items, np.arange(len(cols))).all()
    assert described[cols[pool.items]].all()


@pytest.mark.parametrize("name", CASES)
def test_a_request_s_candidates_are_its_scores_bit_for_bit(fitted, graph, name) -> None:
    """A request ranks one user: the dense candidates then take their own cheaper forms
    (walked history rows, the model's block gathered into the columns), with the very bits
    of the dense scores over the columns, for known users and one past the graph's."""
    comp = fitted[name]
    n = graph.num_nodes("user")
    cols = np.flatnonzero(graph.described("product"))[::2]
    for users in (*(np.array([u]) for u in range(0, n, max(n // 30, 1))), np.array([n]),
                  np.array([0, n, 1])):
        found = comp.candidates(users, cols)
        if not isinstance(found, np.ndarray):
            return  # a proposer (content): its own test (tests/recommend/test_content_search.py)
        dense = comp.scores(users)[:, cols]
        assert found.dtype == dense.dtype and found.shape == dense.shape
        assert found.tobytes() == dense.tobytes(), users


@pytest.mark.parametrize("name", CASES)
def test_an_item_column_is_its_scores_transposed(fitted, graph, name) -> None:
    comp = fitted[name]
    n = graph.num_nodes("user")
    full = comp.scores(all_users(graph))
    for i in (0, 7, graph.num_nodes("product") - 1):
        column = comp.item_column(i, n + 2)  # two users past the graph's: what unknowns get
        assert column.shape == (n + 2,)
        np.testing.assert_allclose(column[:n], full[:, i], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(column[n:], comp.scores(np.array([n, n + 1]))[:, i],
                                   atol=1e-12)


@pytest.mark.parametrize("name", CASES)
def test_save_and_load_give_identical_scores(fitted, graph, tmp_path, name) -> None:
    comp = fitted[name]
    written = comp.save(tmp_path)
    assert all(p.is_file() and p.parent == tmp_path for p in written)
    assert sorted(tmp_path.iterdir()) == sorted(set(written))
    again = component_type(kind(name)).load(tmp_path, graph, config(name))
    users = np.arange(graph.num_nodes("user") + 2, dtype=np.int64)  # two unknown users too
    assert np.array_equal(again.scores(users), comp.scores(users))


@pytest.mark.parametrize("name", CASES)
def test_a_refresh_after_an_add_equals_a_full_refresh(fitted, graph, name) -> None:
    new, delta, clean = grown(graph)
    incremental = copy.copy(fitted[name])
    incremental.refresh(new, delta)
    full = copy.copy(fitted[name])
    full.refresh(clean)
    users = all_users(new)
    assert np.array_equal(incremental.scores(users), full.scores(users))
    grew = not np.array_equal(fitted[name].scores(users), full.scores(users))
    assert grew == (name not in KEEP_FITTED_USERS)


@pytest.mark.parametrize("name", sorted(REFIT_ON_REFRESH))
def test_a_refresh_equals_a_refit_where_promised(fitted, graph, shared, name) -> None:
    new, delta, clean = grown(graph)
    comp = copy.copy(fitted[name])
    comp.refresh(new, delta)
    states = {n: c.state() for n, c in fitted.items() if isinstance(c, PathComponent)}
    refit = component_type(name).from_graph(clean, CONFIG, FitShared(
        shared.content, path_states=states))
    assert refit is not None
    users = all_users(new)
    np.testing.assert_allclose(comp.scores(users), refit.scores(users), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["graph", "social"])
def test_a_path_component_shows_its_weighted_metapaths_as_saved(fitted, name) -> None:
    comp = fitted[name]
    saved = [(m["name"], m["weight"]) for m in comp.state()["metapaths"] if m["weight"] > 0]
    assert saved and [(mp.name, w) for mp, w in comp.weighted_metapaths()] == saved


@pytest.mark.parametrize("name", ["graph", "social"])
def test_a_path_component_explains_its_scores_with_paths_that_carry_them(fitted, graph,
                                                                         name) -> None:
    from recommend.paths.privacy import Privacy

    comp = fitted[name]
    users = all_users(graph)
    scores = comp.scores(users)
    u = int(np.argmax((scores > 0).sum(axis=1)))
    user_id = graph.node_id("user", u)
    top = np.argsort(-scores[u])[:3]
    item_ids = [graph.node_id("product", int(i)) for i in top]
    explained = comp.explained_paths(graph, user_id, item_ids, max_paths=2,
                                     privacy=Privacy.from_config(CONFIG))
    assert len(explained) == 3 and any(explained)
    for item_id, i, paths in zip(item_ids, top, explained, strict=True):
        assert len(paths) <= 2
        for p in paths:
            assert p.nodes[0] == user_id and p.nodes[-1] == item_id
            fid = comp.fidelity(graph, user_id, item_id, p)
            assert fid.before == pytest.approx(scores[u, i]) and fid.dropped


def test_nothing_outside_the_path_component_reads_its_scorer() -> None:
    import re

    root = Path(__file__).resolve().parents[2] / "recommend"
    readers = [str(p.relative_to(root)) for p in root.rglob("*.py")
               if p.name != "path_component.py"
               and re.search(r"(?<!self)(?<!paths)\.scorer\b", p.read_text(encoding="utf-8"))]
    assert readers == []


def test_a_model_saves_and_loads_any_subset_of_components(fitted, graph, tmp_path) -> None:
    from recommend.hybrid.blend import Blend

    names = ("social", "popularity")
    comps = {n: fitted[n] for n in names}
    model = HybridModel(graph, CONFIG, comps, Blend(names, np.array([0.5, 0.5])))
    model.save(tmp_path)
    again = HybridModel.load(tmp_path, graph)
    assert tuple(again.components) == names
    users = all_users(graph)
    for n in names:
        assert np.array_equal(again.components[n].scores(users), comps[n].scores(users))


def test_a_model_writes_the_path_states_once_in_the_old_format(fitted, graph, tmp_path,
                                                                 monkeypatch) -> None:
    import json

    import recommend.hybrid.path_component as path_component
    from kg.atomic import atomic_write_json
    from recommend.hybrid.blend import Blend

    names = ("graph", "popularity", "social")
    comps = {n: fitted[n] for n in names}
    model = HybridModel(graph, CONFIG, comps, Blend(names, np.array([0.4, 0.2, 0.4])))
    writes: list[Path] = []

    def counted(path: Path, obj: object) -> None:
        writes.append(Path(path))
        atomic_write_json(path, obj)

    monkeypatch.setattr(path_component, "atomic_write_json", counted)
    written = model.save(tmp_path / "new")
    path = tmp_path / "new" / path_component.GRAPH_STATE_FILE
    assert writes == [path] and len(written) == len(set(written))
    # what the per-component saves wrote before (each read back and rewrote the file)
    old = tmp_path / "old"
    old.mkdir()
    for n in ("graph", "social"):
        state = json.loads((old / path.name).read_text()) if (old / path.name).is_file() else {}
        atomic_write_json(old / path.name, {**state, n: comps[n].state()})
    assert path.read_bytes() == (old / path.name).read_bytes()  # old artifacts load as before
    again = HybridModel.load(tmp_path / "new", graph)
    users = all_users(graph)
    for n in names:
        assert np.array_equal(again.components[n].scores(users), comps[n].scores(users))


def test_a_listed_component_without_its_files_is_a_clear_error(fitted, graph, tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match=r"graph_scorers\.json: missing"):
        component_type("graph").load(tmp_path, graph, CONFIG)
    fitted["social"].save(tmp_path)
    with pytest.raises(ValueError, match="no 'graph' scorer"):
        component_type("graph").load(tmp_path, graph, CONFIG)


def test_the_cold_blend_weighs_the_cold_components_that_tell_candidates_apart() -> None:
    features = np.array([[1.0, 0.2, 3.0, 5.0], [2.0, 0.2, 1.0, 5.0]])
    norm = np.array([[0.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0]])
    parts, reason = cold_parts(("cf", "content", "social", "popularity"),
                               (False, True, True, True), features, norm, unknown=False)
    # cf is not cold; content and popularity are flat over these candidates
    assert parts.tolist() == [[0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
    assert reason == "cold start (no product history): social"
    _, nothing = cold_parts(("cf",), (False,), features[:, :1], norm[:, :1], unknown=True)
    assert nothing == "cold start (unknown user): no signal yet tells these products apart"


def test_a_path_component_saved_alone_keeps_the_others_state(fitted, tmp_path) -> None:
    """Saving one path component after another leaves both in the scorers file."""
    from recommend.hybrid.path_component import GRAPH_STATE_FILE

    paths = [c for c in fitted.values() if isinstance(c, PathComponent)]
    for comp in paths:
        comp.save(tmp_path)
    saved = json.loads((tmp_path / GRAPH_STATE_FILE).read_text(encoding="utf-8"))
    assert sorted(saved) == sorted(c.name for c in paths)
