from __future__ import annotations

from kg.records import Product
from nlp.concepts import product_concepts


def test_attributes_and_noun_chunks_become_about_edges(spacy_nlp):
    products = [
        Product("1", "Trail Jacket", description="A waterproof jacket with a breathable mesh "
                "lining.", attributes={"colour": "Red", "material": "nylon", "size": "M"}),
        Product("2", "Silk Scarf", description="A soft silk scarf in a floral print."),
    ]
    result = product_concepts(products, nlp=spacy_nlp)
    edges = {(e.product, e.concept): e for e in result.edges}
    assert edges[("product:1", "concept:red")].weight == 1.0
    assert edges[("product:1", "concept:red")].source == "attribute"
    assert ("product:1", "concept:m") not in edges  # size is not a concept attribute
    for concept in ("waterproof", "breathable", "mesh-lining"):
        assert edges[("product:1", f"concept:{concept}")].source == "noun_chunk"
    assert ("product:2", "concept:silk-scarf") in edges
    assert ("product:2", "concept:floral") in edges
    assert result.names["concept:mesh-lining"] == "mesh lining"
    assert all(0 < e.weight <= 1 for e in result.edges)


def test_concepts_common_to_most_products_are_dropped(spacy_nlp):
    products = [Product(str(i), f"Item {i}", description=f"A great product in {c} leather.")
                for i, c in enumerate(["red", "blue"] * 10)]
    concepts = {e.concept for e in product_concepts(products, nlp=spacy_nlp).edges}
    assert "concept:product" not in concepts
    assert "concept:leather" not in concepts
    assert len(products) == 20


def test_blank_pipeline_gives_attribute_concepts_only():
    import spacy

    products = [Product("1", "Jacket", description="A waterproof jacket",
                        attributes={"style": "casual|outdoor"})]
    result = product_concepts(products, nlp=spacy.blank("en"))
    assert sorted(e.concept for e in result.edges) == ["concept:casual", "concept:outdoor"]


def test_opinion_words_are_praise_not_properties(spacy_nlp):
    products = [Product("1", "Trail Jacket", description="A great waterproof jacket with a "
                        "perfect fit.", attributes={"style": "elegant"})]
    concepts = {e.concept for e in product_concepts(products, nlp=spacy_nlp).edges}
    assert "concept:waterproof" in concepts and "concept:fit" in concepts
    assert "concept:great" not in concepts and "concept:perfect" not in concepts
    assert "concept:elegant" in concepts  # an attribute value stays, opinion or not


def test_a_stand_in_title_is_not_parsed(spacy_nlp):
    stand_in = {"title_fallback": "id"}
    products = [Product("1", "Brown leather wallet", attributes=stand_in),
                Product("2", "Brown leather wallet", description="A slim canvas bag.",
                        attributes=stand_in),
                Product("3", "Brown leather wallet", description="A slim canvas bag.")]
    edges = {(e.product, e.concept) for e in product_concepts(products, nlp=spacy_nlp).edges}
    assert not any(p == "product:1" for p, _ in edges)  # nothing but its stand-in title
    assert ("product:2", "concept:canvas-bag") in edges
    assert not any("leather" in c for p, c in edges if p == "product:2")
    assert any("leather" in c for p, c in edges if p == "product:3")  # a real title is parsed


def test_a_catalogue_of_bare_title_case_titles_gets_concepts(spacy_nlp):
    """Title Case parses as proper nouns: bare titles used to give no concept at all."""
    titles = ["Quilltech Nano 12 Magnetic Fast Charger", "Voltara Mini 3 Wireless Fast Charger",
              "Potterly Brew 12 Coffee Beans", "Roastwell Dark 4 Coffee Beans"]
    products = [Product(str(i), t) for i, t in enumerate(titles)]
    edges = {(e.product, e.concept) for e in product_concepts(products, nlp=spacy_nlp).edges}
    by_concept = {c: {p for p, c2 in edges if c2 == c} for _, c in edges}
    shared = {c for c, ps in by_concept.items() if len(ps) >= 2}
    assert {"product:0", "product:1"} <= set().union(*(by_concept[c] for c in shared))
    assert {"product:2", "product:3"} <= set().union(*(by_concept[c] for c in shared))
