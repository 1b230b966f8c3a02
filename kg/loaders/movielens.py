"""MovieLens 100K (``u.user``, ``u.item``, ``u.genre``, ``u.data``) as a shopgraph dataset.

- users: ``id`` (``"1"`` …), ``age``, ``gender`` (``"M"``/``"F"``), ``location`` (the zip
  code), ``attributes={"occupation": …}``; the build puts each user in the segments of
  their age band, gender and occupation (``member_of``, see :mod:`kg.build`);
- products: one per movie, ``title`` without its ``" (1995)"`` suffix, ``year`` from that
  suffix (else from the release date), ``categories=("movie", <first genre>)``, and all
  genres in ``attributes["genres"]`` joined by ``"|"`` (e.g. ``"Animation|Children's|Comedy"``).
  ``categories`` is one general→specific path, and a movie's genres are not a path, so the
  first genre (in ``u.genre`` order) makes the path and the full list stays in attributes;
  the decade of ``year`` is ``attributes["decade"]`` (``"1990s"``). ``genres`` and
  ``decade`` are category attributes of :data:`kg.schema.CATEGORY_ATTRIBUTES`, so the build
  puts a movie in ``category:movie/<genre>`` for every genre and in
  ``category:decade/1990s``. The release date and IMDb URL are attributes too;
- events: each rating is a ``rate`` event with ``value`` (1–5) and ``ts`` (unix seconds).

``u.item`` is latin-1 encoded. Malformed rows go to ``LoadResult.rejected``.
"""

from __future__ import annotations

import re
from pathlib import Path

from kg.loaders.common import LoadResult, Rejection, is_digits, read_lines
from kg.records import Dataset, Event, Product, User

_TITLE_YEAR = re.compile(r"^(?P<title>.*?)\s*\((?P<year>\d{4})\)\s*$")
_N_ITEM_FIELDS_BEFORE_GENRES = 5


def load_movielens(src: str | Path, *, limit: int | None = None) -> LoadResult:
    """Load the MovieLens 100K folder ``src``; ``limit`` caps the ratings read.

    >>> result = load_movielens("../shared/data/ml-100k")  # doctest: +SKIP
    >>> len(result.dataset.events)  # doctest: +SKIP
    100000
    """
    folder = Path(src)
    result = LoadResult(dataset=Dataset())
    genres = _read_genres(folder / "u.genre", result)
    result.dataset.users = _read_users(folder / "u.user", result)
    result.dataset.products = _read_items(folder / "u.item", genres, result)
    known_users = {u.id for u in result.dataset.users}
    known_items = {p.id for p in result.dataset.products}
    result.dataset.events = _read_ratings(
        folder / "u.data", known_users, known_items, result, limit=limit
    )
    return result


def _read_genres(path: Path, result: LoadResult) -> list[str]:
    lines = read_lines(path, encoding="latin-1")
    result.rows_read[path.name] = len(lines)
    by_index: dict[int, str] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        name, _, index = line.rpartition("|")
        if not name or not is_digits(index):
            result.rejected.append(Rejection(path.name, number, "expected 'genre|index'"))
            continue
        by_index[int(index)] = name
    if sorted(by_index) != list(range(len(by_index))):
        raise ValueError(f"{path}: genre indices are not 0..{len(by_index) - 1}")
    return [by_index[i] for i in range(len(by_index))]


def _read_users(path: Path, result: LoadResult) -> list[User]:
    lines = read_lines(path, encoding="latin-1")
    result.rows_read[path.name] = len(lines)
    users: list[User] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, 1):
        fields = line.split("|")
        reason = None
        if len(fields) != 5:
            reason = f"expected 5 '|'-separated fields, got {len(fields)}"
        elif not is_digits(fields[0]) or not is_digits(fields[1]):
            reason = "user id and age must be integers"
        elif fields[0] in seen:
            reason = f"duplicate user id {fields[0]}"
        if reason:
            result.rejected.append(Rejection(path.name, number, reason))
            continue
        user_id, age, gender, occupation, zip_code = fields
        seen.add(user_id)
        users.append(
            User(
                id=user_id,
                age=int(age),
                gender=gender or None,
                location=zip_code or None,
                attributes={"occupation": occupation} if occupation else {},
            )
        )
    return users


def _read_items(path: Path, genres: list[str], result: LoadResult) -> list[Product]:
    lines = read_lines(path, encoding="latin-1")
    result.rows_read[path.name] = len(lines)
    n_fields = _N_ITEM_FIELDS_BEFORE_GENRES + len(genres)
    products: list[Product] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, 1):
        fields = line.split("|")
        flags = fields[_N_ITEM_FIELDS_BEFORE_GENRES:]
        reason = None
        if len(fields) != n_fields:
            reason = f"expected {n_fields} '|'-separated fields, got {len(fields)}"
        elif not is_digits(fields[0]):
            reason = "movie id must be an integer"
        elif fields[0] in seen:
            reason = f"duplicate movie id {fields[0]}"
        elif not fields[1].strip():
            reason = "empty title"
        elif any(flag not in ("0", "1") for flag in flags):
            reason = "genre flags must be 0 or 1"
        if reason:
            result.rejected.append(Rejection(path.name, number, reason))
            continue
        movie_id, raw_title, release, video_release, url = fields[:_N_ITEM_FIELDS_BEFORE_GENRES]
        seen.add(movie_id)
        title, year = _split_title(raw_title.strip(), release)
        movie_genres = [g for g, flag in zip(genres, flags, strict=True) if flag == "1"]
        attributes: dict[str, str | int | float | bool] = {}
        if movie_genres:
            attributes["genres"] = "|".join(movie_genres)
        for key, value in (
            ("release_date", release),
            ("video_release_date", video_release),
            ("imdb_url", url),
        ):
            if value:
                attributes[key] = value
        if year is not None:
            attributes["decade"] = f"{year // 10 * 10}s"
        products.append(
            Product(
                id=movie_id,
                title=title,
                year=year,
                categories=("movie", movie_genres[0]) if movie_genres else ("movie",),
                attributes=attributes,
            )
        )
    return products


def _split_title(raw: str, release: str) -> tuple[str, int | None]:
    """``"Toy Story (1995)"`` → ``("Toy Story", 1995)``; else the release date's year."""
    match = _TITLE_YEAR.match(raw)
    if match and match["title"]:
        return match["title"], int(match["year"])
    tail = release.rpartition("-")[2]
    return raw, int(tail) if len(tail) == 4 and is_digits(tail) else None


def _read_ratings(
    path: Path, users: set[str], items: set[str], result: LoadResult, *, limit: int | None
) -> list[Event]:
    lines = read_lines(path, encoding="latin-1")
    if limit is not None:
        lines = lines[:limit]
    result.rows_read[path.name] = len(lines)
    events: list[Event] = []
    for number, line in enumerate(lines, 1):
        fields = line.split("\t")
        reason = None
        if len(fields) != 4:
            reason = f"expected 4 tab-separated fields, got {len(fields)}"
        elif not all(is_digits(f) for f in fields):
            reason = "user, item, rating and timestamp must be integers"
        elif fields[0] not in users:
            reason = f"unknown user {fields[0]}"
        elif fields[1] not in items:
            reason = f"unknown movie {fields[1]}"
        elif not 1 <= int(fields[2]) <= 5:
            reason = f"rating {fields[2]} outside 1-5"
        if reason:
            result.rejected.append(Rejection(path.name, number, reason))
            continue
        events.append(
            Event(
                user=fields[0],
                target=fields[1],
                target_type="product",
                kind="rate",
                value=float(fields[2]),
                ts=float(fields[3]),
            )
        )
    return events
