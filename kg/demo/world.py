"""Generate the whole demo world into a dataset folder.

The folder holds the five JSON Lines files of :mod:`kg.records`, ``images/`` (PNG per
product and for some posts), and the answers the generator knows: ``gold_mentions.jsonl``
(every linked surface form in a post, with exact character offsets), ``gold_profiles.jsonl``
(each user's latent tastes), ``gold_products.jsonl`` (each product's colour, also where its
record does not name it) and ``gold_world.json`` (influencers, spammers, spam posts, brands
with aliases and handles, categories, complements, concept surface forms, looks).
The same seed gives byte-identical files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from kg.atomic import atomic_dir, atomic_write_json
from kg.demo.catalogue import COLOUR_NAMES, NAMED_COLOUR_SHARE, Catalogue, build_catalogue
from kg.demo.events import build_behaviour, event_lines
from kg.demo.images import write_images
from kg.demo.lines import chunked_rows, record_lines, write_lines
from kg.demo.people import LOOKS, PERSONAS
from kg.demo.posts import Feed, build_feed
from kg.demo.social import Society, build_society, follow_lines
from kg.demo.vocabulary import BRANDS, COMPLEMENTS, CONCEPT_SURFACES, LEAVES
from kg.jsonl import write_jsonl
from kg.ownership import DATASET_KIND, check_replaceable


@dataclass(frozen=True)
class DemoConfig:
    """Size and seed of the demo world; ``n_events=None`` means about 25 per user.

    ``looks``: the looks world, where most people shop by a look (a colour palette) and half
    the records name no colour, so only the pictures show it (what pictures add to text;
    ``bench/content_images.py``). Off by default: on it the hybrid falls below the best peer
    on demo-7 and demo-8 (0.90x-0.99x, ``bench/generalise.py`` without images). Session 18,
    with the pictures as ``shopgraph build`` uses them (generalise.py's protocol from a /tmp
    script): seed 7, ``make demo``'s, is still below implicit ALS at random (0.964x; by
    time 1.017x) and its build keeps text (content alone 0.0948 / 0.0859), so the default
    stays; seed 8 1.069x / 1.092x (text kept), seed 9 1.120x / 1.152x (pictures chosen:
    1.016x / 1.068x without them).
    """

    seed: int = 7
    n_users: int = 600
    n_products: int = 360
    n_posts: int = 3500
    n_events: int | None = None
    images: bool = True
    looks: bool = False

    def __post_init__(self) -> None:
        if self.n_users < 10:
            raise ValueError(f"demo world: n_users must be at least 10, got {self.n_users}")
        if self.n_products < len(LEAVES):
            raise ValueError(
                f"demo world: n_products must be at least {len(LEAVES)} (one per "
                f"category), got {self.n_products}"
            )
        if self.n_posts < 1:
            raise ValueError(f"demo world: n_posts must be at least 1, got {self.n_posts}")
        if self.n_events is not None and self.n_events < 1:
            raise ValueError(f"demo world: n_events must be at least 1, got {self.n_events}")


@dataclass(frozen=True)
class DemoSummary:
    """Where the world was written and how many rows (or images) each output has."""

    out_dir: Path
    counts: dict[str, int] = field(default_factory=dict)


def generate_demo_world(
    out_dir: str | os.PathLike[str],
    config: DemoConfig = DemoConfig(),
    *,
    progress: bool = True,
) -> DemoSummary:
    """Write a seeded social-commerce dataset to ``out_dir`` (replaced whole, atomically;
    an existing folder that is not a shopgraph dataset is refused, :mod:`kg.ownership`).

    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "demo"
    >>> summary = generate_demo_world(out, DemoConfig(n_users=50, n_products=60, n_posts=80,
    ...                               images=False), progress=False)
    >>> summary.counts["products.jsonl"]
    60
    """
    out = Path(out_dir)
    check_replaceable(out, DATASET_KIND)  # before the minutes of generating
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(config.seed).spawn(4)]
    n_events = config.n_events if config.n_events is not None else 25 * config.n_users
    bar = tqdm(total=7, desc="demo world", unit="step", disable=not progress)

    def step(label: str) -> None:
        bar.set_postfix_str(label)
        bar.update(1)

    catalogue = build_catalogue(streams[0], config.n_products, images=config.images,
                                named_share=NAMED_COLOUR_SHARE if config.looks else 1.0)
    step("catalogue")
    society = build_society(streams[1], config.n_users, looks=config.looks)
    step("people")
    feed = build_feed(streams[2], catalogue, society, config.n_posts, images=config.images)
    step("posts")
    behaviour = build_behaviour(streams[3], catalogue, society, feed, n_events)
    step("events")

    counts: dict[str, int] = {}
    with atomic_dir(out, kind=DATASET_KIND) as tmp:
        counts["products.jsonl"] = write_lines(
            tmp / "products.jsonl", record_lines(catalogue.records())
        )
        counts["users.jsonl"] = write_jsonl(tmp / "users.jsonl", society.users)
        counts["follows.jsonl"] = write_lines(tmp / "follows.jsonl", follow_lines(society))
        counts["posts.jsonl"] = write_jsonl(tmp / "posts.jsonl", feed.posts)
        step("records")
        counts["events.jsonl"] = write_lines(
            tmp / "events.jsonl",
            event_lines(
                behaviour,
                catalogue.ids,
                [u.id for u in society.users],
                [p.id for p in feed.posts],
            ),
        )
        step("events written")
        counts["gold_mentions.jsonl"] = write_jsonl(tmp / "gold_mentions.jsonl", feed.gold)
        counts["gold_profiles.jsonl"] = write_jsonl(
            tmp / "gold_profiles.jsonl", society.gold_profiles()
        )
        counts["gold_products.jsonl"] = write_lines(tmp / "gold_products.jsonl",
                                                    _product_facts(catalogue))
        atomic_write_json(tmp / "gold_world.json", _world_facts(config, society, feed))
        jobs: list[tuple[str, int, int, float]] = []
        if config.images:
            jobs = [
                (catalogue.image(i) or "", int(lf), int(c), 1.0)
                for i, (lf, c) in enumerate(chunked_rows((catalogue.leaf, catalogue.colour)))
            ]
            jobs += [
                (
                    feed.posts[k].images[0],
                    int(catalogue.leaf[p]),
                    int(catalogue.colour[p]),
                    1.6,
                )
                for k, p in feed.post_images
            ]
        counts["images"] = write_images(tmp, jobs, config.seed, progress=progress)
        step("images")
    bar.close()
    return DemoSummary(out, counts)


def _product_facts(catalogue: Catalogue) -> Iterator[str]:
    """Each product's colour and whether its record names it, as JSON Lines."""
    names = [json.dumps(c) for c in COLOUR_NAMES]
    columns = (catalogue.colour, catalogue.colour_named)
    for pid, (colour, named) in zip(catalogue.ids, chunked_rows(columns), strict=True):
        yield (f'{{"product":{json.dumps(pid)},"colour":{names[colour]},'
               f'"colour_named":{"true" if named else "false"}}}\n')


def _world_facts(config: DemoConfig, society: Society, feed: Feed) -> dict[str, object]:
    users = [u.id for u in society.users]
    return {
        "config": asdict(config),
        "influencers": [users[i] for i in np.flatnonzero(society.influencer)],
        "spammers": [users[i] for i in np.flatnonzero(society.spammer)],
        "spam_posts": feed.spam,
        "segments": [p.name for p in PERSONAS],
        "looks": {name: list(colours) for name, colours in LOOKS.items()},
        "categories": [{"slug": lf.slug, "path": list(lf.path)} for lf in LEAVES],
        "complements": COMPLEMENTS,
        "brands": [
            {
                "slug": b.slug,
                "name": b.name,
                "aliases": list(b.aliases),
                "handle": "@" + b.handle,
                "tier": b.tier,
                "categories": list(b.leaves),
            }
            for b in BRANDS
        ],
        "concepts": {k: list(v) for k, v in CONCEPT_SURFACES.items()},
    }
