"""The demo world: sizes, determinism, exact gold mentions, valid references, learnable signal."""

from __future__ import annotations

import collections
import difflib
import json
import random
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kg.demo import DemoConfig, generate_demo_world
from kg.demo.vocabulary import COLOURS, COMPLEMENTS, slugify
from kg.jsonl import write_dataset
from kg.reader import read_dataset
from kg.schema import category_id

SMALL = DemoConfig(seed=3, n_users=60, n_products=80, n_posts=300, n_events=2_000)


def ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


def _rows(folder: Path, name: str) -> list[dict]:
    with open(folder / name, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "world"
    generate_demo_world(out, progress=False)
    return out


@pytest.fixture(scope="module")
def looks_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The looks world (no pictures: the records and the gold files are what is tested)."""
    out = tmp_path_factory.mktemp("demo") / "looks"
    generate_demo_world(out, DemoConfig(images=False, looks=True), progress=False)
    return out


def test_default_world_meets_the_minimum_sizes(world: Path) -> None:
    products = _rows(world, "products.jsonl")
    assert len(products) >= 300
    assert len({tuple(p["categories"]) for p in products}) >= 20
    assert all(2 <= len(p["categories"]) <= 3 for p in products)
    assert len({p["brand"] for p in products}) >= 30
    assert len(_rows(world, "users.jsonl")) >= 500
    assert len(_rows(world, "posts.jsonl")) >= 3000
    kinds = collections.Counter(e["kind"] for e in _rows(world, "events.jsonl"))
    assert set(kinds) == {"view", "click", "like", "comment", "share", "cart", "purchase", "rate"}
    assert kinds["view"] > kinds["click"] > kinds["cart"] > kinds["purchase"] > 0  # a funnel


def _colours(world: Path) -> dict[str, str]:
    return {r["product"]: r["colour"] for r in _rows(world, "gold_products.jsonl")}


def _named_share(world: Path) -> float:
    """The share of records naming their colour, after checking each record against the gold
    colours: a named colour is the true one, an unnamed one appears nowhere in the text."""
    colours, named = _colours(world), 0
    for p in _rows(world, "products.jsonl"):
        attributes = p["attributes"]
        if "colour" in attributes:  # named: the attribute and the description agree
            named += 1
            assert attributes["colour"] == colours[p["id"]] in p["description"]
        else:  # not named: neither the record's text nor the title says the colour
            text = " ".join([p["title"], p["description"], *map(str, attributes.values())])
            assert colours[p["id"]] not in text.lower().split(), p
    return named / len(colours)


def test_only_the_looks_world_leaves_colours_unnamed(world: Path, looks_world: Path) -> None:
    assert _named_share(world) == 1.0
    assert 0.35 < _named_share(looks_world) < 0.65  # some records name the colour, some do not
    assert all(p["look"] is None for p in _rows(world, "gold_profiles.jsonl"))


def test_products_read_like_a_catalogue(world: Path) -> None:
    for p in _rows(world, "products.jsonl"):
        assert p["title"].startswith(p["brand"] + " ")
        sentences = [s for s in p["description"].split(". ") if s]
        assert 3 <= len(sentences) <= 4
        attributes = p["attributes"]
        assert {"colour", "material", "use", "style"} <= set(attributes)
        assert attributes["colour"] in p["description"]
        assert p["price"] > 0
    # a premium brand's products cost more than a budget brand's in the same category
    by_tier: dict[tuple[str, str], list[float]] = collections.defaultdict(list)
    for p in _rows(world, "products.jsonl"):
        by_tier[(p["categories"][-1], p["attributes"]["tier"])].append(p["price"])
    pairs = [
        (np.median(by_tier[(c, "premium")]), np.median(by_tier[(c, "budget")]))
        for c, t in by_tier
        if t == "premium" and (c, "budget") in by_tier
    ]
    assert pairs and sum(hi > lo for hi, lo in pairs) >= 0.8 * len(pairs)


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    a = generate_demo_world(tmp_path / "a", SMALL, progress=False)
    b = generate_demo_world(tmp_path / "b", SMALL, progress=False)
    c = generate_demo_world(
        tmp_path / "c", DemoConfig(**{**SMALL.__dict__, "seed": 4}), progress=False
    )
    files = sorted(p.relative_to(a.out_dir) for p in a.out_dir.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b.out_dir) for p in b.out_dir.rglob("*") if p.is_file())
    assert a.counts["images"] > SMALL.n_products
    for name in files:
        assert (a.out_dir / name).read_bytes() == (b.out_dir / name).read_bytes(), name
    assert (a.out_dir / "posts.jsonl").read_bytes() != (c.out_dir / "posts.jsonl").read_bytes()
    assert a.counts["events.jsonl"] == SMALL.n_events


def test_gold_mentions_are_exact_spans_of_known_targets(world: Path) -> None:
    posts = {p["id"]: p["text"] for p in _rows(world, "posts.jsonl")}
    products = {p["id"]: p for p in _rows(world, "products.jsonl")}
    facts = json.loads((world / "gold_world.json").read_text())
    known = {
        "product": set(products),
        "brand": {slugify(p["brand"]) for p in products.values()},
        "category": {category_id(p["categories"])[9:] for p in products.values()},
        "concept": set(facts["concepts"]),
    }
    gold = _rows(world, "gold_mentions.jsonl")
    for g in gold:
        assert posts[g["post"]][g["start"] : g["end"]] == g["text"], g
        kind, _, ident = g["target"].partition(":")
        assert ident in known[kind], g
        assert g["sentiment"] in {"positive", "negative", "neutral"}
    kinds = collections.Counter(g["target"].split(":")[0] for g in gold)
    assert set(kinds) == set(known)
    assert {g["sentiment"] for g in gold} == {"positive", "negative", "neutral"}
    product_mentions = [g for g in gold if g["target"].startswith("product:")]
    full = sum(g["text"] == products[g["target"][8:]]["title"] for g in product_mentions)
    assert 0 < full < len(product_mentions)  # full titles and short forms
    brand_surfaces = {g["text"] for g in gold if g["target"].startswith("brand:")}
    assert any(s.startswith("#") for s in brand_surfaces)
    assert any(s.startswith("@") for s in brand_surfaces)
    assert any(s.islower() and s.isalpha() for s in brand_surfaces)  # case variations
    mentioned = {g["post"] for g in gold}
    assert len(mentioned) < len(posts)  # some posts mention nothing


def test_every_reference_resolves_and_files_exist(world: Path) -> None:
    users = {u["id"] for u in _rows(world, "users.jsonl")}
    products = {p["id"]: p for p in _rows(world, "products.jsonl")}
    posts = {p["id"]: p for p in _rows(world, "posts.jsonl")}
    for f in _rows(world, "follows.jsonl"):
        assert f["follower"] in users and f["followee"] in users
        assert f["follower"] != f["followee"]
    for p in posts.values():
        assert p["author"] in users
        assert all(t in products for t in p.get("products", []))
        assert all((world / i).is_file() for i in p.get("images", []))
    assert all((world / p["image"]).is_file() for p in products.values())
    for e in _rows(world, "events.jsonl"):
        kind, _, ident = e["target"].partition(":")
        assert e["user"] in users
        assert ident in (products if kind == "product" else posts)
        if kind == "post":
            assert e["ts"] >= posts[ident]["ts"]  # nobody reacts to a post before it exists
    profiles = _rows(world, "gold_profiles.jsonl")
    assert {p["user"] for p in profiles} == users
    assert len({p["segment"] for p in profiles}) == 5


def test_the_project_reader_accepts_every_record(world: Path, tmp_path: Path) -> None:
    result = read_dataset(world, progress=False)
    assert result.rejections == []
    for name, counts in result.counts.items():
        assert counts.accepted == counts.read == len(_rows(world, name)) > 0
    write_dataset(result.dataset, tmp_path)  # the fast writers match kg.jsonl byte for byte
    for name in result.counts:
        assert (tmp_path / name).read_bytes() == (world / name).read_bytes(), name


def test_images_show_the_product_colour(world: Path) -> None:
    products, colours = _rows(world, "products.jsonl"), _colours(world)
    shares = []
    for p in products:
        with Image.open(world / p["image"]) as image:
            assert image.size == (64, 64)
            pixels = np.asarray(image.convert("RGB"), dtype=np.float64)
        target = np.array(COLOURS[colours[p["id"]]], dtype=np.float64)
        shares.append((np.linalg.norm(pixels - target, axis=2) < 40).mean())
    assert np.median(shares) > 0.2
    red = next(p for p in products if colours[p["id"]] == "red")
    blue = next(p for p in products if colours[p["id"]] == "blue")
    with Image.open(world / red["image"]) as a, Image.open(world / blue["image"]) as b:
        mean_a = np.asarray(a.convert("RGB"), dtype=np.float64).mean(axis=(0, 1))
        mean_b = np.asarray(b.convert("RGB"), dtype=np.float64).mean(axis=(0, 1))
    assert mean_a[0] - mean_a[2] > mean_b[0] - mean_b[2] + 30


def test_influencers_have_heavy_tailed_followings(world: Path) -> None:
    influencers = set(json.loads((world / "gold_world.json").read_text())["influencers"])
    indegree = collections.Counter(f["followee"] for f in _rows(world, "follows.jsonl"))
    counts = np.array(sorted(indegree.values(), reverse=True))
    assert counts[0] >= 10 * np.median(counts)
    top = [u for u, _ in indegree.most_common(10)]
    assert sum(u in influencers for u in top) >= 7


def test_purchases_follow_tastes_friends_and_complements(world: Path) -> None:
    products = {p["id"]: p for p in _rows(world, "products.jsonl")}
    profiles = {p["user"]: p for p in _rows(world, "gold_profiles.jsonl")}
    follows = collections.defaultdict(set)
    for f in _rows(world, "follows.jsonl"):
        follows[f["follower"]].add(f["followee"])
    posted = collections.defaultdict(list)
    posts = {p["id"]: p for p in _rows(world, "posts.jsonl")}
    for g in _rows(world, "gold_mentions.jsonl"):
        if g["target"].startswith("product:"):
            posted[g["target"][8:]].append(posts[g["post"]])
    buys = [
        (e["user"], e["target"][8:], e["ts"])
        for e in _rows(world, "events.jsonl")
        if e["kind"] == "purchase"
    ]
    rnd = random.Random(0)
    shuffled = [(u, rnd.choice(list(products)), t) for u, _, t in buys]

    def leaf(pid: str) -> str:
        return slugify(products[pid]["categories"][-1])

    def taste(pairs: list) -> float:
        return np.mean([leaf(p) in profiles[u]["categories"] for u, p, t in pairs])

    def social(pairs: list) -> float:
        return np.mean(
            [any(q["author"] in follows[u] and q["ts"] < t for q in posted[p]) for u, p, t in pairs]
        )

    assert taste(buys) > 3 * taste(shuffled)
    assert social(buys) > 2 * social(shuffled)
    bought = collections.defaultdict(set)
    for u, p, _ in buys:
        bought[u].add(leaf(p))
    with_first = [b for b in bought.values() if "running-shoes" in b or "coffee-makers" in b]
    pairs = sum(
        COMPLEMENTS["running-shoes"] in b or COMPLEMENTS["coffee-makers"] in b for b in with_first
    )
    base = sum(
        COMPLEMENTS["running-shoes"] in b or COMPLEMENTS["coffee-makers"] in b
        for b in bought.values()
    )
    assert pairs / len(with_first) > 1.5 * base / len(bought)


def test_people_with_a_look_buy_in_it(looks_world: Path) -> None:
    world = looks_world
    colours = _colours(world)
    looks = json.loads((world / "gold_world.json").read_text())["looks"]
    profiles = {p["user"]: p for p in _rows(world, "gold_profiles.jsonl")}
    assert 0.5 < np.mean([p["look"] is not None for p in profiles.values()]) < 0.9
    assert {p["look"] for p in profiles.values()} - {None} == set(looks)
    products = {p["id"]: p for p in _rows(world, "products.jsonl")}
    by_leaf = collections.defaultdict(list)
    for p in products.values():
        by_leaf[p["categories"][-1]].append(p["id"])
    buys = [(profiles[e["user"]]["look"], e["target"][8:]) for e in _rows(world, "events.jsonl")
            if e["kind"] == "purchase" and profiles[e["user"]]["look"]]
    rnd = random.Random(0)
    chance = [(look, rnd.choice(by_leaf[products[p]["categories"][-1]])) for look, p in buys]

    def in_look(pairs: list) -> float:
        return np.mean([colours[p] in looks[look] for look, p in pairs])

    assert in_look(buys) > 1.4 * in_look(chance)  # not only the category: its colour too


def test_spam_posts_repeat_exactly_and_nearly(world: Path) -> None:
    spam = set(json.loads((world / "gold_world.json").read_text())["spam_posts"])
    texts = [p["text"] for p in _rows(world, "posts.jsonl") if p["id"] in spam]
    repeated = collections.Counter(texts)
    assert max(repeated.values()) >= 2
    distinct = list(repeated)
    near = [(a, b) for a in distinct for b in distinct if a < b and ratio(a, b) > 0.9]
    assert near  # the same message with a changed link or extra punctuation


def test_bad_config_and_foreign_folder_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="n_products"):
        DemoConfig(n_products=5)
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="refusing"):
        generate_demo_world(tmp_path, SMALL, progress=False)
    assert (tmp_path / "notes.txt").read_text() == "keep me"


@pytest.mark.parametrize(
    "config",
    [
        DemoConfig(seed=1, n_users=10, n_products=28, n_posts=1, n_events=1),
        DemoConfig(seed=2, n_users=51, n_products=29, n_posts=40, n_events=None, images=False),
    ],
)
def test_tiny_worlds_are_still_valid(config: DemoConfig, tmp_path: Path) -> None:
    summary = generate_demo_world(tmp_path / "w", config, progress=False)
    result = read_dataset(summary.out_dir, progress=False)
    assert result.rejections == []
    assert summary.counts["events.jsonl"] == (config.n_events or 25 * config.n_users)
    assert summary.counts["posts.jsonl"] == config.n_posts


def test_the_catalogue_lists_the_names_posts_use_and_plurals_are_brand_mentions(
    world: Path,
) -> None:
    products = _rows(world, "products.jsonl")
    facts = json.loads((world / "gold_world.json").read_text())
    handles = {b["slug"]: b["handle"] for b in facts["brands"]}
    for p in products:
        listed = p["attributes"]["brand_aliases"].split("|")
        assert handles[slugify(p["brand"])] in listed
    synonyms = {category_id(p["categories"]): p["attributes"]["category_aliases"].split("|")
                for p in products}
    assert "trainers" in synonyms["category:sports/running/running-shoes"]
    assert "coffee" not in synonyms["category:home/kitchen/coffee-beans"]  # beans or a machine?
    brands = {p["brand"] for p in products}
    plurals = [g for g in _rows(world, "gold_mentions.jsonl")
               if g["text"] not in brands and g["text"].rstrip("s").removesuffix("e") in brands]
    assert plurals and all(g["target"].startswith("brand:") for g in plurals)


def test_every_leaf_category_has_its_own_look(world: Path) -> None:
    products = _rows(world, "products.jsonl")

    def spectrum(p: dict) -> np.ndarray:  # the print's spacing and angle, whatever the colour
        with Image.open(world / p["image"]) as image:
            grey = np.asarray(image.convert("L"), dtype=np.float64)
        power = np.abs(np.fft.fft2(grey - grey.mean()))
        return (power / np.linalg.norm(power)).ravel()

    leaf = [p["categories"][-1] for p in products]
    features = np.stack([spectrum(p) for p in products])
    train = np.arange(len(products)) % 4 != 0
    names = sorted(set(leaf))
    centroids = np.stack([features[train & (np.array(leaf) == n)].mean(axis=0) for n in names])
    guess = [names[i] for i in (features[~train] @ centroids.T).argmax(axis=1)]
    truth = [x for x, t in zip(leaf, train, strict=True) if not t]
    assert len(names) == 28
    assert np.mean([g == t for g, t in zip(guess, truth, strict=True)]) > 0.8
