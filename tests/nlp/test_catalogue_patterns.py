from __future__ import annotations

from kg.records import Product
from nlp.catalogue_patterns import brand_typos, catalogue_names, short_forms


def _texts(names, target):
    return {n.text for n in names.names if n.target == target}


def test_model_names_are_cut_before_descriptors_and_after_numbers():
    texts = [n.text for n in short_forms(
        "Strydon Pace 2 Max-Cushion Running Shoe", "Strydon", ["Running Shoes", "max-cushion"])]
    assert "Pace 2" in texts and "Pace 2 Max-Cushion Running Shoe" in texts
    assert [n.text for n in short_forms("Nike's Pegasus Trail", "Nike", [])] == ["Pegasus Trail"]
    one = short_forms("Mirelle Dew Serum", "Mirelle", ["Serums"])
    assert [(n.text, n.case_sensitive) for n in one] == [("Dew Serum", False), ("Dew", True)]


def test_catalogue_names_cover_products_brands_leaf_categories_and_flags():
    products = [Product("1", "Korvex Stride 9 Running Shoe", brand="Korvex Inc.",
                        categories=("Sports", "Running Shoes"),
                        attributes={"colour": "red", "waterproof": True, "style": "classic"})]
    names = catalogue_names(products)
    assert {"Korvex Inc.", "Korvex", "KorvexInc"} <= _texts(names, "brand:korvex-inc")
    assert _texts(names, "category:sports/running-shoes") == {"Running Shoes", "RunningShoes"}
    assert _texts(names, "category:sports") == set()
    assert _texts(names, "concept:waterproof") == {"waterproof"}
    assert _texts(names, "concept:red") == set()
    assert "Stride 9" in _texts(names, "product:1")
    wide = catalogue_names(products, categories="all", attribute_concepts=True)
    assert _texts(wide, "category:sports") == {"Sports"}
    assert _texts(wide, "concept:red") == {"red"}


def test_a_name_goes_to_the_strongest_claim_and_ties_are_ambiguous():
    products = [Product("1", "Nova", brand="Lumi"), Product("2", "Lumi Glow Cream", brand="Nova")]
    names = catalogue_names(products)
    assert {n.target for n in names.names if n.text == "Nova"} == {"product:1"}  # title > brand
    assert names.ambiguous == {}
    twins = catalogue_names([*products, Product("5", "Nova", brand="C")])
    assert twins.ambiguous["nova"] == ("product:1", "product:5")


def test_brand_typos_only_for_long_single_words():
    assert brand_typos("Apple") == []
    assert brand_typos("Pace Line") == []
    assert "Tidwell" in brand_typos("Tidewell") and "Tidewell" not in brand_typos("Tidewell")


def test_catalogue_attributes_list_brand_and_category_aliases():
    products = [Product("1", "Korvex Stride 9 Trainer", brand="Korvex",
                        categories=("Sports", "Running Shoes"),
                        attributes={"brand_aliases": "KVX|Korv|@korvexrun",
                                    "category_aliases": "trainers|running shoe"})]
    names = catalogue_names(products)
    brand = {n.text: n.case_sensitive for n in names.names if n.target == "brand:korvex"}
    assert brand["KVX"] and brand["Korv"] and not brand["@korvexrun"]  # proper names as written
    assert {"trainers", "running shoe"} <= _texts(names, "category:sports/running-shoes")
    assert "Stride 9" in _texts(names, "product:1")
    shorts = [n.text for n in short_forms("Oakhart Nova X Tote Bag", "Oakhart", ["tote", "bag"])]
    assert "Nova X" in shorts  # cut before a word of the category's aliases
