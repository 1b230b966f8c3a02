"""Cleaning social text before parsing: normalise, then merge exact and near-duplicate posts.

Normalising unescapes HTML entities (``&amp;``), applies Unicode NFKC, drops control
characters and collapses white space. Duplicates are found on a *canonical key* (case-folded,
URLs, @handles, a leading ``RT @x:`` and ``#`` marks removed) by the Jaccard similarity of
word shingles; each cluster keeps its first post. Posts of different authors merge only when
one is a repost (``RT @x: ...``) or both have at least ``cross_author_min_words`` words (a
copy-paste), so people who say the same short thing in their own posts are not merged. A
cluster in which one author posted ``spam_min_copies`` or more copies counts that author's
extra copies as spam.
"""

from __future__ import annotations

import dataclasses
import html
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from kg.records import Post
from nlp.config import NlpConfig

_CONTROL = re.compile(r"[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\ufeff]")
_SPACE = re.compile(r"\s+")
_URL = re.compile(r"(?:https?://|www\.)\S+|\{link\}", re.IGNORECASE)
_HANDLE = re.compile(r"@\w+")
_RETWEET = re.compile(r"^(?:rt\s+@\w+:?\s*)+", re.IGNORECASE)
_NON_WORD = re.compile(r"[^\w]+")


def normalise_text(text: str) -> str:
    """Readable, comparable text: HTML entities unescaped, NFKC, no control chars, single spaces.

    >>> normalise_text("Fish &amp; chips\\u200b \\n  now")
    'Fish & chips now'
    """
    text = unicodedata.normalize("NFKC", html.unescape(text))
    return _SPACE.sub(" ", _CONTROL.sub("", text)).strip()


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, at the last space in its final tenth if
    there is one (a word is not split), else exactly there.

    >>> truncate("word " * 10, 30), truncate("abcdef", 4), truncate("short", 10)
    ('word word word word word word', 'abcd', 'short')
    """
    if len(text) <= limit:
        return text
    space = text.rfind(" ", limit - limit // 10, limit + 1)
    return text[: space if space > 0 else limit].rstrip()


def canonical_key(text: str) -> str:
    """The duplicate-detection form of normalised text: no RT prefix, URLs, handles or marks.

    >>> canonical_key("RT @ann: Love the #iPad! http://x.co/1")
    'love the ipad'
    """
    text = _RETWEET.sub("", text.casefold())
    text = _HANDLE.sub(" ", _URL.sub(" ", text))
    return _SPACE.sub(" ", _NON_WORD.sub(" ", text)).strip()


@dataclass(frozen=True, slots=True)
class CleanReport:
    """How many posts were read, kept, and merged (by kind). ``read == kept + merged``."""

    read: int
    kept: int
    exact: int
    near_duplicate: int
    spam: int

    @property
    def merged(self) -> int:
        """Posts merged into an earlier one, of any kind."""
        return self.exact + self.near_duplicate + self.spam


@dataclass(slots=True)
class CleanResult:
    """Kept posts (text normalised), the report, and ``merged_into``: merged id -> kept id."""

    posts: list[Post]
    report: CleanReport
    merged_into: dict[str, str] = field(default_factory=dict)


def clean_posts(posts: list[Post], config: NlpConfig | None = None) -> CleanResult:
    """Normalise the posts' text and merge duplicates; order of kept posts is preserved."""
    config = config or NlpConfig()
    texts = [normalise_text(p.text or "") for p in posts]
    keys = [canonical_key(t) for t in texts]
    authors = np.unique([p.author for p in posts], return_inverse=True)[1]
    long_enough = np.array([len(k.split()) >= config.cross_author_min_words for k in keys])
    repost = np.array([_RETWEET.match(t) is not None for t in texts], dtype=bool)

    def may_merge(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        same_author = authors[a] == authors[b]
        return same_author | (long_enough[a] & long_enough[b]) | repost[a] | repost[b]

    root = _cluster(keys, size=config.shingle_size, threshold=config.near_duplicate_threshold,
                    may_merge=may_merge)
    members: dict[int, list[int]] = defaultdict(list)
    for i, r in enumerate(root):
        members[r].append(i)
    kept: list[Post] = []
    merged_into: dict[str, str] = {}
    counts = {"exact": 0, "near_duplicate": 0, "spam": 0}
    for i, post in enumerate(posts):
        rep = root[i]
        if rep == i:
            kept.append(dataclasses.replace(post, text=texts[i]))
            continue
        merged_into[post.id] = posts[rep].id
        same_author = sum(posts[j].author == post.author for j in members[rep])
        if same_author >= config.spam_min_copies:
            counts["spam"] += 1
        elif texts[i].casefold() == texts[rep].casefold():
            counts["exact"] += 1
        else:
            counts["near_duplicate"] += 1
    report = CleanReport(read=len(posts), kept=len(kept), **counts)
    return CleanResult(kept, report, merged_into)


def _shingles(key: str, size: int) -> list[str]:
    words = key.split()
    if len(words) <= size:
        return [key]
    return [" ".join(words[i : i + size]) for i in range(len(words) - size + 1)]


def _cluster(
    keys: list[str],
    *,
    size: int,
    threshold: float,
    may_merge: Callable[[np.ndarray, np.ndarray], np.ndarray],
    block: int = 2048,
) -> list[int]:
    """Each key's cluster root (its earliest member) under Jaccard(shingles) >= threshold.

    ``may_merge(i, j)`` says, for arrays of candidate pairs, which pairs may be joined.
    """
    n = len(keys)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    vocab: dict[str, int] = {}
    rows, cols = [], []
    for i, key in enumerate(keys):
        if not key:  # empty text: nothing to compare, never merged
            continue
        for s in set(_shingles(key, size)):
            rows.append(i)
            cols.append(vocab.setdefault(s, len(vocab)))
    data = np.ones(len(rows), dtype=np.float32)
    x = sp.csr_matrix((data, (rows, cols)), shape=(n, max(len(vocab), 1)))
    sizes = np.asarray(x.sum(axis=1)).ravel()
    xt = x.T.tocsc()
    for start in range(0, n, block):
        inter = (x[start : start + block] @ xt).tocoo()
        i, j, v = inter.row + start, inter.col, inter.data
        keep = j > i
        i, j, v = i[keep], j[keep], v[keep]
        joined = (v / (sizes[i] + sizes[j] - v) >= threshold) & may_merge(i, j)
        for a, b in zip(i[joined].tolist(), j[joined].tolist(), strict=True):
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    return [find(i) for i in range(n)]
