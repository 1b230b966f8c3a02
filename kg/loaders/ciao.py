"""Ciao (Tang et al.): ratings with product categories and a user trust network.

Reads the CSV conversions in the source folder (``ratings.csv.gz``, ``trust.csv``,
``categories.csv``), so scipy's ``.mat`` reader is not needed.

- users: every user who rates or trusts (ids kept as the dataset's integers, as strings);
- follows: one per trust edge, ``truster`` → ``trustee`` (no timestamps exist);
- products: one per product id. Ciao publishes no names, so ``title`` is
  ``"Ciao product <id>"`` (``attributes["title_fallback"] = "id"``); ``categories`` is the
  product's category (``("Beauty",)``); a product rated under several categories takes
  its first and lists the others in ``attributes["other_categories"]`` (``"|"``-joined);
- events: one ``rate`` event per (user, product), ``value`` = the rating. Ciao has no
  timestamps and no review text. A pair rated more than once gets the mean of its
  ratings; each later row is listed in ``rejected`` as merged into the first. Rating 0
  is not on Ciao's 1-5 scale, so those rows are rejected too.

The category name ``"Ciao Caf?"`` is the source's mangled ``"Ciao Café"`` and is repaired.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from kg.loaders.common import MAX_DIGITS, LoadResult, Rejection, is_digits, read_lines
from kg.records import TITLE_FALLBACK, Dataset, Event, Follow, Product, User

_REPAIRED_NAMES = {"Ciao Caf?": "Ciao Café"}
_RATINGS, _TRUST = "ratings.csv.gz", "trust.csv"


def load_ciao(src: str | Path, *, limit: int | None = None) -> LoadResult:
    """Load the Ciao folder ``src``; ``limit`` reads only the first rows of each file.

    >>> result = load_ciao("../shared/data/ciao_trust_ratings", limit=1000)  # doctest: +SKIP
    """
    folder = Path(src)
    result = LoadResult(dataset=Dataset())
    categories = _read_categories(folder / "categories.csv", result)
    lines, ratings = _int_table(folder / _RATINGS, 5, result, limit)
    user, product, category, rating = ratings[:, 0], ratings[:, 1], ratings[:, 2], ratings[:, 3]

    known = np.isin(category, np.array(sorted(categories), dtype=np.int64))
    _reject(result, _RATINGS, lines[~known], [f"unknown category {c}" for c in category[~known]])
    zero = known & ~((rating >= 1) & (rating <= 5))
    _reject(result, _RATINGS, lines[zero], [f"rating {r} outside 1-5" for r in rating[zero]])
    keep = known & ~zero
    lines, user, product, category, rating = (
        a[keep] for a in (lines, user, product, category, rating)
    )

    pair = (user << 32) | product
    _, first, inverse, count = np.unique(
        pair, return_index=True, return_inverse=True, return_counts=True
    )
    repeat = np.flatnonzero(first[inverse] != np.arange(len(pair)))
    _reject(
        result,
        _RATINGS,
        lines[repeat],
        [
            f"repeated rating of the pair on line {n}: merged (mean)"
            for n in lines[first[inverse[repeat]]]
        ],
    )
    mean = np.bincount(inverse, weights=rating) / count
    order = np.argsort(first)  # events in the order of each pair's first row
    dataset = result.dataset
    dataset.events = [
        Event(user=u, target=p, target_type="product", kind="rate", value=v)
        for u, p, v in zip(
            user[first[order]].astype(str).tolist(),
            product[first[order]].astype(str).tolist(),
            mean[order].tolist(),
            strict=True,
        )
    ]
    dataset.products = _products(product, category, categories)
    dataset.follows = _follows(folder / _TRUST, result, limit)
    user_ids = (
        set(user.tolist())
        | {int(f.follower) for f in dataset.follows}
        | {int(f.followee) for f in dataset.follows}
    )
    dataset.users = [User(id=str(u)) for u in sorted(user_ids)]
    result.rejected.sort(key=lambda r: (r.file, r.line))
    return result


def _products(product: np.ndarray, category: np.ndarray, names: dict[int, str]) -> list[Product]:
    """One product per id (ascending), its categories in the order they were first rated."""
    pairs, first = np.unique(np.stack([product, category], axis=1), axis=0, return_index=True)
    by_product: dict[int, list[tuple[int, int]]] = {}
    for (p, c), f in zip(pairs.tolist(), first.tolist(), strict=True):
        by_product.setdefault(p, []).append((f, c))
    products = []
    for p, cats in by_product.items():  # np.unique sorted the ids
        ordered = [names[c] for _, c in sorted(cats)]
        attributes: dict[str, str | int | float | bool] = {TITLE_FALLBACK: "id"}
        if len(ordered) > 1:
            attributes["other_categories"] = "|".join(ordered[1:])
        products.append(
            Product(
                id=str(p),
                title=f"Ciao product {p}",
                categories=(ordered[0],),
                attributes=attributes,
            )
        )
    return products


def _follows(path: Path, result: LoadResult, limit: int | None) -> list[Follow]:
    lines, edges = _int_table(path, 2, result, limit)
    self_loop = edges[:, 0] == edges[:, 1]
    _reject(result, path.name, lines[self_loop], ["self trust"] * int(self_loop.sum()))
    lines, edges = lines[~self_loop], edges[~self_loop]
    _, first = np.unique((edges[:, 0] << 32) | edges[:, 1], return_index=True)
    repeat = np.ones(len(edges), dtype=bool)
    repeat[first] = False
    _reject(result, path.name, lines[repeat], ["repeated trust edge"] * int(repeat.sum()))
    kept = edges[~repeat].astype(str).tolist()
    return [Follow(follower=a, followee=b) for a, b in kept]


def _read_categories(path: Path, result: LoadResult) -> dict[int, str]:
    lines = read_lines(path, encoding="latin-1")
    result.rows_read[path.name] = len(lines) - 1
    names: dict[int, str] = {}
    for number, line in enumerate(lines[1:], 2):
        category_id, _, name = line.partition(",")
        if not is_digits(category_id) or not name.strip():
            result.rejected.append(Rejection(path.name, number, "expected 'category_id,name'"))
            continue
        name = name.strip().strip('"')
        names[int(category_id)] = _REPAIRED_NAMES.get(name, name)
    return names


def _int_table(
    path: Path, width: int, result: LoadResult, limit: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """The line numbers and the ``(n, width)`` values of a CSV of non-negative integers
    after its header; malformed lines are rejected."""
    lines = read_lines(path)
    body = lines[1:] if limit is None else lines[1 : limit + 1]
    result.rows_read[path.name] = len(body)
    text = "\n".join(body)
    number = rf"[0-9]{{1,{MAX_DIGITS}}}"  # ASCII, and int64 holds it
    row = rf"{number}(?:,{number}){{{width - 1}}}"
    if re.fullmatch(rf"(?:{row}\n)*(?:{row})?", text):  # fast path: every line is good
        values = np.array(re.split(r"[,\n]", text) if text else [], dtype=np.int64)
        return np.arange(2, len(body) + 2), values.reshape(-1, width)
    valid = re.compile(row).fullmatch
    good = [n for n, line in enumerate(body, 2) if valid(line)]
    bad = sorted(set(range(2, len(body) + 2)) - set(good))
    _reject(
        result,
        path.name,
        np.array(bad, dtype=np.int64),
        [f"expected {width} comma-separated integers of at most {MAX_DIGITS} digits"]
        * len(bad),
    )
    values = np.array([int(v) for n in good for v in body[n - 2].split(",")], dtype=np.int64)
    return np.array(good, dtype=np.int64), values.reshape(-1, width)


def _reject(result: LoadResult, file: str, lines: np.ndarray, reasons: list[str]) -> None:
    result.rejected.extend(
        Rejection(file, n, r) for n, r in zip(lines.tolist(), reasons, strict=True)
    )
