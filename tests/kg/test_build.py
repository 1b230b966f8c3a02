"""Records -> graph: node and edge types, weights, declared category attributes, demographic
segments, incremental add, relations.jsonl."""

from __future__ import annotations

import json

import pytest

from kg.build import build_graph
from kg.records import Dataset, Event, Follow, Post, Product, User
from kg.schema import EVENT_WEIGHTS


def world_part_one() -> Dataset:
    return Dataset(
        products=[
            Product("A", "Green tea", brand="Leafy Co", categories=("Food", "Drinks", "Tea"),
                    price=4.5, image="img/a.jpg", attributes={"organic": True}),
            Product("B", "Mug", brand="Potter", categories=("Home", "Kitchen")),
        ],
        users=[User("1", name="Ann"), User("2", age=30)],
        follows=[Follow("1", "2", ts=100.0)],
        posts=[Post("p1", "1", text="my tea", images=("img/p1.jpg",), ts=150.0, products=("A",))],
        events=[
            Event("1", "A", "product", "purchase", ts=200.0),
            Event("1", "A", "product", "view", ts=190.0),
            Event("2", "B", "product", "rate", value=4.0, ts=210.0),
            Event("2", "p1", "post", "like", ts=220.0),
        ],
    )


def world_part_two() -> Dataset:
    return Dataset(
        products=[Product("C", "Black tea", brand="Leafy Co",
                          categories=("Food", "Drinks", "Tea"))],
        users=[User("3", gender="F", attributes={"occupation": "writer"})],
        follows=[Follow("3", "1")],
        posts=[Post("p2", "3", text="mugs!", products=("B",))],
        events=[Event("3", "C", "product", "cart", ts=300.0), Event("1", "B", "product", "click")],
    )


def merged(a: Dataset, b: Dataset) -> Dataset:
    return Dataset(*(getattr(a, f) + getattr(b, f)
                     for f in ("products", "users", "follows", "posts", "events")))


def test_build_makes_the_node_and_edge_types_of_the_design():
    g = build_graph(world_part_one(), progress=False)
    s = g.summary()
    assert s.nodes == {"user": 2, "product": 2, "brand": 2, "category": 5, "post": 1, "image": 2,
                       "segment": 1}
    assert s.edges == {"authored": 1, "broader": 3, "follows": 1, "has_image": 2,
                       "in_category": 2, "liked": 1, "made_by": 2, "member_of": 1, "mentions": 1,
                       "purchased": 1, "rated": 1, "viewed": 1}
    assert g.has_edge("product:A", "made_by", "brand:leafy-co")
    assert g.has_edge("product:A", "in_category", "category:food/drinks/tea")
    assert g.has_edge("category:food/drinks/tea", "broader", "category:food/drinks")
    assert g.has_edge("category:food/drinks", "broader", "category:food")
    assert g.has_edge("post:p1", "mentions", "product:A")
    assert g.has_edge("post:p1", "has_image", "image:img/p1.jpg")
    assert g.has_edge("user:1", "authored", "post:p1")
    assert g.has_edge("user:2", "liked", "post:p1")
    assert g.node_attrs("product:A")["categories"] == ["Food", "Drinks", "Tea"]
    assert g.node_attrs("brand:leafy-co") == {"name": "Leafy Co"}
    assert g.node_attrs("post:p1")["text"] == "my tea"


def test_declared_attributes_put_a_product_in_further_categories():
    products = [
        Product("M", "Heat", categories=("movie", "Action"),
                attributes={"genres": "Action|Crime| Children's |", "decade": "1990s"}),
        Product("N", "Mug", categories=("Home",), attributes={"other_categories": "Gifts"}),
        Product("O", "Loose", attributes={"genres": "Jazz", "decade": True}),
    ]
    g = build_graph(Dataset(products=products), progress=False)
    cats = {p: sorted(e.dst for e in g.neighbors(p, "in_category")) for p in ("product:M",
            "product:N", "product:O")}
    assert cats == {  # the leaf once; names beside it, or under the declared path
        "product:M": ["category:decade/1990s", "category:movie/action",
                      "category:movie/children-s", "category:movie/crime"],
        "product:N": ["category:gifts", "category:home"],
        "product:O": ["category:jazz"],  # no leaf: top level; a boolean lists nothing
    }
    assert g.has_edge("category:decade/1990s", "broader", "category:decade")
    assert g.has_edge("category:movie/crime", "broader", "category:movie")
    assert g.node_attrs("category:movie/children-s") == {"name": "Children's",
                                                          "path": ["movie", "Children's"]}
    assert g.summary().edges["broader"] == 4


def test_category_names_a_slug_folds_together_are_distinct_nodes_named_right():
    # "a:b", "a/b" and "a-b" slug alike; one node named by the first made the others'
    # sentences name the wrong category. Case and ordinary punctuation still fold.
    products = [Product("1", "Red mug", categories=("Home", "a:b")),
                Product("2", "Tea pot", categories=("Home", "a/b")),
                Product("3", "Cup", categories=("home", "A-B")),
                Product("4", "Jug", categories=("Home", "a b")),
                Product("5", "Soap", categories=("Bath & Body",)),
                Product("6", "Sponge", categories=("bath body",))]
    g = build_graph(Dataset(products=products), progress=False)
    leaf = {p.id: g.neighbors(f"product:{p.id}", "in_category")[0].dst for p in products}
    assert len({leaf["1"], leaf["2"], leaf["3"]}) == 3
    assert leaf["3"] == leaf["4"] == "category:home/a-b"
    assert leaf["5"] == leaf["6"] == "category:bath-body"
    assert g.node_attrs(leaf["1"])["name"] == "a:b"
    assert g.node_attrs(leaf["2"])["name"] == "a/b"
    again = build_graph(Dataset(products=products[::-1]), progress=False)  # ids stable
    assert {p.id: again.neighbors(f"product:{p.id}", "in_category")[0].dst
            for p in products} == leaf


def test_a_brand_is_named_without_the_spaces_around_it() -> None:
    g = build_graph(Dataset(products=[Product("1", "Mug", brand="Acme "),
                                      Product("2", "Cup", brand="acme")]), progress=False)
    assert g.node_attrs("brand:acme") == {"name": "Acme"}  # one brand, named as first seen


def test_a_name_decomposed_or_composed_is_one_node() -> None:
    nfc, nfd = "Caf\u00e9 Cr\u00e8me", "Cafe\u0301 Cre\u0300me"  # the same text, in NFC and NFD
    g = build_graph(Dataset(products=[Product("1", "Mug", brand=nfc, categories=(nfc,)),
                                      Product("2", "Cup", brand=nfd, categories=(nfd,))]),
                    progress=False)
    assert g.nodes("category") == ["category:caf\u00e9-cr\u00e8me"]
    assert g.nodes("brand") == ["brand:caf\u00e9-cr\u00e8me"]


def test_demographics_make_segments():
    users = [User("1", age=34, gender="F", attributes={"occupation": "Writer"}),
             User("2", age=71, attributes={"occupation": ""}), User("3", name="Zed")]
    g = build_graph(Dataset(users=users), progress=False)
    assert sorted(e.dst for e in g.neighbors("user:1", "member_of")) == [
        "segment:age-30-39", "segment:gender-f", "segment:occupation-writer"]
    assert [e.dst for e in g.neighbors("user:2", "member_of")] == ["segment:age-60"]
    assert g.neighbors("user:3", "member_of") == []
    assert g.node_attrs("segment:occupation-writer") == {
        "name": "occupation: Writer", "facet": "occupation", "value": "Writer"}
    assert g.node_attrs("segment:age-60")["name"] == "age: 60+"
    g.add_records(Dataset(users=[User("1", age=35, gender="F")]))  # merged, not re-segmented
    assert g.node_attrs("user:1")["age"] == 35 and g.summary().edges["member_of"] == 4


def test_event_weights_come_from_kind_and_rating_value():
    g = build_graph(world_part_one(), progress=False)
    (purchase,) = g.neighbors("user:1", "purchased")
    assert purchase.weight == EVENT_WEIGHTS["purchase"] > EVENT_WEIGHTS["view"]
    assert purchase.ts == 200.0
    (rating,) = g.neighbors("user:2", "rated")
    assert rating.weight == EVENT_WEIGHTS["rate"] + 4.0  # the act of rating plus its stars
    assert g.matrix("viewed", "product")[g.index("user:1"), g.index("product:A")] == 1.0


@pytest.mark.parametrize("values", [(0.0, 0.0, 0.0), (-2.0, 0.0, -1e12), (0.0, 0.5, 1.0)])
def test_every_rating_is_an_interaction_and_a_higher_one_weighs_more(values):
    """A rating of 0 or below still says the user rated the product: its edge weighs the act
    (as much as a view), so the pair is seen, learned from and not recommended again; a
    higher value weighs more (a dataset of all-0 ratings once trained on nothing)."""
    from kg.interactions import log_strength, seen_matrix, training_matrix

    data = Dataset(products=[Product("A", "a"), Product("B", "b"), Product("C", "c")],
                   users=[User("1"), User("2")],
                   events=[Event("1", "A", "product", "rate", value=values[0]),
                           Event("1", "B", "product", "rate", value=values[1]),
                           Event("2", "C", "product", "rate", value=values[2])])
    g = build_graph(data, progress=False)
    weights = {e.dst: e.weight for u in ("user:1", "user:2") for e in g.neighbors(u, "rated")}
    assert min(weights.values()) >= EVENT_WEIGHTS["rate"] > 0
    order = sorted(range(3), key=lambda i: values[i])
    got = [weights[f"product:{'ABC'[i]}"] for i in order]
    assert got == sorted(got)
    assert seen_matrix(g).nnz == 3
    assert log_strength(training_matrix(g, ("rated",))).nnz == 3


def test_incremental_add_equals_a_full_build():
    one, two = world_part_one(), world_part_two()
    incremental = build_graph(one, progress=False)
    before = incremental.summary()
    incremental.add_records(two)
    full = build_graph(merged(one, two), progress=False)
    assert incremental == full
    assert incremental.summary() == full.summary() != before
    # a second catalogue record for a product merges attributes, no duplicate structure
    incremental.add_records(Dataset(products=[Product("A", "Green tea", price=5.0)]))
    assert incremental.node_attrs("product:A")["price"] == 5.0
    assert incremental.summary().edges == full.summary().edges


def test_relations_file_adds_edges_and_names_a_bad_line(tmp_path):
    path = tmp_path / "relations.jsonl"
    lines = [{"relation": "also_bought", "src": "product:A", "dst": "product:B"},
             {"relation": "also_viewed", "src": "product:B", "dst": "product:Z", "weight": 2}]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    g = build_graph(world_part_one(), relations_file=path, progress=False)
    assert g.has_edge("product:A", "also_bought", "product:B")
    assert g.neighbors("product:B", "also_viewed")[0].weight == 2.0
    # product:Z has no record: it is walkable but not a described catalogue product
    assert g.described("product").tolist() == [True, True, False]
    path.write_text(json.dumps(lines[0]) + "\n" + '{"relation": "also_bought", "src": "A"}\n')
    with pytest.raises(ValueError, match=r"relations.jsonl:2"):
        build_graph(world_part_one(), relations_file=path, progress=False)


def test_movielens_graph(shared_dataset):
    from kg.loaders.movielens import load_movielens

    dataset = load_movielens(shared_dataset("ml-100k")).dataset
    g = build_graph(dataset, progress=False)
    ratings = g.matrix("rated", "product")
    assert ratings.shape == (943, 1682)
    assert g.summary().edges["rated"] == 100_000 == ratings.nnz
    assert ratings.data.min() == 2.0 and ratings.data.max() == 6.0  # 1 + stars
    # every genre and the decade: 1,682 first-genre leaves + 1,211 further genres + 1,681
    # decades (one movie has no year); age band, gender and occupation of each user
    assert g.summary().edges["in_category"] == 1682 + 1211 + 1681
    assert g.summary().edges["member_of"] == 3 * 943
    assert sorted(e.dst for e in g.neighbors("product:1", "in_category")) == [
        "category:decade/1990s", "category:movie/animation", "category:movie/children-s",
        "category:movie/comedy"]
    assert sorted(e.dst for e in g.neighbors("user:1", "member_of")) == [
        "segment:age-20-29", "segment:gender-m", "segment:occupation-technician"]
