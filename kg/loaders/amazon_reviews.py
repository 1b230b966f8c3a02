"""Amazon Review Data (2018) files (``*_5.json.gz``, one review per line) as a dataset.

- users: one per ``reviewerID``, ``name`` = its first ``reviewerName``;
- products: one per ``asin``. The review files carry no product metadata, so ``title`` is
  the ASIN (``attributes["title_fallback"] = "asin"``) and ``categories`` is the category
  of the file (``All_Beauty_5.json.gz`` → ``("All Beauty",)``);
- posts: one per review, id ``<file stem>-<line>`` (e.g. ``All_Beauty_5-17``), ``text`` =
  summary and review text (blank line between), ``ts`` = ``unixReviewTime``,
  ``products=(asin,)``. Customer-photo URLs are not fetched, so posts have no images;
- events: one ``rate`` event per review (``value`` = ``overall``, ``ts``).

A review repeated word for word (same reviewer, product, time, rating and text, which
the 2018 files hold for merged product listings) is kept once; each repeat goes to
``rejected`` naming the line it repeats.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kg.loaders.common import MAX_TS_SECONDS, LoadResult, Rejection, json_object, read_lines
from kg.records import TITLE_FALLBACK, Dataset, Event, Post, Product, User


def load_amazon_reviews(src: str | Path) -> LoadResult:
    """Load one review file, or every ``*.json``/``*.json.gz`` file of the folder ``src``.

    >>> result = load_amazon_reviews("../shared/data/amazon2018_5core_beauty_fashion")
    ... # doctest: +SKIP
    """
    path = Path(src)
    files = sorted([*path.glob("*.json.gz"), *path.glob("*.json")]) if path.is_dir() else [path]
    if not files:
        raise FileNotFoundError(f"{path}: no *.json or *.json.gz review files")
    result = LoadResult(dataset=Dataset())
    users: dict[str, User] = {}
    products: dict[str, Product] = {}
    for file in files:
        _load_file(file, users, products, result)
    result.dataset.users = list(users.values())
    result.dataset.products = list(products.values())
    return result


def category_of(file: Path) -> str:
    """The file's category: ``All_Beauty_5.json.gz`` → ``"All Beauty"``."""
    stem = file.name.removesuffix(".gz").removesuffix(".json").removesuffix("_5")
    return stem.replace("_", " ").title()


def _load_file(
    file: Path, users: dict[str, User], products: dict[str, Product], result: LoadResult
) -> None:
    lines = read_lines(file)
    result.rows_read[file.name] = len(lines)
    stem = file.name.removesuffix(".gz").removesuffix(".json")
    category = category_of(file)
    first_line: dict[tuple[Any, ...], int] = {}
    for number, line in enumerate(lines, 1):
        review, reason = _parse(line)
        if review is None:
            result.rejected.append(Rejection(file.name, number, reason))
            continue
        user, asin, text = review["reviewerID"], review["asin"], _text(review)
        key = (user, asin, review["unixReviewTime"], review["overall"], text)
        if key in first_line:
            result.rejected.append(
                Rejection(file.name, number, f"exact duplicate of line {first_line[key]}")
            )
            continue
        first_line[key] = number
        ts = float(review["unixReviewTime"])
        if user not in users:
            users[user] = User(id=user, name=(review.get("reviewerName") or "").strip() or None)
        if asin not in products:
            products[asin] = Product(
                id=asin, title=asin, categories=(category,), attributes={TITLE_FALLBACK: "asin"}
            )
        result.dataset.posts.append(
            Post(id=f"{stem}-{number}", author=user, text=text, ts=ts, products=(asin,))
        )
        result.dataset.events.append(
            Event(
                user=user,
                target=asin,
                target_type="product",
                kind="rate",
                value=float(review["overall"]),
                ts=ts,
            )
        )


def _parse(line: str) -> tuple[dict[str, Any] | None, str]:
    """The review of one line, or None and the reason it cannot be used."""
    review, reason = json_object(line, "reviewerID", "asin")
    if review is None:
        return None, reason
    overall = review.get("overall")
    if isinstance(overall, bool) or not isinstance(overall, int | float) or not 1 <= overall <= 5:
        return None, f"'overall' must be a rating 1-5, got {overall!r}"
    ts = review.get("unixReviewTime")
    if isinstance(ts, bool) or not isinstance(ts, int) or abs(ts) > MAX_TS_SECONDS:
        return None, f"'unixReviewTime' must be integer seconds, got {ts!r}"
    return review, ""


def _text(review: dict[str, Any]) -> str:
    parts = (review.get("summary"), review.get("reviewText"))
    return "\n\n".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
