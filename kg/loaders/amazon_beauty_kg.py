"""The Amazon Beauty knowledge graph of PGPR/CAFE (``pgpr/`` + ``cafe/``) as a dataset.

Ids: user *i* of the split files (``cafe/*_labels``) is line *i* of ``pgpr/users.txt.gz``
(a reviewerID, kept as is); product *i* is line *i* of ``pgpr/product.txt.gz`` (an ASIN).
The same mapping serves the train events and the held-out file, so they always agree.

- products: one per ASIN. The data has no titles, so ``title`` is the ASIN and
  ``attributes["title_fallback"] = "asin"`` says so. ``brand`` is the brand name.
  ``categories``: the published data keeps each product's categories as an unordered
  set, so they are ordered by how many products carry them (most first, ties by first
  appearance), which gives the Amazon general→specific path (Beauty > Makeup > Eyes >
  Mascara) for nearly all products;
- users: one per reviewerID (no profile data exists);
- events: a ``purchase`` event (no timestamp) per pair of the published **train** split;
- ``heldout["test_purchases.jsonl"]``: the published test split, ``{"user", "product"}``;
- relations: ``also_bought``, ``also_viewed``, ``bought_together`` as ``product:X`` →
  ``product:Y``. Most targets are PGPR "related products": ASINs with no product record
  (no brand, no purchases). A graph builder may walk through them but should recommend
  only catalogue products.

Not loaded: review words (``mentions``/``described_by``), whose source file is absent.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from kg.loaders.common import (
    MAX_DIGITS,
    LoadResult,
    Rejection,
    RelationEdges,
    is_digits,
    read_lines,
)
from kg.records import TITLE_FALLBACK, Dataset, Event, Product, User

_INDEX_LIST = re.compile(rf"(?: *[0-9]{{1,{MAX_DIGITS}}}(?![0-9]))* *").fullmatch
RELATIONS = ("also_bought", "also_viewed", "bought_together")
TEST_PURCHASES = "test_purchases.jsonl"


def load_amazon_beauty_kg(src: str | Path) -> LoadResult:
    """Load the Amazon Beauty KG folder ``src`` (holding ``pgpr/`` and ``cafe/``).

    >>> result = load_amazon_beauty_kg("../shared/data/amazon_beauty_kg")  # doctest: +SKIP
    >>> len(result.heldout["test_purchases.jsonl"])  # doctest: +SKIP
    48658
    """
    folder = Path(src)
    pgpr, cafe = folder / "pgpr", folder / "cafe"
    result = LoadResult(dataset=Dataset())
    asins = _read_ids(pgpr / "product.txt.gz", result)
    user_ids = _read_ids(pgpr / "users.txt.gz", result)
    brands = _read_ids(pgpr / "brand.txt.gz", result, allow_empty=True)
    category_names = _read_ids(pgpr / "category.txt.gz", result)
    related = _read_ids(pgpr / "related_product.txt.gz", result)

    product_brand = _read_index_lists(pgpr / "brand_p_b.txt.gz", len(asins), len(brands), result)
    product_cats = _read_index_lists(
        pgpr / "category_p_c.txt.gz", len(asins), len(category_names), result
    )
    for number, indices in enumerate(product_brand, 1):
        if indices and not brands[indices[0]]:
            result.rejected.append(
                Rejection(
                    "brand_p_b.txt.gz",
                    number,
                    f"brand {indices[0]} has an empty name in brand.txt.gz; product kept, no brand",
                )
            )
    result.dataset.products = _products(asins, brands, product_brand, category_names, product_cats)
    result.dataset.users = [User(id=u) for u in user_ids]

    sources = [f"product:{a}" for a in asins]
    targets = [f"product:{r}" for r in related]
    for relation in RELATIONS:
        lists = _read_index_lists(pgpr / f"{relation}_p_p.txt.gz", len(asins), len(related), result)
        edges = RelationEdges(relation)
        for p, indices in enumerate(lists):
            edges.src.extend([sources[p]] * len(indices))
            edges.dst.extend([targets[r] for r in indices])
        result.relations.append(edges)

    train = _read_labels(cafe / "train_labels.txt.gz", user_ids, asins, result)
    result.dataset.events = [
        Event(user=user, target=product, target_type="product", kind="purchase")
        for user, product in train
    ]
    test = _read_labels(cafe / "test_labels.txt.gz", user_ids, asins, result)
    result.heldout[TEST_PURCHASES] = [{"user": u, "product": p} for u, p in test]
    return result


def _read_ids(path: Path, result: LoadResult, *, allow_empty: bool = False) -> list[str]:
    """One id or name per line; line *i* is entity *i* (an empty name stays in place)."""
    lines = read_lines(path)
    result.rows_read[path.name] = len(lines)
    ids = [line.strip() for line in lines]
    if not allow_empty:
        for number, value in enumerate(ids, 1):
            if not value:
                raise ValueError(f"{path}:{number}: empty id would shift every later id")
    return ids


def _read_index_lists(
    path: Path, n_rows: int, n_targets: int, result: LoadResult
) -> list[list[int]]:
    """Line *i*: space-separated indices (into a list of ``n_targets``) for product *i*."""
    lines = read_lines(path)
    result.rows_read[path.name] = len(lines)
    if len(lines) != n_rows:
        raise ValueError(f"{path}: {len(lines)} lines, expected one per product ({n_rows})")
    lists: list[list[int]] = []
    for number, line in enumerate(lines, 1):
        indices = [int(t) for t in line.split()] if _INDEX_LIST(line) else None
        if indices is not None and (not indices or max(indices) < n_targets):
            lists.append(indices)
        else:
            result.rejected.append(
                Rejection(path.name, number, f"expected indices below {n_targets}")
            )
            lists.append([])
    return lists


def _products(
    asins: list[str],
    brands: list[str],
    product_brand: list[list[int]],
    category_names: list[str],
    product_cats: list[list[int]],
) -> list[Product]:
    frequency = Counter(c for cats in product_cats for c in cats)
    products = []
    for index, asin in enumerate(asins):
        brand = brands[product_brand[index][0]] if product_brand[index] else ""
        cats = sorted(set(product_cats[index]), key=lambda c: (-frequency[c], c))
        products.append(
            Product(
                id=asin,
                title=asin,
                brand=brand or None,
                categories=tuple(category_names[c] for c in cats),
                attributes={TITLE_FALLBACK: "asin"},
            )
        )
    return products


def _read_labels(
    path: Path, user_ids: list[str], asins: list[str], result: LoadResult
) -> list[tuple[str, str]]:
    """``user_index \\t product_index …`` lines as (reviewerID, ASIN) pairs."""
    lines = read_lines(path)
    result.rows_read[path.name] = len(lines)
    pairs: list[tuple[str, str]] = []
    for number, line in enumerate(lines, 1):
        tokens = line.split("\t")
        if not all(is_digits(t) for t in tokens) or int(tokens[0]) >= len(user_ids):
            result.rejected.append(
                Rejection(path.name, number, "expected 'user_index<TAB>product_index…'")
            )
            continue
        products = [int(t) for t in tokens[1:]]
        if any(p >= len(asins) for p in products):
            result.rejected.append(
                Rejection(path.name, number, f"product index beyond the {len(asins)} products")
            )
            continue
        user = user_ids[int(tokens[0])]
        pairs.extend((user, asins[p]) for p in products)
    return pairs
