"""Product pictures in the content index: matched to products, joined with text at the weight
validation chooses, and absent pictures changing nothing."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from kg.artifact import StageResult, build_artifact
from kg.artifact_files import ArtifactError
from kg.build import build_graph
from kg.jsonl import write_dataset
from kg.records import Dataset, Event, Product, User
from recommend import Recommender
from recommend.content import ContentIndex, normalise_rows
from recommend.content.images import (
    ProductImages,
    joined_index,
    product_images,
    read_product_images,
    text_part,
)
from recommend.hybrid.config import ContentConfig, HybridConfig
from recommend.model_stage import model_stage
from recommend.stages.vision_stage import IMAGE_EMBEDDINGS_FILE

LOOKS = 6
WORDS = ["aster", "birch", "cedar", "dune", "ember", "fjord", "grove", "heath", "inlet", "juniper"]


def pictured_world(n_products: int = 48, n_users: int = 120, seed: int = 0
                   ) -> tuple[Dataset, np.ndarray]:
    """Products whose titles say nothing of their look (random words) but whose pictures do;
    each user buys products of one look. The products' looks are returned beside."""
    rng = np.random.default_rng(seed)
    look = np.arange(n_products) % LOOKS
    products = [Product(f"p{i}", f"{WORDS[rng.integers(10)]} {WORDS[rng.integers(10)]} {i}",
                        image=f"images/p{i}.png") for i in range(n_products)]
    users = [User(f"u{u}") for u in range(n_users)]
    events = []
    for u in range(n_users):
        mine = np.flatnonzero(look == u % LOOKS)
        for t, i in enumerate(rng.choice(mine, 6, replace=False)):
            events.append(Event(f"u{u}", f"p{i}", "product", "purchase", ts=1e9 + 3600.0 * t))
    return Dataset(products=products, users=users, events=events), look


def picture_vectors(look: np.ndarray, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((LOOKS, 16))
    return normalise_rows(centres[look] + 0.3 * rng.standard_normal((len(look), 16)))


def write_embeddings(path: Path, ids: list[str], vectors: np.ndarray) -> None:
    buf = io.BytesIO()
    np.savez(buf, ids=np.array(ids, dtype=str), vectors=vectors)
    path.write_bytes(buf.getvalue())


def fake_vision_stage(ids: list[str], vectors: np.ndarray):
    """What the vision stage leaves for the models stage: ``image_embeddings.npz``."""

    def run(graph, result, root, tmp):
        write_embeddings(tmp / IMAGE_EMBEDDINGS_FILE, ids, vectors)
        return StageResult(manifest={"images_embedded": len(ids)},
                           written=[tmp / IMAGE_EMBEDDINGS_FILE])

    return run


CONFIG = HybridConfig(components=("cf", "content",
                                                                      "popularity"),
                      content=ContentConfig(encoder="lsa", lsa_dim=16))


@pytest.fixture(scope="module")
def pictured(tmp_path_factory) -> tuple[Path, np.ndarray]:
    root = tmp_path_factory.mktemp("pictured")
    dataset, look = pictured_world()
    write_dataset(dataset, root / "data")
    ids = [f"image:images/p{i}.png" for i in range(len(look))]
    ids.append("image:images/not-in-the-graph.png")
    vectors = np.vstack([picture_vectors(look), np.ones((1, 16), np.float32)])
    build_artifact(root / "data", root / "art", progress=False,
                   stages=[("vision", fake_vision_stage(ids, vectors)),
                           ("models", model_stage(CONFIG))])
    return root / "art", look


def test_each_pictured_product_gets_its_images_mean(tmp_path) -> None:
    products = [Product("a", "A", image="a.png"), Product("b", "B"), Product("c", "C",
                                                                          image="c.png")]
    g = build_graph(Dataset(products=products), progress=False)
    got = product_images(g, ["image:c.png", "image:a.png", "image:elsewhere.png"],
                         np.array([[0.0, 2.0], [3.0, 4.0], [1.0, 0.0]]))
    assert got.ids == ["product:a", "product:c"]  # b has no picture
    np.testing.assert_allclose(got.vectors, [[0.6, 0.8], [0.0, 1.0]], atol=1e-6)
    write_embeddings(tmp_path / "e.npz", ["image:a.png"], np.array([[np.nan, 1.0]]))
    with pytest.raises(ArtifactError, match="non-finite"):
        read_product_images(g, tmp_path / "e.npz")
    write_embeddings(tmp_path / "e.npz", ["image:a.png"], np.zeros((2, 2)))
    with pytest.raises(ArtifactError, match="1 image ids for 2 vectors"):
        read_product_images(g, tmp_path / "e.npz")


def test_the_joined_cosine_is_the_weighted_text_and_picture_cosines() -> None:
    rng = np.random.default_rng(0)
    text, pics = normalise_rows(rng.standard_normal((5, 8))), rng.standard_normal((3, 4))
    index = ContentIndex.build([f"p:{i}" for i in range(5)], text)
    assert joined_index(index, ProductImages(["p:0", "p:1", "p:2"], pics), 0.0) is index
    assert joined_index(index, ProductImages(["elsewhere"], pics[:1]), 0.5) is index
    joined = joined_index(index, ProductImages(["p:0", "p:1", "p:2"], pics), 0.25)
    v, p = joined.vectors(), normalise_rows(pics)
    assert joined.params["image_weight"] == 0.25 and joined.params["pictured"] == 3
    assert v[0] @ v[1] == pytest.approx(0.75 * text[0] @ text[1] + 0.25 * p[0] @ p[1], abs=1e-5)
    # a product without a picture keeps its text; against a pictured one it counts √(1-w)
    assert v[3] @ v[4] == pytest.approx(text[3] @ text[4], abs=1e-5)
    assert v[0] @ v[4] == pytest.approx(np.sqrt(0.75) * text[0] @ text[4], abs=1e-5)
    new = text_part(joined, text[3:4] * 2.0)
    np.testing.assert_allclose(new[0, :8], text[3], atol=1e-6)
    assert new.shape == (1, 12) and not new[0, 8:].any()
    assert text_part(index, text[:1]) is not None and text_part(index, text[:1]).shape == (1, 8)
    with pytest.raises(ValueError, match="dimension 5"):
        text_part(joined, np.ones((1, 5)))
    with pytest.raises(ValueError, match="text-only"):
        joined_index(joined, ProductImages(["p:0"], pics[:1]), 0.5)


def test_validation_joins_the_pictures_when_they_help(pictured) -> None:
    art, _ = pictured
    rec = Recommender.load(art)
    record = rec.model.info["content_images"]
    assert record["pictured_products"] == 48 and set(record["trials"]) == {"0", "0.25", "0.5"}
    assert record["chosen"] > 0
    gain = record["gain_over_text"][f"{record['chosen']:g}"]
    assert gain["mean"] > 0 and gain["over_shuffled"] > gain["over_shuffled_twice_se"] > 0
    assert record["trials"][f"{record['chosen']:g}"] > record["trials"]["0"]
    index = rec.model.components["content"].index
    assert index.params["image_weight"] == record["chosen"] and index.params["pictured"] == 48
    assert rec.manifest["stages"]["models"]["info"]["content_images"] == record


def test_products_added_later_get_text_only_vectors(pictured) -> None:
    art, _ = pictured
    rec = Recommender.load(art)
    content = rec.model.components["content"]
    dim = content.index.dim
    rec.add(Dataset(products=[Product("new", "cedar dune 99")],
                    events=[Event("u0", "new", "product", "view", ts=2e9)]))
    content = rec.model.components["content"]
    assert "product:new" in content.index and content.index.dim == dim
    assert not content.index.vector("product:new")[-16:].any()


def test_without_pictures_nothing_changes(tmp_path) -> None:
    dataset, _ = pictured_world(n_products=36, n_users=40)
    write_dataset(dataset, tmp_path / "data")
    build_artifact(tmp_path / "data", tmp_path / "art", progress=False,
                   stages=[("models", model_stage(CONFIG))])
    rec = Recommender.load(tmp_path / "art")
    assert "content_images" not in rec.model.info
    assert "image_weight" not in rec.model.components["content"].index.params


def test_pictures_that_carry_nothing_are_left_out(tmp_path) -> None:
    from recommend.hybrid.content_component import ContentComponent
    from recommend.hybrid.encoders import LsaEncoder
    from recommend.hybrid.image_weight import tune_content_images
    from recommend.hybrid.split import holdout_split

    dataset, look = pictured_world()
    graph = build_graph(dataset, progress=False)
    content = ContentComponent.fit(graph, LsaEncoder(dim=16, n_features=2**12),
                                   half_life_days=None)
    split = holdout_split(graph, target_relations=("purchased",), fraction=0.2,
                          min_user_items=3, seed=0)
    ids = [f"product:p{i}" for i in range(len(look))]
    for seed in range(3):  # random pictures: none of the draws may be taken for a look
        noise = np.random.default_rng(seed).standard_normal((len(look), 16))
        kept, record = tune_content_images(content, ProductImages(ids, noise), split, CONFIG)
        assert record["chosen"] == 0.0 and kept is content
        assert record["users"] == 120 and record["left_out"] > 120
    _, record = tune_content_images(content, ProductImages(ids, picture_vectors(look)), split,
                                    CONFIG)
    assert record["chosen"] > 0.0
    gain = record["gain_over_text"][f"{record['chosen']:g}"]
    assert gain["mean"] > 0 and gain["shuffles_beaten"] == CONFIG.content.image_shuffles
    assert gain["over_shuffled"] > gain["over_shuffled_twice_se"] > 0


def test_each_left_out_product_is_ranked_from_the_rest_among_unseen_products() -> None:
    from recommend.hybrid.content_component import ContentComponent
    from recommend.hybrid.image_weight import left_out, left_out_ndcg, per_user
    from recommend.hybrid.split import HoldoutSplit

    products = [Product(x, x.upper()) for x in "abcd"]
    bought = [("u", "a"), ("u", "b"), ("v", "a"), ("v", "c"), ("w", "d")]
    events = [Event(u, i, "product", "purchase", ts=1e9 + t) for t, (u, i) in enumerate(bought)]
    events.append(Event("u", "c", "product", "view", ts=2e9))  # seen, not a target
    graph = build_graph(Dataset(products=products, users=[User(x) for x in "uvw"],
                                events=events), progress=False)
    vectors = np.array([[1.0, 0, 0], [1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]])
    index = ContentIndex.build([f"product:{x}" for x in "abcd"], vectors)
    content = ContentComponent(index, graph, half_life_days=None)
    split = HoldoutSplit(graph, graph.matrix("purchased", dst_type="product")[:0],
                         targets=("purchased",))
    samples = left_out(content, split, max_users=10, seed=0)
    users = [graph.node_id("user", int(u)) for u in samples.users]
    assert users == ["user:u", "user:v"] and len(samples) == 4  # w has nothing to rank from
    by_user = per_user(left_out_ndcg(index.vectors(), samples, k=10), samples)
    # u: a from b (and the viewed c, which is not ranked), b from a: each first
    # v: a from c, first (b and d tie with it at 0: a tie does not count against it); c from
    # a, second (below b)
    np.testing.assert_allclose(by_user, [1.0, (1.0 + 1.0 / np.log2(3.0)) / 2])
    assert left_out(content, split, max_users=1, seed=0).users.tolist() in ([0], [1])
