"""Amazon Reviews 2023 user histories (``training.jsonl``, ``validation.jsonl``,
``test.jsonl``) as a dataset.

Each source line is one user in one category: ``history`` (4 reviews, oldest first) and
``heldout`` (the user's next review), every review joined to its product's metadata.
All five reviews of a line are imported alike: holding one out is the evaluator's choice,
and the post ids below say which slot each review came from.

- users: one per ``user_id`` (a user may appear in several categories and files);
- products: one per ``parent_asin``: ``title`` = ``product.title`` (the ASIN, with
  ``attributes["title_fallback"] = "asin"``, when it is null), ``price`` when it is a finite
  number at least 0, ``categories`` = ``(main_category,)`` when not null (the line's
  ``category`` is the sampling bucket, not the product's), ``brand`` when not null (null
  in every line of the public files). A product's first review gives its metadata;
- posts: one per review, id ``<file stem>-<line>-<slot>`` with slot ``0``..``3`` for
  ``history[0]``..``history[3]`` and ``heldout`` for the held-out review (e.g.
  ``training-17-heldout``); ``text`` = ``review_excerpt`` with its ``<br />`` as line
  breaks and HTML entities decoded; ``ts``; ``products=(parent_asin,)``;
- events: one ``rate`` event per review (``value`` = ``rating``, ``ts``).

Timestamps: ``timestamp_ms`` is milliseconds; records get unix seconds (``/ 1000``).

A line that is not a JSON object with a ``user_id`` and a ``history`` list is rejected
whole. A review that cannot be used (not an object, no ``parent_asin``, rating outside
1-5, timestamp not integer milliseconds) is rejected alone, its reason starting with its
slot (``history[2]: …``). A review repeated word for word (same user, product, time,
rating and text) in the same or another file is kept once; each repeat is rejected
naming the file, line and slot it repeats.
"""

from __future__ import annotations

import html
import math
import re
from pathlib import Path
from typing import Any

from kg.loaders.common import (
    MAX_TS_SECONDS,
    LoadResult,
    Rejection,
    json_object,
    missing_text,
    read_lines,
)
from kg.records import TITLE_FALLBACK, Dataset, Event, Post, Product, User

#: The files of the dataset's folder, in the order they are read.
FILES = ("training.jsonl", "validation.jsonl", "test.jsonl")

_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)

ReviewKey = tuple[str, str, int, float, str]


def load_amazon2023(src: str | Path) -> LoadResult:
    """Load the dataset folder ``src`` (all of :data:`FILES`), or one of its files.

    >>> result = load_amazon2023("../shared/data/amazon2023_multicategory_user_histories")
    ... # doctest: +SKIP
    """
    path = Path(src)
    files = [path / name for name in FILES] if path.is_dir() else [path]
    result = LoadResult(dataset=Dataset())
    users: dict[str, User] = {}
    products: dict[str, Product] = {}
    first_seen: dict[ReviewKey, str] = {}
    for file in files:
        lines = read_lines(file)
        result.rows_read[file.name] = len(lines)
        for number, line in enumerate(lines, 1):
            _load_line(file, number, line, users, products, first_seen, result)
    result.dataset.users = list(users.values())
    result.dataset.products = list(products.values())
    return result


def _load_line(
    file: Path,
    number: int,
    line: str,
    users: dict[str, User],
    products: dict[str, Product],
    first_seen: dict[ReviewKey, str],
    result: LoadResult,
) -> None:
    record, reason = _parse_line(line)
    if record is None:
        result.rejected.append(Rejection(file.name, number, reason))
        return
    user = record["user_id"]
    slots = [(f"history[{i}]", str(i), raw) for i, raw in enumerate(record["history"])]
    slots.append(("heldout", "heldout", record.get("heldout")))
    stem = file.name.removesuffix(".jsonl")
    for slot, suffix, raw in slots:
        review, reason = _parse_review(raw)
        if review is None:
            result.rejected.append(Rejection(file.name, number, f"{slot}: {reason}"))
            continue
        asin, ts_ms, rating, text = review
        key = (user, asin, ts_ms, rating, text)
        if key in first_seen:
            result.rejected.append(
                Rejection(file.name, number, f"{slot}: exact duplicate of {first_seen[key]}")
            )
            continue
        first_seen[key] = f"{file.name} line {number} {slot}"
        users.setdefault(user, User(id=user))
        if asin not in products:
            products[asin] = _product(asin, raw.get("product") or {})
        ts = ts_ms / 1000
        result.dataset.posts.append(
            Post(id=f"{stem}-{number}-{suffix}", author=user, text=text, ts=ts, products=(asin,))
        )
        result.dataset.events.append(
            Event(user=user, target=asin, target_type="product", kind="rate", value=rating, ts=ts)
        )


def _parse_line(line: str) -> tuple[dict[str, Any] | None, str]:
    """The user record of one line, or None and the reason it cannot be used."""
    record, reason = json_object(line, "user_id")
    if record is None:
        return None, reason
    if not isinstance(record.get("history"), list):
        return None, f"'history' must be a list of reviews, got {record.get('history')!r}"
    return record, ""


def _parse_review(raw: Any) -> tuple[tuple[str, int, float, str] | None, str]:
    """``(asin, timestamp_ms, rating, text)`` of one review, or None and the reason."""
    if not isinstance(raw, dict):
        return None, f"not a review object, got {raw!r}"
    if reason := missing_text(raw, "parent_asin"):
        return None, reason
    asin = raw["parent_asin"]
    rating = raw.get("rating")
    if isinstance(rating, bool) or not isinstance(rating, int | float) or not 1 <= rating <= 5:
        return None, f"'rating' must be a rating 1-5, got {rating!r}"
    ts_ms = raw.get("timestamp_ms")
    if (isinstance(ts_ms, bool) or not isinstance(ts_ms, int)
            or not 0 <= ts_ms <= MAX_TS_SECONDS * 1000):
        return None, f"'timestamp_ms' must be integer milliseconds, got {ts_ms!r}"
    product = raw.get("product")
    if product is not None and not isinstance(product, dict):
        return None, f"'product' must be an object, got {product!r}"
    excerpt = raw.get("review_excerpt")
    if excerpt is not None and not isinstance(excerpt, str):
        return None, f"'review_excerpt' must be text, got {excerpt!r}"
    return (asin, ts_ms, float(rating), clean_text(excerpt or "")), ""


def clean_text(text: str) -> str:
    """Review text as plain text: ``<br />`` as line breaks, HTML entities decoded."""
    return html.unescape(_BREAK.sub("\n", text)).strip()


def _product(asin: str, meta: dict[str, Any]) -> Product:
    title, brand, price = meta.get("title"), meta.get("brand"), meta.get("price")
    category = meta.get("main_category")
    has_title = isinstance(title, str) and bool(title.strip())
    return Product(
        id=asin,
        title=title.strip() if has_title else asin,
        brand=brand.strip() if isinstance(brand, str) and brand.strip() else None,
        categories=(category.strip(),) if isinstance(category, str) and category.strip() else (),
        price=_price(price),
        attributes={} if has_title else {TITLE_FALLBACK: "asin"},
    )


def _price(price: Any) -> float | None:
    """A product's price: a finite number of at least 0, else None (an integer too large
    for a float, like an infinite one, has none)."""
    if isinstance(price, bool) or not isinstance(price, int | float):
        return None
    try:
        value = float(price)
    except OverflowError:
        return None
    return value if math.isfinite(value) and value >= 0 else None
