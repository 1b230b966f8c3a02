"""read_graph refuses a node file whose ids or attributes are malformed, naming the file and
the node type, and reads a well-formed one's ids in order."""

from __future__ import annotations

import json

import pytest

from kg.artifact_files import ArtifactError
from kg.graph_io import NODES_FILE, load_graph, save_graph
from tests.recommend.shops import two_group_shop


@pytest.fixture()
def saved(tmp_path):
    save_graph(two_group_shop(12, 4, described=True, seed=0), tmp_path)
    return tmp_path


def _tamper(folder, change) -> None:
    path = folder / NODES_FILE
    meta = json.loads(path.read_text(encoding="utf-8"))
    change(meta["nodes"]["product"])
    path.write_text(json.dumps(meta), encoding="utf-8")


def test_a_well_formed_node_file_is_read_with_each_ids_index(saved) -> None:
    graph = load_graph(saved)
    ids = graph.nodes("product")
    assert ids and all(graph.index(i) == n for n, i in enumerate(ids))


@pytest.mark.parametrize(("change", "reason"), [
    (lambda e: e["ids"].__setitem__(1, e["ids"][0]), "ids must be unique non-empty strings"),
    (lambda e: e["ids"].__setitem__(2, ""), "ids must be unique non-empty strings"),
    (lambda e: e["ids"].__setitem__(0, 7), "ids must be unique non-empty strings"),
    (lambda e: e["ids"].__setitem__(0, ["p"]), "ids must be unique non-empty strings"),
    (lambda e: e["ids"].__setitem__(0, {"p": 1}), "ids must be unique non-empty strings"),
    (lambda e: e["attrs"].__setitem__(0, ["title"]), "attrs must be objects or null"),
    (lambda e: e["attrs"].__setitem__(0, "title"), "attrs must be objects or null"),
    (lambda e: e["attrs"].pop(), "need lists \"ids\" and \"attrs\" of equal length"),
])
def test_a_malformed_node_file_is_refused_naming_file_and_type(saved, change, reason) -> None:
    _tamper(saved, change)
    with pytest.raises(ArtifactError, match=f"{NODES_FILE}: product .*{reason[:12]}"):
        load_graph(saved)


def test_null_attributes_are_read(saved) -> None:
    _tamper(saved, lambda e: e["attrs"].__setitem__(0, None))
    assert load_graph(saved).nodes("product")
