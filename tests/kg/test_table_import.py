"""``shopgraph import table`` and ``Dataset.from_pandas``: shop exports become validated
records; every bad row is listed with its file, line and reason."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from kg.loaders.table import load_tables
from kg.loaders.table_mapping import build_mapping, parse_map_option
from kg.reader import read_dataset
from kg.records import Dataset
from scripts.cli import main

DATA = Path(__file__).resolve().parents[1] / "data"
ORDERS = DATA / "shop_orders.csv"
SHOPIFY_MAP = [
    "products.id=Lineitem sku", "products.title=Lineitem name",
    "products.price=Lineitem price", "products.brand=Vendor",
    "events.user=Email", "events.target=Lineitem sku", "events.ts=Created at",
]
HAS_PYARROW = importlib.util.find_spec("pyarrow") is not None


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _args(options: list[str]) -> list[str]:
    return [a for m in options for a in ("--map", m)]


def test_orders_export_becomes_products_users_and_timed_purchases(tmp_path, capsys) -> None:
    out = tmp_path / "shop"
    assert main(["import", "table", str(ORDERS), "--out", str(out), *_args(SHOPIFY_MAP)]) == 0
    assert "rows read shop_orders.csv 8" in capsys.readouterr().out
    products = {p["id"]: p for p in _jsonl(out / "products.jsonl")}
    assert products["LAMP-OAK"] == {"id": "LAMP-OAK", "title": "Oak desk lamp", "brand": "Lumo",
                                    "price": 49.0}
    assert products["MUG-SPK"]["title"] == "Ceramic mug,\nspeckled"  # a quoted line break
    assert [u["id"] for u in _jsonl(out / "users.jsonl")] == [
        "ada@example.com", "bo@example.com", "cy@example.com", "dee@example.com"]
    events = _jsonl(out / "events.jsonl")
    assert len(events) == 5 and {e["kind"] for e in events} == {"purchase"}
    assert events[0] == {"user": "ada@example.com", "target": "product:LAMP-OAK",
                         "kind": "purchase", "ts": 1709280902.0}  # 09:15:02 +01:00
    rejected = [(r["line"], r["reason"]) for r in _jsonl(out / "import_rejected.jsonl")]
    assert rejected == [
        (7, 'product: missing required field "id"'),  # the physical line after a 2-line row
        (7, 'event: missing required field "target"'),
        (8, 'event: "ts": expected unix seconds or an ISO 8601 date, got string "yesterday"'),
        (9, 'product: "price": expected a number, got string "abc"'),
        (9, 'event: unknown product "MUG-SPK2" (events.target)'),
        (10, 'product: conflicting duplicate of shop_orders.csv line 2 (id "LAMP-OAK")'),
    ]
    assert read_dataset(out, progress=False).rejections == []


def test_a_toml_mapping_file_and_a_json_one_give_the_same_dataset(tmp_path) -> None:
    toml = load_tables(build_mapping([], DATA / "shop_orders_mapping.toml"), ORDERS)
    spec = {"products": {"file": str(ORDERS), "id": "Lineitem sku", "title": "Lineitem name",
                         "price": "Lineitem price", "brand": "Vendor"},
            "events": {"user": "Email", "target": "Lineitem sku", "ts": "Created at"}}
    (tmp_path / "map.json").write_text(json.dumps(spec))
    from_json = load_tables(build_mapping([], tmp_path / "map.json", {"events": ORDERS}))
    assert toml.dataset == from_json.dataset and len(toml.dataset.events) == 5
    assert toml.rejected == from_json.rejected


def test_separate_catalogue_customers_and_orders_tables(tmp_path) -> None:
    (tmp_path / "products.csv").write_text(
        "Handle,Title,Type,Colour,Price\n"
        "lamp,Oak lamp,Home > Lighting,brown,49\n"
        "mug,Mug,Kitchen,,\n")
    (tmp_path / "customers.csv").write_text("Customer ID,Age\n7,31\n8,\n9,old\n")
    (tmp_path / "orders.csv").write_text(
        "Customer,Product,When,Stars\n7,lamp,1709280902,4\n8,mug,,5\n10,mug,,\n")
    out = tmp_path / "ds"
    assert main(["import", "table", "--out", str(out),
                 "--catalogue", str(tmp_path / "products.csv"),
                 "--customers", str(tmp_path / "customers.csv"),
                 "--orders", str(tmp_path / "orders.csv"),
                 *_args(["products.id=Handle", "products.title=Title", "products.price=Price",
                         "products.categories=Type", "products.attributes.colour=Colour",
                         "users.id=Customer ID", "users.age=Age", "events.user=Customer",
                         "events.target=Product", "events.ts=When", "events.value=Stars"])]) == 0
    read = read_dataset(out, progress=False)
    lamp, mug = read.dataset.products
    assert lamp.categories == ("Home", "Lighting") and lamp.attributes == {"colour": "brown"}
    assert mug.price is None and mug.attributes == {}
    assert [(u.id, u.age) for u in read.dataset.users] == [("7", 31), ("8", None)]
    assert [(e.user, e.ts, e.value) for e in read.dataset.events] == [
        ("7", 1709280902.0, 4.0), ("8", None, 5.0)]
    assert [(r["file"], r["line"], r["reason"]) for r in _jsonl(out / "import_rejected.jsonl")] \
        == [("customers.csv", 4, 'user: "age": expected an integer, got string "old"'),
            ("orders.csv", 4, 'event: unknown user "10" (events.user)')]


@pytest.mark.parametrize(("argv", "message"), [
    (["--map", "products.id"], "expected KIND.FIELD=COLUMN"),
    (["--map", "orders.id=X"], "unknown record kind 'orders'"),
    (["--map", "products.colour=X"], "products has no field 'colour'"),
    (["--map", "products.id=Lineitem sku"], "no column for title"),
    (["--map", "products.id=SKU", "--map", "products.title=Lineitem name"],
     "no column 'SKU' (mapped for products)"),
])
def test_bad_mappings_fail_before_anything_is_written(tmp_path, capsys, argv, message) -> None:
    out = tmp_path / "ds"
    assert main(["import", "table", str(ORDERS), "--out", str(out), *argv]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_undecodable_row_is_listed_and_the_rest_imported(tmp_path) -> None:
    (tmp_path / "p.csv").write_bytes(b"id,title\n1,Mug\n2,Caf\xe9\n3,Lamp\n")
    result = load_tables(build_mapping(["products.id=id", "products.title=title"]),
                         tmp_path / "p.csv")
    assert [p.id for p in result.dataset.products] == ["1", "3"]
    assert [(r.line, r.reason) for r in result.rejected] == [(3, "not UTF-8 text")]


def test_a_cell_may_be_as_long_as_a_dataset_line(tmp_path) -> None:
    """The csv module's 128 Ki-character cell limit failed a whole import on one long
    description; a cell is now refused only past a dataset file's line limit (1 MiB)."""
    spec = build_mapping(["products.id=id", "products.title=title",
                          "products.description=text"])
    long_text = "lorem ipsum " * 20_000  # 240,000 characters
    (tmp_path / "p.csv").write_text(f"id,title,text\n1,Mug,{long_text}\n2,Lamp,\n")
    result = load_tables(spec, tmp_path / "p.csv")
    assert [(p.id, len(p.description or "")) for p in result.dataset.products] == [
        ("1", len(long_text)), ("2", 0)]
    (tmp_path / "q.csv").write_text(f"id,title,text\n1,Mug,ok\n2,Lamp,{'x' * (1 << 21)}\n")
    with pytest.raises(ValueError, match=r"q\.csv line 3: unreadable CSV"):
        load_tables(spec, tmp_path / "q.csv")


def test_parse_map_option_keeps_spaces_inside_column_names() -> None:
    assert parse_map_option("events.ts = Created at ") == ("events", "ts", "Created at")


@pytest.mark.skipif(not HAS_PYARROW,
                    reason="Parquet needs pyarrow: pip install 'shopgraph[tables]'")
def test_parquet_orders_read_like_the_csv(tmp_path) -> None:
    import pandas as pd

    frame = pd.read_csv(ORDERS, dtype=str, keep_default_na=False)
    frame.to_parquet(tmp_path / "orders.parquet")
    specs = build_mapping(SHOPIFY_MAP)
    from_csv = load_tables(specs, ORDERS)
    from_parquet = load_tables(specs, tmp_path / "orders.parquet")
    assert from_parquet.dataset == from_csv.dataset
    assert [r.reason.replace("orders.parquet line 1", "shop_orders.csv line 2")
            for r in from_parquet.rejected] == [r.reason for r in from_csv.rejected]
    assert [r.line for r in from_parquet.rejected] == [5, 5, 6, 7, 7, 8]  # row numbers


def test_from_pandas_validates_like_files_and_quarantines_on_request() -> None:
    pd = pytest.importorskip("pandas")
    products = pd.DataFrame({"id": ["p1", "p2", "p3"], "title": ["Mug", "Lamp", None],
                             "price": [3.5, float("nan"), 2.0], "note": ["x", "y", "z"],
                             "categories": [["Home", "Kitchen"], None, None]})
    users = pd.DataFrame({"id": ["u1", "u2"], "age": [30, None]})  # age becomes float
    events = pd.DataFrame({"user": ["u1", "u2", "u9"], "target": ["p1", "p2", "p1"],
                           "kind": "purchase",
                           "ts": pd.to_datetime(["2024-01-01", "2024-01-02", None])})
    rejected: list = []
    ds = Dataset.from_pandas(products=products, users=users, events=events, rejected=rejected)
    assert [(p.id, p.price, p.categories) for p in ds.products] == [
        ("p1", 3.5, ("Home", "Kitchen")), ("p2", None, ())]
    assert [(u.id, u.age) for u in ds.users] == [("u1", 30), ("u2", None)]
    assert [(e.user, e.target, e.target_type, e.ts) for e in ds.events] == [
        ("u1", "p1", "product", 1704067200.0), ("u2", "p2", "product", 1704153600.0)]
    assert [(r.file, r.line, r.reason) for r in rejected] == [
        ("products", 3, 'missing required field "title"'),
        ("events", 3, 'unknown user "u9" (events.user)')]
    with pytest.raises(ValueError, match=r"1 row\(s\) rejected \(products row 3: missing"):
        Dataset.from_pandas(products=products)


def test_integer_id_columns_with_a_gap_keep_their_ids() -> None:
    """pandas makes an integer column with a missing cell float64: ids 1.0, 2.0 are the ids
    1 and 2 (they were all refused as "got number 1.0"); a gap is a missing id, and a float
    past 2**53 (where floats skip integers) or with a fraction stays refused."""
    pd = pytest.importorskip("pandas")
    products = pd.DataFrame({"id": [1, 2, None, 2.5, 2.0**60], "title": list("abcde")})
    users = pd.DataFrame({"id": [7, None]})
    events = pd.DataFrame({"user": [7.0, 7.0], "target": [2.0, None], "kind": "view"})
    rejected: list = []
    ds = Dataset.from_pandas(products=products, users=users, events=events, rejected=rejected)
    assert [p.id for p in ds.products] == ["1", "2"] and [u.id for u in ds.users] == ["7"]
    assert [(e.user, e.target) for e in ds.events] == [("7", "2")]
    assert [r.reason for r in rejected] == [
        'missing required field "id"', '"id": expected a string or integer id, got number 2.5',
        '"id": expected a string or integer id, got number 1.152921504606847e+18',
        'missing required field "id"', 'missing required field "target"']


def test_a_mapped_column_named_twice_in_the_header_is_an_error(tmp_path) -> None:
    """Two columns of one name: a row kept the last one's cell, unsaid."""
    (tmp_path / "o.csv").write_text("Email,Email,sku,name\na@x,b@x,L1,Lamp\n")
    spec = build_mapping(["products.id=sku", "products.title=name", "events.user=Email",
                          "events.target=sku"])
    with pytest.raises(ValueError, match=r"o\.csv: the header names column 'Email' twice"):
        load_tables(spec, tmp_path / "o.csv")
    only_products = build_mapping(["products.id=sku", "products.title=name"])
    assert [p.id for p in load_tables(only_products, tmp_path / "o.csv").dataset.products] == [
        "L1"]  # an unmapped repeated column is no matter
