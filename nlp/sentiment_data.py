"""Labelled sentiment data for training :class:`nlp.sentiment_head.SentimentHead`.

A labelled file is CSV (header row) or JSON Lines (``.jsonl``), one post or review a row, with a
text field and either a label (``positive`` / ``negative`` / ``neutral``) or a 1-5 star rating
(distant supervision: 1-2 negative, 3 neutral, 4-5 positive). Field names are found among the
usual ones (``text``, ``reviewText``, ``summary`` ...; ``label``, ``sentiment``,
``airline_sentiment``; ``rating``, ``stars``, ``overall``) or given. A bad row is an error naming
file, line and reason. :func:`sentiment_view` is the text the head embeds: retweet marks, handles
and links say who and where, not how someone feels, and differ from one platform to the next.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from nlp.clean import normalise_text

LABELS = ("positive", "negative", "neutral")
TEXT_FIELDS = ("text", "tweet_text", "reviewText", "review_full", "review", "body", "summary",
               "review_title")
LABEL_FIELDS = ("label", "sentiment", "airline_sentiment", "polarity")
RATING_FIELDS = ("rating", "stars", "overall", "score")

_HANDLE = re.compile(r"(?<!\w)@\w+")
_LINK = re.compile(r"https?://\S+|www\.\S+|\{link\}")
_RETWEET = re.compile(r"\bRT\b:?")
_HASH = re.compile(r"#(\w)")
_SPACE = re.compile(r"\s+")


def sentiment_view(text: str) -> str:
    """``text`` without retweet marks, @handles and links, hashtags as plain words.

    >>> sentiment_view("RT @ann: Love the #iPad! {link} http://x.co/1")
    'Love the iPad!'
    """
    text = _RETWEET.sub(" ", _HANDLE.sub(" ", _LINK.sub(" ", text)))
    return _SPACE.sub(" ", _HASH.sub(r"\1", text)).strip(" :-")


def label_from_rating(rating: float) -> str:
    """Star rating -> label: 1-2 negative, 3 neutral, 4-5 positive."""
    if not 1 <= rating <= 5:
        raise ValueError(f"rating {rating} outside 1-5")
    return "negative" if rating < 3 else "neutral" if rating < 4 else "positive"


@dataclass(frozen=True, slots=True)
class LabelledTexts:
    """Texts and their labels, read from ``source``."""

    source: str
    texts: list[str]
    labels: list[str]

    def counts(self) -> dict[str, int]:
        """How many texts carry each label."""
        return {label: self.labels.count(label) for label in LABELS}


def _rows(path: Path) -> Iterator[tuple[int, dict]]:
    opener = gzip.open if path.suffix == ".gz" else open
    stem = path.name.removesuffix(".gz")
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        if stem.endswith((".jsonl", ".json")):
            for line_no, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{line_no}: not JSON ({exc.msg})") from None
                if not isinstance(row, dict):
                    raise ValueError(f"{path}:{line_no}: a JSON object is expected")
                yield line_no, row
        else:
            reader = csv.DictReader(handle)
            for row in reader:
                yield reader.line_num, row


def _pick(fields: set[str], wanted: tuple[str, ...]) -> str | None:
    return next((f for f in wanted if f in fields), None)


def read_labelled(path: str | os.PathLike[str], *, text_field: str | None = None,
                  label_field: str | None = None, rating_field: str | None = None,
                  skip_texts: tuple[str, ...] = ()) -> LabelledTexts:
    """Labelled texts from a CSV or JSON Lines file (optionally gzipped).

    Rows whose text is empty or in ``skip_texts`` (e.g. Amazon's stock summaries "Five Stars")
    are left out; a missing or unknown label or rating is an error.
    """
    path = Path(path)
    skip = {s.casefold() for s in skip_texts}
    texts: list[str] = []
    labels: list[str] = []
    fields: tuple[str | None, str | None, str | None] | None = None
    for line_no, row in _rows(path):
        if fields is None:
            names = set(row)
            fields = (text_field or _pick(names, TEXT_FIELDS),
                      label_field or (None if rating_field else _pick(names, LABEL_FIELDS)),
                      rating_field or _pick(names, RATING_FIELDS))
            if fields[0] is None or (fields[1] is None and fields[2] is None):
                raise ValueError(f"{path}:{line_no}: no text and label/rating fields among "
                                 f"{sorted(names)}")
        text_key, label_key, rating_key = fields
        text = normalise_text(str(row.get(text_key) or ""))
        if not text or text.casefold() in skip:
            continue
        texts.append(text)
        labels.append(_label(row, label_key, rating_key, f"{path}:{line_no}"))
    if not texts:
        raise ValueError(f"{path}: no labelled texts")
    return LabelledTexts(str(path), texts, labels)


def _label(row: dict, label_key: str | None, rating_key: str | None, where: str) -> str:
    if label_key is not None:
        label = str(row.get(label_key) or "").strip().lower()
        if label not in LABELS:
            raise ValueError(f"{where}: label {label!r} is not one of {LABELS}")
        return label
    try:
        return label_from_rating(float(row.get(rating_key)))  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: bad rating {row.get(rating_key)!r} ({exc})") from None


def combine(*parts: LabelledTexts) -> LabelledTexts:
    """Several labelled sets as one."""
    return LabelledTexts("+".join(p.source for p in parts),
                         [t for p in parts for t in p.texts], [x for p in parts for x in p.labels])
