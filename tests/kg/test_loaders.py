"""The public-dataset loaders: real data in ../shared/data (skipped when absent) and small
hand-made source folders, including broken rows that must be reported, not dropped."""

from __future__ import annotations

import functools
import gzip
import json
from collections import Counter
from pathlib import Path

import pytest

from kg.jsonl import write_dataset
from kg.loaders import (
    LoadResult,
    load_amazon_beauty_kg,
    load_amazon_reviews,
    load_ciao,
    load_movielens,
)
from kg.reader import read_dataset

#: A real dataset's loader and its folder in ../shared/data.
_SOURCES = {
    "ml": (load_movielens, "ml-100k"),
    "beauty": (load_amazon_beauty_kg, "amazon_beauty_kg"),
    "reviews": (load_amazon_reviews, "amazon2018_5core_beauty_fashion"),
    "ciao": (load_ciao, "ciao_trust_ratings"),
}


@functools.cache
def _load(kind: str, folder: Path) -> LoadResult:
    """Each real dataset is loaded once per test module."""
    return _SOURCES[kind][0](folder)


def _loaded(shared_dataset, kind: str) -> tuple[LoadResult, Path]:
    """The real dataset ``kind``, loaded, and its folder (the test is skipped when absent)."""
    folder = shared_dataset(_SOURCES[kind][1])
    return _load(kind, folder), folder


def _gz_lines(path: Path) -> list[str]:
    return gzip.decompress(path.read_bytes()).decode("utf-8").splitlines()


def _validator_rejections(result: LoadResult, tmp_path: Path) -> list:
    write_dataset(result.dataset, tmp_path)
    return read_dataset(tmp_path, progress=False).rejections


# --- MovieLens 100K -------------------------------------------------------------------


@pytest.fixture
def movielens(shared_dataset) -> LoadResult:
    return _loaded(shared_dataset, "ml")[0]


def test_movielens_counts_match_the_source(movielens):
    data = movielens.dataset
    assert (len(data.users), len(data.products), len(data.events)) == (943, 1682, 100_000)
    assert movielens.rejected == []
    assert {e.kind for e in data.events} == {"rate"}
    assert Counter(e.value for e in data.events).keys() == {1.0, 2.0, 3.0, 4.0, 5.0}


def test_movielens_known_records(movielens):
    users = {u.id: u for u in movielens.dataset.users}
    assert (users["1"].age, users["1"].gender, users["1"].location) == (24, "M", "85711")
    assert users["1"].attributes == {"occupation": "technician"}
    movies = {p.id: p for p in movielens.dataset.products}
    toy = movies["1"]
    assert (toy.title, toy.year, toy.categories) == ("Toy Story", 1995, ("movie", "Animation"))
    assert toy.attributes["genres"] == "Animation|Children's|Comedy"
    assert toy.attributes["decade"] == "1990s"
    assert movies["543"].title == "Misérables, Les"  # latin-1 decoded
    first = movielens.dataset.events[0]
    assert (first.user, first.target, first.value, first.ts) == ("196", "242", 3.0, 881250949.0)


def test_movielens_output_passes_the_validator(movielens, tmp_path):
    assert _validator_rejections(movielens, tmp_path) == []


def _write_movielens(folder: Path) -> None:
    folder.mkdir()
    (folder / "u.genre").write_text("unknown|0\nAction|1\nComedy|2\n\n")
    (folder / "u.user").write_text("1|24|M|technician|85711\n2|x|F|other|1\n3|30|F|writer|02139\n")
    (folder / "u.item").write_bytes(
        "1|Amélie (2001)|01-Jan-2001||url|0|0|1\n"
        "2|Heat (1995)|01-Jan-1995||url|0|1|1\n"
        "3|No year|01-Jan-1990||url|0|1\n".encode("latin-1")
    )
    (folder / "u.data").write_text(
        "1\t1\t5\t881250949\n3\t2\t4\t881250950\n1\t9\t4\t8\n3\t1\t7\t8\n1\t2\n"
    )


def test_movielens_bad_rows_are_reported_with_file_line_and_reason(tmp_path):
    _write_movielens(tmp_path / "ml")
    result = load_movielens(tmp_path / "ml")
    where = {(r.file, r.line): r.reason for r in result.rejected}
    assert set(where) == {("u.user", 2), ("u.item", 3), ("u.data", 3), ("u.data", 4), ("u.data", 5)}
    assert "unknown movie 9" in where["u.data", 3]
    assert "outside 1-5" in where["u.data", 4]
    heat = result.dataset.products[1]
    assert heat.categories == ("movie", "Action") and heat.attributes["genres"] == "Action|Comedy"
    assert result.dataset.products[0].title == "Amélie"
    assert len(result.dataset.events) == 2
    assert len(load_movielens(tmp_path / "ml", limit=1).dataset.events) == 1


def test_movielens_knowledge_reaches_the_graph(tmp_path):
    """Every genre and the decade become categories, demographics segments (kg.build)."""
    from kg.build import build_graph

    _write_movielens(tmp_path / "ml")
    g = build_graph(load_movielens(tmp_path / "ml").dataset, progress=False)
    assert sorted(e.dst for e in g.neighbors("product:2", "in_category")) == [
        "category:decade/1990s", "category:movie/action", "category:movie/comedy"]
    assert sorted(e.dst for e in g.neighbors("product:1", "in_category")) == [
        "category:decade/2000s", "category:movie/comedy"]
    assert sorted(e.dst for e in g.neighbors("user:3", "member_of")) == [
        "segment:age-30-39", "segment:gender-f", "segment:occupation-writer"]


def test_a_missing_source_file_is_named(tmp_path):
    _write_movielens(tmp_path / "ml")
    (tmp_path / "ml" / "u.item").unlink()
    with pytest.raises(FileNotFoundError, match=r"u\.item"):
        load_movielens(tmp_path / "ml")


# --- Amazon Beauty KG -----------------------------------------------------------------


@pytest.fixture
def beauty(shared_dataset) -> tuple[LoadResult, Path]:
    return _loaded(shared_dataset, "beauty")


def test_beauty_kg_counts_match_the_source(beauty):
    result, _ = beauty
    data = result.dataset
    assert (len(data.users), len(data.products)) == (22_363, 12_101)
    assert len(data.events) == 149_844 and {e.kind for e in data.events} == {"purchase"}
    assert len(result.heldout["test_purchases.jsonl"]) == 48_658
    assert {edges.relation: len(edges) for edges in result.relations} == {
        "also_bought": 891_182,
        "also_viewed": 155_350,
        "bought_together": 9_021,
    }
    assert sum(len(p.categories) for p in data.products) == 49_756
    # 10,021 brand edges, 18 of them to a brand with an empty name: reported, not dropped
    assert sum(p.brand is not None for p in data.products) == 10_021 - 18
    assert len(result.rejected) == 18
    assert {r.file for r in result.rejected} == {"brand_p_b.txt.gz"}


def test_beauty_kg_ids_follow_the_split_files(beauty):
    result, folder = beauty
    asins = _gz_lines(folder / "pgpr" / "product.txt.gz")
    users = _gz_lines(folder / "pgpr" / "users.txt.gz")
    train = _gz_lines(folder / "cafe" / "train_labels.txt.gz")[0].split("\t")
    test = _gz_lines(folder / "cafe" / "test_labels.txt.gz")[0].split("\t")
    user = users[int(train[0])]
    bought = {e.target for e in result.dataset.events if e.user == user}
    assert bought == {asins[int(i)] for i in train[1:]}
    held = {row["product"] for row in result.heldout["test_purchases.jsonl"] if row["user"] == user}
    assert held == {asins[int(i)] for i in test[1:]}
    train_pairs = {(e.user, e.target) for e in result.dataset.events}
    assert not any(
        (r["user"], r["product"]) in train_pairs for r in result.heldout["test_purchases.jsonl"]
    )


def test_beauty_kg_known_product_and_its_relations(beauty):
    result, folder = beauty
    product = result.dataset.products[0]
    assert (product.id, product.title, product.brand) == ("B003QLRO7W", "B003QLRO7W", "Conair")
    assert product.categories == ("Beauty", "Hair Care", "Styling Tools", "Irons", "Curling Irons")
    assert product.attributes["title_fallback"] == "asin"
    related = _gz_lines(folder / "pgpr" / "related_product.txt.gz")
    second = _gz_lines(folder / "pgpr" / "also_bought_p_p.txt.gz")[1].split()
    also_bought = next(e for e in result.relations if e.relation == "also_bought")
    expected = [f"product:{related[int(i)]}" for i in second]
    got = [
        d
        for s, d in zip(also_bought.src, also_bought.dst, strict=True)
        if s == "product:B000TBZHNK"
    ]
    assert got == expected and len(got) > 0


def test_beauty_kg_output_passes_the_validator(beauty, tmp_path):
    assert _validator_rejections(beauty[0], tmp_path) == []


def write_beauty_kg(root: Path, pgpr: dict[str, str], cafe: dict[str, str]) -> None:
    """A Beauty KG source folder under ``root``: each ``NAME: text`` as ``pgpr/NAME.txt.gz``
    or ``cafe/NAME.txt.gz``."""
    for folder, files in (("pgpr", pgpr), ("cafe", cafe)):
        (root / folder).mkdir()
        for name, text in files.items():
            (root / folder / f"{name}.txt.gz").write_bytes(gzip.compress(text.encode()))


def test_beauty_kg_bad_label_line_is_reported(tmp_path):
    write_beauty_kg(tmp_path, {
        "product": "P0\nP1\n", "users": "U0\nU1\n", "brand": "Acme\n",
        "category": "Beauty\nMakeup\n", "related_product": "R0\nP1\n",
        "brand_p_b": "0\n\n", "category_p_c": "1 0\n0\n", "also_bought_p_p": "0 1\n\n",
        "also_viewed_p_p": "\n7\n", "bought_together_p_p": "\n\n",
    }, {"train_labels": "0\t0\n1\t5\n", "test_labels": "0\t1\n1\t0\n"})
    result = load_amazon_beauty_kg(tmp_path)
    assert [(r.file, r.line) for r in result.rejected] == [
        ("also_viewed_p_p.txt.gz", 2),
        ("train_labels.txt.gz", 2),
    ]
    assert result.dataset.products[0].categories == ("Beauty", "Makeup")
    assert [(e.relation, e.src, e.dst) for e in result.relations] == [
        ("also_bought", ["product:P0", "product:P0"], ["product:R0", "product:P1"]),
        ("also_viewed", [], []),
        ("bought_together", [], []),
    ]
    assert result.heldout["test_purchases.jsonl"] == [
        {"user": "U0", "product": "P1"},
        {"user": "U1", "product": "P0"},
    ]


# --- Amazon 2018 reviews --------------------------------------------------------------


@pytest.fixture
def reviews(shared_dataset) -> LoadResult:
    return _loaded(shared_dataset, "reviews")[0]


def test_reviews_counts_match_the_source(reviews):
    assert reviews.rows_read == {"All_Beauty_5.json.gz": 5_269, "AMAZON_FASHION_5.json.gz": 3_176}
    data = reviews.dataset
    assert len(data.users) == 991 + 406
    assert Counter(p.categories for p in data.products) == {
        ("All Beauty",): 85,
        ("Amazon Fashion",): 31,
    }
    assert len(data.posts) == len(data.events)
    # every review is a post, or an exact repeat of an earlier line (reported)
    assert len(data.posts) + len(reviews.rejected) == 5_269 + 3_176
    assert all(r.reason.startswith("exact duplicate of line") for r in reviews.rejected)


def test_reviews_known_record(reviews):
    post = next(p for p in reviews.dataset.posts if p.id == "All_Beauty_5-1")
    assert (post.author, post.products, post.ts) == (
        "A3CIUOJXQ5VDQ2",
        ("B0000530HU",),
        1472688000.0,
    )
    assert post.text == "Five Stars\n\nAs advertised. Reasonably priced"
    rate = next(
        e
        for e in reviews.dataset.events
        if (e.user, e.target, e.ts) == ("A3CIUOJXQ5VDQ2", "B0000530HU", 1472688000.0)
    )
    assert (rate.kind, rate.value) == ("rate", 5.0)
    users = {u.id: u for u in reviews.dataset.users}
    assert users["ALJ66O1Y6SLHA"].name == "Tonya B."


def test_reviews_output_passes_the_validator(reviews, tmp_path):
    # rate events of two different reviews with the same user, product, day and stars are
    # identical records: the validator merges them, and rejects nothing
    assert _validator_rejections(reviews, tmp_path) == []


def test_reviews_bad_lines_are_reported(tmp_path):
    good = {
        "reviewerID": "U1",
        "asin": "A1",
        "overall": 4.0,
        "unixReviewTime": 1400000000,
        "reviewText": "Nice",
        "summary": "Ok",
    }
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps({**good, "asin": ""}),
        json.dumps({**good, "overall": None}),
        json.dumps(good),
        json.dumps({**good, "reviewText": "Other", "unixReviewTime": "x"}),
    ]
    path = tmp_path / "Toys_5.json"
    path.write_text("\n".join(lines) + "\n")
    result = load_amazon_reviews(path)
    assert [(r.line, r.reason.split(":")[0]) for r in result.rejected] == [
        (2, "invalid JSON"),
        (3, "missing or empty 'asin'"),
        (4, "'overall' must be a rating 1-5, got None"),
        (5, "exact duplicate of line 1"),
        (6, "'unixReviewTime' must be integer seconds, got 'x'"),
    ]
    assert result.dataset.products[0].categories == ("Toys",)
    assert [p.text for p in result.dataset.posts] == ["Ok\n\nNice"]


# --- Ciao -----------------------------------------------------------------------------


@pytest.fixture
def ciao(shared_dataset) -> tuple[LoadResult, Path]:
    return _loaded(shared_dataset, "ciao")


def test_ciao_counts_match_the_source(ciao):
    result, _ = ciao
    data = result.dataset
    assert result.rows_read["ratings.csv.gz"] == 284_086
    assert len(data.users) == 7_375 and len(data.follows) == 111_781
    reasons = Counter("zero" if "outside 1-5" in r.reason else "merged" for r in result.rejected)
    assert reasons["zero"] == 34
    assert len(data.events) + len(result.rejected) == 284_086
    # products rated only with a (rejected) 0 get no record: at most 34 of the 105,114
    assert 105_114 - 34 <= len(data.products) <= 105_114
    assert {e.target for e in data.events} == {p.id for p in data.products}
    assert len({p.categories for p in data.products}) == 28


def test_ciao_known_records_and_merged_duplicates(ciao):
    result, folder = ciao
    data = result.dataset
    products = {p.id: p for p in data.products}
    assert products["1"].categories == ("DVDs",)
    assert data.follows[0].follower == "1" and data.follows[0].followee == "2"
    merged = next(r for r in result.rejected if "merged" in r.reason)
    first_line = int(merged.reason.split("line ")[1].split(":")[0])
    rows = gzip.decompress((folder / "ratings.csv.gz").read_bytes()).decode().split("\n")
    user, product, *_ = rows[first_line - 1].split(",")
    ratings = [int(row.split(",")[3]) for row in rows[1:] if row.split(",")[:2] == [user, product]]
    event = next(e for e in data.events if (e.user, e.target) == (user, product))
    assert len(ratings) > 1 and event.value == pytest.approx(sum(ratings) / len(ratings))


def test_ciao_prefix_passes_the_validator(shared_dataset, tmp_path):
    # a prefix keeps the test quick; the full import was checked the same way (0 rejections)
    result = load_ciao(shared_dataset("ciao_trust_ratings"), limit=20_000)
    assert result.rows_read["ratings.csv.gz"] == 20_000 and result.rows_read["trust.csv"] == 20_000
    assert len(result.dataset.follows) == 20_000
    assert _validator_rejections(result, tmp_path) == []


def test_ciao_bad_rows_are_reported(tmp_path):
    (tmp_path / "categories.csv").write_text("category_id,category_name\n1,Beauty\n10,Ciao Caf?\n")
    (tmp_path / "ratings.csv.gz").write_bytes(
        gzip.compress(
            b"user_id,product_id,category_id,rating,helpfulness\n"
            b"1,5,1,4,2\n1,5,1,2,1\n2,6,10,0,1\n2,6,99,3,1\n2,7,10,5\n2,7,10,5,1\n"
        )
    )
    (tmp_path / "trust.csv").write_text("truster_id,trustee_id\n1,2\n1,1\n1,2\n3,x\n")
    result = load_ciao(tmp_path)
    assert [(r.file, r.line) for r in result.rejected] == [
        ("ratings.csv.gz", 3),
        ("ratings.csv.gz", 4),
        ("ratings.csv.gz", 5),
        ("ratings.csv.gz", 6),
        ("trust.csv", 3),
        ("trust.csv", 4),
        ("trust.csv", 5),
    ]
    assert [r.reason for r in result.rejected][:2] == [
        "repeated rating of the pair on line 2: merged (mean)",
        "rating 0 outside 1-5",
    ]
    events = {(e.user, e.target): e.value for e in result.dataset.events}
    assert events == {("1", "5"): 3.0, ("2", "7"): 5.0}
    assert {p.id: p.categories for p in result.dataset.products} == {
        "5": ("Beauty",),
        "7": ("Ciao Café",),
    }
    assert [u.id for u in result.dataset.users] == ["1", "2"]
