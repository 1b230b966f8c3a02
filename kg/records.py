"""Typed records of a shopgraph dataset: the JSON Lines contract of DESIGN.md.

A dataset is a folder of JSON Lines files, one record per line:

======================  =====================================================================
file                    record
======================  =====================================================================
``products.jsonl``      :class:`Product`
``users.jsonl``         :class:`User`
``follows.jsonl``       :class:`Follow`
``posts.jsonl``         :class:`Post`
``events.jsonl``        :class:`Event`
======================  =====================================================================

Ids are kept raw (``"42"``, ``"B00X"``) in records; the knowledge graph types them
(``user:42``, ``product:B00X``). Timestamps are unix seconds (float) once validated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

EventKind = Literal["view", "click", "like", "comment", "share", "cart", "purchase", "rate"]
EVENT_KINDS: tuple[str, ...] = get_args(EventKind)
TargetType = Literal["product", "post"]

AttributeValue = str | int | float | bool


#: The product attribute by which a loader says the title is a stand-in (the product's id,
#: or "Ciao product <id>"), with what it stands for as its value ("asin", "id").
TITLE_FALLBACK = "title_fallback"


def stand_in_title(attributes: Mapping[str, Any]) -> bool:
    """Whether a product's ``attributes`` say its title is only a loader's stand-in
    (:data:`TITLE_FALLBACK`): it tells a reader or an encoder nothing."""
    return bool(attributes.get(TITLE_FALLBACK))


@dataclass(frozen=True, slots=True)
class Product:
    """A catalogue item. Only ``id`` and ``title`` are required."""

    id: str
    title: str
    description: str | None = None
    brand: str | None = None
    categories: tuple[str, ...] = ()  # general -> specific
    price: float | None = None
    image: str | None = None  # path relative to the dataset folder (must stay inside it)
    attributes: dict[str, AttributeValue] = field(default_factory=dict)
    year: int | None = None


@dataclass(frozen=True, slots=True)
class User:
    """A person on the platform. Only ``id`` is required."""

    id: str
    name: str | None = None
    age: int | None = None
    gender: str | None = None
    location: str | None = None
    bio: str | None = None
    attributes: dict[str, AttributeValue] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Follow:
    """``follower`` follows ``followee`` (both user ids)."""

    follower: str
    followee: str
    ts: float | None = None


@dataclass(frozen=True, slots=True)
class Post:
    """Something a user posted: text, images, explicit product tags."""

    id: str
    author: str
    text: str = ""
    images: tuple[str, ...] = ()
    ts: float | None = None
    products: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Event:
    """A user's action on a product or a post.

    ``target_type`` says which: in JSON the target is either typed (``"product:B00X"``,
    ``"post:9"``) or raw, in which case it resolves to the product of that id if one
    exists, else to the post.
    """

    user: str
    target: str
    target_type: TargetType
    kind: EventKind
    value: float | None = None
    ts: float | None = None
    text: str | None = None


Record = Product | User | Follow | Post | Event

#: The dataset's files in the order they must be read: later files refer to earlier ones.
DATASET_FILES: tuple[tuple[str, type], ...] = (
    ("products.jsonl", Product),
    ("users.jsonl", User),
    ("follows.jsonl", Follow),
    ("posts.jsonl", Post),
    ("events.jsonl", Event),
)


@dataclass(slots=True)
class Dataset:
    """The accepted records of a dataset, in file order."""

    products: list[Product] = field(default_factory=list)
    users: list[User] = field(default_factory=list)
    follows: list[Follow] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    @classmethod
    def from_pandas(cls, *, products: Any = None, users: Any = None, follows: Any = None,
                    posts: Any = None, events: Any = None,
                    rejected: list[Any] | None = None) -> Dataset:
        """Records from pandas DataFrames whose columns are the record fields, validated
        like dataset files (:func:`kg.loaders.table.frames_to_dataset`).

        A bad row raises ValueError naming it, unless a ``rejected`` list is given: then the
        valid rows come back and each bad one is appended there (frame, row, reason, row).

        >>> ds = Dataset.from_pandas(products=pd.DataFrame({"id": ["p1"], "title": ["Mug"]}))
        ... # doctest: +SKIP
        """
        from kg.loaders.table import frames_to_dataset

        frames = {"products": products, "users": users, "follows": follows, "posts": posts,
                  "events": events}
        return frames_to_dataset({k: v for k, v in frames.items() if v is not None}, rejected)
