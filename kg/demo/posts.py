"""Posts with gold mentions: varied phrasing about products, brands, categories and concepts.

A post is rendered from a template (:mod:`kg.demo.phrasing`) piece by piece, so the
character span of every linked surface form is known exactly: gold mentions are recorded
as ``{"post", "start", "end", "text", "target", "sentiment"}`` with
``text == post.text[start:end]``. Hashtags and handles are recorded with their ``#``/``@``;
a category is named by its ``kg.schema.category_id`` (``category:sports/running/running-shoes``);
a brand's plural ("my Korvexes") mentions the brand; a concept's mention is its word alone
("well cushioned" mentions ``cushioned`` at "cushioned").
Influencers write a large share of the posts and mostly about their favourite brands, which
is what makes social signals learnable downstream.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from kg.demo import phrasing
from kg.demo.catalogue import COLOUR_NAMES, Catalogue
from kg.demo.social import SPAN_S, START_TS, Society
from kg.demo.vocabulary import BRANDS, CONCEPT_MODIFIERS, CONCEPT_SURFACES, LEAVES, Brand
from kg.records import Post
from kg.schema import category_id

SENTIMENTS: tuple[str, ...] = ("negative", "neutral", "positive")
_SLOT = re.compile(r"\{(\w+)\}")
_TEMPLATES = {
    "positive": phrasing.POSITIVE,
    "negative": phrasing.NEGATIVE,
    "neutral": phrasing.NEUTRAL,
}


def post_id(index: int, n: int) -> str:
    """The id of post ``index`` of ``n``: ``s0001``."""
    return f"s{index + 1:0{max(4, len(str(n)))}d}"


@dataclass(frozen=True)
class Feed:
    """The posts, their gold mentions and the latent arrays events are drawn from."""

    posts: list[Post]
    gold: list[dict[str, object]]
    author: np.ndarray  # user index per post
    product: np.ndarray  # product index the post is about, -1 if none
    ts: np.ndarray  # unix seconds
    sentiment: np.ndarray  # index into SENTIMENTS
    spam: list[str]  # ids of spam posts
    post_images: list[tuple[int, int]]  # (post index, product index) to draw


def _brand_surface(brand: Brand, r: random.Random) -> str:
    u = r.random()
    if u < 0.12 and brand.aliases:
        return r.choice(brand.aliases)
    if u < 0.3:
        return brand.name.lower()
    if u < 0.36:
        return brand.name.upper()
    if u < 0.41 and len(brand.name) > 5:  # a typo: one inner letter dropped
        k = r.randrange(1, len(brand.name) - 1)
        return brand.name[:k] + brand.name[k + 1 :]
    return brand.name


def _typo(text: str, r: random.Random) -> str:
    words = text.split(" ")
    long = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not long:
        return text
    i = r.choice(long)
    k = r.randrange(1, len(words[i]) - 2)
    w = words[i]
    words[i] = w[:k] + w[k + 1] + w[k] + w[k + 2 :]
    return " ".join(words)


class _Filler:
    """Fills template slots for one post: (surface, gold target or None)."""

    def __init__(
        self,
        catalogue: Catalogue,
        r: random.Random,
        product: int,
        brand: int,
        leaf: int,
        concepts: tuple[str, ...],
        *,
        url_suffix: str = "",
    ) -> None:
        self.catalogue, self.r, self.product, self.url_suffix = catalogue, r, product, url_suffix
        self.brand, self.leaf, self.concepts = BRANDS[brand], LEAVES[leaf], concepts

    def __call__(self, slot: str) -> tuple[str, str | None]:
        r, b = self.r, self.brand
        pid = f"product:{self.catalogue.ids[self.product]}" if self.product >= 0 else None
        if slot == "title":
            return self.catalogue.titles[self.product], pid
        if slot == "short":
            short = self.catalogue.short[self.product]
            return (short.lower() if r.random() < 0.15 else short), pid
        if slot == "brandpl":  # "my Korvexes" names the brand; the post is about one product
            if " " in b.name:
                return self.catalogue.short[self.product], pid
            return b.name + ("es" if b.name[-1] in "sxz" else "s"), f"brand:{b.slug}"
        if slot == "brand":
            return _brand_surface(b, r), f"brand:{b.slug}"
        if slot == "tag":
            return "#" + b.slug.replace("-", ""), f"brand:{b.slug}"
        if slot == "handle":
            return "@" + b.handle, f"brand:{b.slug}"
        if slot in ("cat", "cats"):  # singular or plural wanted; some names have only one
            plural = [x for x in self.leaf.surfaces if x.endswith("s")]
            singular = [x for x in self.leaf.surfaces if not x.endswith("s")]
            wanted = (plural if slot == "cats" else singular) or list(self.leaf.surfaces)
            return r.choice(wanted), category_id(self.leaf.path)
        if slot == "concept":
            concept = r.choice(self.concepts)
            return r.choice(CONCEPT_SURFACES[concept]), f"concept:{concept}"
        if slot == "colour":
            return COLOUR_NAMES[self.catalogue.colour[self.product]], None
        if slot == "spamurl":
            return phrasing.SPAM_URL + self.url_suffix, None
        return _FILLERS[slot](r), None


_FILLERS: dict[str, Callable[[random.Random], str]] = {
    "pos": lambda r: r.choice(phrasing.POS_WORDS),
    "neg": lambda r: r.choice(phrasing.NEG_WORDS),
    "epos": lambda r: r.choice(phrasing.EMOJI_POS),
    "eneg": lambda r: r.choice(phrasing.EMOJI_NEG),
    "eneu": lambda r: r.choice(phrasing.EMOJI_NEU),
    "url": lambda r: r.choice(phrasing.URLS),
}


def render(
    template: str,
    fill: Callable[[str], tuple[str, str | None]],
    r: random.Random,
    *,
    typo: bool = False,
) -> tuple[str, list[tuple[int, int, str, str]]]:
    """Render ``template``; return the text and its (start, end, surface, target) mentions."""
    parts = _SLOT.split(template)
    pieces: list[tuple[str, str | None]] = []
    for k, part in enumerate(parts):
        if k % 2 == 0:
            if part:
                pieces.append((part, None))
            continue
        surface, target = fill(part)
        modifier = next((m for m in CONCEPT_MODIFIERS if surface.startswith(m)), "")
        if modifier and target and target.startswith("concept:"):  # "well cushioned"
            pieces.append((modifier, None))  # the mention is the concept's word alone
            surface = surface[len(modifier) :]
        pieces.append((surface, target))
    if typo:
        literal = [k for k, (text, target) in enumerate(pieces) if target is None]
        if literal:
            k = r.choice(literal)
            pieces[k] = (_typo(pieces[k][0], r), None)
    text, spans, at = [], [], 0
    for surface, target in pieces:
        if target is not None:
            spans.append((at, at + len(surface), surface, target))
        text.append(surface)
        at += len(surface)
    return "".join(text), spans


def build_feed(
    rng: np.random.Generator, catalogue: Catalogue, society: Society, n_posts: int, *, images: bool
) -> Feed:
    """Draw ``n_posts`` posts (a few of them spam) with their gold mentions."""
    r = random.Random(int(rng.integers(0, 1 << 62)))
    n_users = len(society.users)
    spammers = np.flatnonzero(society.spammer)
    n_spam = min(n_posts // 10, max(6, n_posts // 100)) if len(spammers) else 0
    n = n_posts - n_spam
    weight = np.where(society.spammer, 0.0, society.activity)
    weight = np.where(society.influencer, weight * 12.0, weight)
    author = rng.choice(n_users, size=n, p=weight / weight.sum())
    valid = society.prefs[author] >= 0
    col = (rng.random(n) * valid.sum(axis=1)).astype(np.int64)
    leaf = np.where(
        rng.random(n) < 0.85, society.prefs[author, col], rng.integers(0, len(LEAVES), n)
    )
    product = catalogue.sample_in_leaves(rng, leaf)
    sponsored = society.influencer[author] & (rng.random(n) < 0.5)
    fav = society.fav_brands[author, rng.integers(0, 2, n)]
    product = np.where(sponsored, catalogue.sample_of_brands(rng, fav), product)
    about = rng.random(n) < 0.8
    product = np.where(about, product, -1)
    fits = (
        (catalogue.brand[product] == society.fav_brands[author, 0])
        | (catalogue.brand[product] == society.fav_brands[author, 1])
        | ((society.prefs[author] == catalogue.leaf[product][:, None]).any(axis=1))
    )
    u = rng.random(n)
    negative = np.where(fits, 0.1, 0.25)
    sentiment = np.where(u < negative, 0, np.where(u < negative + np.where(fits, 0.2, 0.3), 1, 2))
    ts = START_TS + rng.integers(0, SPAN_S, n)

    spam_author = spammers[rng.integers(0, max(1, len(spammers)), n_spam)] if n_spam else []
    spam_products = catalogue.sample_in_leaves(rng, rng.integers(0, len(LEAVES), 2))
    spam_start = START_TS + int(rng.integers(0, SPAN_S - 3 * 86_400))
    spam_ts = spam_start + rng.integers(0, 2 * 86_400, n_spam)
    all_author = np.concatenate([author, np.asarray(spam_author, dtype=np.int64)])
    all_product = np.concatenate([product, spam_products[np.arange(n_spam) % 4 % 2]])
    all_ts = np.concatenate([ts, spam_ts]).astype(np.int64)
    all_sentiment = np.concatenate([sentiment, np.full(n_spam, 2)])
    order = np.argsort(all_ts, kind="stable")
    is_spam = order >= n

    posts, gold, spam_ids, post_images = [], [], [], []
    segment = society.segment
    for k, src in enumerate(order.tolist()):
        pid = post_id(k, n_posts)
        a, p = int(all_author[src]), int(all_product[src])
        label = SENTIMENTS[all_sentiment[src]]
        if p >= 0:
            b, lf, concepts = int(catalogue.brand[p]), int(catalogue.leaf[p]), catalogue.concepts(p)
        else:
            b = int(society.fav_brands[a, r.randrange(2)])
            lf = int(society.prefs[a, 0])
            concepts = LEAVES[lf].concepts
        if is_spam[k]:  # four messages, each posted exactly and with small changes
            j = src - n
            variant = (j // 4) % 4
            fill = _Filler(
                catalogue,
                random.Random(j % 4),
                p,
                b,
                lf,
                concepts,
                url_suffix=f"?ref={j}" if variant == 3 else "",
            )
            text, spans = render(phrasing.SPAM[j % 4 % len(phrasing.SPAM)], fill, r)
            text += " !!" if variant == 2 else ""
            spam_ids.append(pid)
        else:
            if p >= 0:
                template = r.choice(_TEMPLATES[label])
            else:
                template, label = r.choice(phrasing.CHATTER)
            extras = ""
            if p >= 0 and "{tag}" not in template and r.random() < 0.25:
                extras += " {tag}"
            if p >= 0 and "{handle}" not in template and r.random() < 0.1:
                extras += " {handle}"
            if r.random() < 0.25:
                extras += " " + r.choice(phrasing.PERSONA_TAGS[segment[a]])
            fill = _Filler(catalogue, r, p, b, lf, concepts)
            text, spans = render(template + extras, fill, r, typo=r.random() < 0.06)
        for start, end, surface, target in spans:
            gold.append(
                {
                    "post": pid,
                    "start": start,
                    "end": end,
                    "text": surface,
                    "target": target,
                    "sentiment": label,
                }
            )
        tagged = p >= 0 and not is_spam[k] and r.random() < 0.35
        with_image = images and p >= 0 and not is_spam[k] and r.random() < 0.3
        if with_image:
            post_images.append((k, p))
        posts.append(
            Post(
                id=pid,
                author=society.users[a].id,
                text=text,
                images=(f"images/posts/{pid}.png",) if with_image else (),
                ts=float(all_ts[src]),
                products=(catalogue.ids[p],) if tagged else (),
            )
        )
    return Feed(
        posts,
        gold,
        all_author[order],
        all_product[order],
        all_ts[order],
        all_sentiment[order],
        spam_ids,
        post_images,
    )
