"""The FAISS content index: exact and approximate search, exclusions, persistence, item vectors."""

from __future__ import annotations

import numpy as np
import pytest

from kg.build import build_graph
from kg.records import Dataset, Event, Product
from recommend.content import (
    ContentIndex,
    item_vectors,
    normalise_rows,
    product_text,
    product_texts,
)


def clustered(n: int, dim: int = 32, clusters: int = 20, seed: int = 0) -> np.ndarray:
    """Unit vectors drawn around random cluster centres (a mixture of Gaussians)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim))
    x = centres[rng.integers(0, clusters, n)] + 0.6 * rng.standard_normal((n, dim))
    return normalise_rows(x)


def ids(n: int) -> list[str]:
    return [f"product:{i}" for i in range(n)]


def brute_force(x: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-(normalise_rows(q) @ x.T), axis=1, kind="stable")[:, :k]


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    hits = [len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)]
    return float(np.mean(hits))


def test_exact_search_matches_numpy_brute_force() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((400, 24))
    q = rng.standard_normal((15, 24)) * 3.0  # unnormalised queries are normalised
    index = ContentIndex.build(ids(400), x)
    result = index.search(q, k=10)
    xn = normalise_rows(x)
    truth = brute_force(xn, q, 10)
    np.testing.assert_array_equal(result.indices, truth)
    expected = np.take_along_axis(normalise_rows(q) @ xn.T, truth, axis=1)
    np.testing.assert_allclose(result.scores, expected, rtol=1e-5, atol=1e-5)
    assert result.ids[0] == [f"product:{i}" for i in truth[0]]


def test_auto_is_exact_below_threshold_and_approximate_above() -> None:
    x = clustered(3000)
    assert ContentIndex.build(ids(3000), x).params["kind"] == "flat"
    truth = brute_force(x, x[:200] + 0.3 * x[200:400], 10)
    for approximate in ("ivf", "hnsw"):
        index = ContentIndex.build(ids(3000), x, exact_threshold=1000, approximate=approximate)
        assert index.params["kind"] == approximate
        found = index.search(x[:200] + 0.3 * x[200:400], k=10).indices
        assert recall(found, truth) >= 0.9
        assert index.params["calibrated_recall_at_10"] >= 0.95


def test_exclusions_are_never_returned_and_k_is_still_filled() -> None:
    x = clustered(500, seed=2)
    q = x[:3]
    index = ContentIndex.build(ids(500), x)
    truth = brute_force(x, q, 30)
    exclude = [set(truth[0, :5].tolist()), set(), {int(truth[2, 0]), 499}]
    result = index.search(q, k=10, exclude=exclude)
    for row, banned, full in zip(result.indices, exclude, truth, strict=True):
        assert not banned & set(row.tolist())
        assert row.tolist() == [i for i in full if i not in banned][:10]


def test_similar_leaves_out_the_item_itself() -> None:
    x = clustered(300, seed=3)
    index = ContentIndex.build(ids(300), x)
    result = index.similar(["product:7", "product:8"], k=5)
    assert "product:7" not in result.ids[0] and "product:8" not in result.ids[1]
    assert result.indices[0].tolist() == brute_force(x, x[7:8], 6)[0, 1:].tolist()


def test_short_rows_are_padded_and_zero_queries_get_no_candidates() -> None:
    index = ContentIndex.build(ids(3), np.eye(3, 4))
    result = index.search(np.vstack([np.zeros(4), np.eye(4)[0]]), k=5)
    assert result.ids[0] == [] and result.indices[0].tolist() == [-1] * 5
    assert result.ids[1][0] == "product:0" and result.indices[1, 3:].tolist() == [-1, -1]
    assert np.all(np.isneginf(result.scores[1, 3:]))


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
def test_save_and_load_give_identical_results(kind: str, tmp_path) -> None:
    x = clustered(2000, seed=4)
    index = ContentIndex.build(ids(2000), x, kind=kind)
    index.save(tmp_path / "art")
    loaded = ContentIndex.load(tmp_path / "art")
    q = x[:50] + 0.2 * x[50:100]
    before, after = index.search(q, k=10), loaded.search(q, k=10)
    np.testing.assert_array_equal(before.indices, after.indices)
    np.testing.assert_array_equal(before.scores, after.scores)
    assert loaded.ids == index.ids and loaded.params == index.params
    np.testing.assert_allclose(loaded.vector("product:5"), x[5], atol=1e-6)


def test_load_refuses_files_from_different_saves(tmp_path) -> None:
    ContentIndex.build(ids(10), clustered(10)).save(tmp_path / "a")
    ContentIndex.build(ids(12), clustered(12)).save(tmp_path / "b")
    (tmp_path / "a" / "content.faiss").write_bytes((tmp_path / "b" / "content.faiss").read_bytes())
    with pytest.raises(ValueError, match=r"12 vectors but content_index\.json lists 10 ids"):
        ContentIndex.load(tmp_path / "a")


def test_bad_vectors_are_rejected_naming_the_item() -> None:
    x = clustered(5)
    x[3] = 0.0
    with pytest.raises(ValueError, match=r"'product:3' \(row 3\) is zero"):
        ContentIndex.build(ids(5), x)
    x[3] = np.nan
    with pytest.raises(ValueError, match=r"'product:3'.*NaN"):
        ContentIndex.build(ids(5), x)
    with pytest.raises(ValueError, match="queries of shape"):
        ContentIndex.build(ids(5), clustered(5)).search(np.ones((1, 7)), k=2)


def test_items_without_an_image_are_still_searchable() -> None:
    rng = np.random.default_rng(5)
    text, image = normalise_rows(rng.standard_normal((6, 16))), normalise_rows(
        rng.standard_normal((4, 8))
    )
    with_image = ids(6)[:4]
    iv = item_vectors(ids(6), text, image_ids=with_image, image_vectors=image, image_weight=0.3)
    assert iv.has_image.tolist() == [True] * 4 + [False] * 2
    # both with images: cosine = 0.7 · text cosine + 0.3 · image cosine
    expected = 0.7 * text[0] @ text[1] + 0.3 * image[0] @ image[1]
    assert iv.vectors[0] @ iv.vectors[1] == pytest.approx(expected, abs=1e-5)
    index = ContentIndex.build(iv.ids, iv.vectors)
    # a text-only query finds the text-only item, ranked by its text alone
    result = index.search(iv.vectors[4:6], k=1)
    assert [r[0] for r in result.ids] == ["product:4", "product:5"]
    with pytest.raises(ValueError, match="belong to no listed item"):
        item_vectors(ids(2), text[:2], image_ids=["product:9"], image_vectors=image[:1])


def test_product_text_puts_the_telling_fields_first() -> None:
    text = product_text(
        {
            "title": "Aqua Trail Jacket",
            "brand": "Peak",
            "categories": ["Clothing", "Jackets"],
            "attributes": {"waterproof": True, "colour": "blue", "recycled": False},
            "description": "A light shell for wet hikes.",
            "price": 120.0,
        }
    )
    assert text.startswith("Aqua Trail Jacket. Brand: Peak. Category: Clothing > Jackets.")
    assert "waterproof" in text and "colour: blue" in text and "recycled" not in text
    assert text.endswith("A light shell for wet hikes.") and "120" not in text


def test_product_text_leaves_out_a_stand_in_title() -> None:
    ciao = {"title": "Ciao product 7", "categories": ["DVDs"],
            "attributes": {"title_fallback": "id", "other_categories": "Books"}}
    assert product_text(ciao) == "Category: DVDs. other_categories: Books."
    assert product_text({"title": "B00ASIN", "attributes": {"title_fallback": "asin"}}) == ""
    graph = build_graph(Dataset(products=[
        Product("A", "A", attributes={"title_fallback": "id"}),
        Product("B", "B", categories=("Books",), attributes={"title_fallback": "id"})]),
        progress=False)
    assert product_texts(graph) == (["product:B"], ["Category: Books."])


def test_product_texts_skip_products_known_only_from_events() -> None:
    graph = build_graph(
        Dataset(
            products=[Product("A", "Green tea", brand="Leafy")],
            events=[Event("1", "Z", "product", "view", ts=1.0)],
        ),
        progress=False,
    )
    assert product_texts(graph) == (["product:A"], ["Green tea. Brand: Leafy."])


@pytest.mark.parametrize("kind", ["flat", "ivf"])
def test_added_items_are_found_without_a_rebuild(kind: str) -> None:
    x = clustered(1200, seed=6)
    index = ContentIndex.build(ids(1000), x[:1000], kind=kind)
    index.add(ids(1200)[1000:], x[1000:])
    assert len(index) == 1200
    assert index.search(x[1100:1105], k=1).ids == [[f"product:{i}"] for i in range(1100, 1105)]
    np.testing.assert_allclose(index.vector("product:1150"), x[1150], atol=1e-6)
    with pytest.raises(ValueError, match="already in the content index"):
        index.add(["product:3"], x[:1])


@pytest.mark.parametrize("kind", ["flat", "ivf"])
def test_adding_to_a_copy_leaves_the_original_as_it_was(kind: str) -> None:
    x = clustered(1200, seed=6)
    index = ContentIndex.build(ids(1000), x[:1000], kind=kind)
    copy = index.copy()
    copy.add(ids(1200)[1000:], x[1000:])
    assert (len(index), index.index.ntotal, len(copy)) == (1000, 1000, 1200)
    assert "product:1100" in copy and "product:1100" not in index
    assert copy.params == index.params
    assert index.search(x[1100:1101], k=1).ids != [["product:1100"]]


def test_an_empty_index_answers_with_no_candidates() -> None:
    index = ContentIndex.build([], np.zeros((0, 8)))
    assert index.search(np.ones((2, 8)), k=3).ids == [[], []]
