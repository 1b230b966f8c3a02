"""The demo catalogue: products with titles, descriptions, attributes and tier-consistent prices.

Like a real catalogue it lists the other names of a product's brand and category in its
attributes (``brand_aliases``: short names and the social handle; ``category_aliases``:
synonyms), which is all the mention linker knows of the names posts use. In the looks world
(``DemoConfig(looks=True)``), like many real catalogues, it names a product's colour
(attribute and description) only for some products (:data:`NAMED_COLOUR_SHARE`): for the
others only the picture shows it.

Random draws are made as numpy arrays up front and only the strings are formatted per
product, so 100,000 products take well under a second.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from kg.demo.lines import chunked_rows
from kg.demo.sampling import sample_in_groups
from kg.demo.vocabulary import (
    BRANDS,
    COLOURS,
    CONCEPT_SURFACES,
    LEAVES,
    MODEL_WORDS,
    TIER_NAMES,
    TIER_PRICE,
    Brand,
    Leaf,
)
from kg.records import Product

COLOUR_NAMES: tuple[str, ...] = tuple(COLOURS)
#: The share of products whose record names their colour in the looks world.
NAMED_COLOUR_SHARE = 0.5
_SUFFIXES = ("2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "Pro", "Lite", "Max", "X")
_OPENERS = (
    "The {title} is {a_style} {noun} in {colour}, made from {material}.",
    "Meet the {short}: {a_colour} {style} {noun} crafted from {material}.",
    "{brand}'s {short} pairs {material} with {a_style} look in {colour}.",
    "{A_style} {noun} in {colour} {material}, the {short} is {brand} at its best.",
)
_PLAIN_OPENERS = (  # the openers above for a record that does not name the colour
    "The {title} is {a_style} {noun}, made from {material}.",
    "Meet the {short}: {a_style} {noun} crafted from {material}.",
    "{brand}'s {short} pairs {material} with {a_style} look.",
    "{A_style} {noun} in {material}, the {short} is {brand} at its best.",
)
_USES = (
    "Built for {use}, it is {c1} and {c2}.",
    "Made for {use}: {c1}, {c2} and easy to live with.",
    "Ideal for {use}; {c1} and {c2} by design.",
    "Whether it's {use} or everyday life, it stays {c1} and {c2}.",
)
_SIZES = ("Available in {size}.", "Comes in {size}.", "Sold as {size}.")
_CLOSERS = (
    "A {tier} pick from {brand}.",
    "{brand} backs it with a two-year warranty.",
    "Reviewers rate it highly for {use}.",
    "Pairs well with the rest of the {brand} range.",
)
_TIER_WORDS = ("great-value", "dependable", "premium")


def product_id(index: int, n: int) -> str:
    """The id of product ``index`` of ``n``: ``p0001``."""
    return f"p{index + 1:0{max(4, len(str(n)))}d}"


def _lower_noun(noun: str) -> str:
    return " ".join(
        w if w.isupper() or any(c.isdigit() for c in w) else w.lower() for w in noun.split()
    )


def _a(word: str) -> str:
    return f"{'an' if word[0].lower() in 'aeiou' else 'a'} {word}"


def _price(raw: float) -> float:
    if raw >= 20:
        return round(max(1, round(raw)) - 0.01, 2)
    return round(max(1.0, round(raw * 2) / 2) - 0.01, 2)


@dataclass(frozen=True)
class Catalogue:
    """The products' names and latent arrays; full records are built on demand (:meth:`records`).

    Keeping 100,000 :class:`Product` objects alive would cost more memory than everything
    else; the draws that define them are kept instead (``picks``), so a record is rebuilt
    identically whenever it is needed.
    """

    ids: list[str]
    titles: list[str]
    short: list[str]  # short form of each title: "Stride 9"
    leaf: np.ndarray  # leaf index per product
    brand: np.ndarray  # brand index per product
    colour: np.ndarray  # index into COLOUR_NAMES
    popularity: np.ndarray  # positive weight, heavy-tailed
    picks: np.ndarray  # (n, 18) the integer draws that choose each product's words
    price: np.ndarray
    images: bool
    named_share: float = 1.0  # the share of records that name their colour

    @property
    def colour_named(self) -> np.ndarray:
        """Whether each product's record names its colour (a ``named_share`` of them)."""
        return self.picks[:, 16] % 1000 < round(1000 * self.named_share)

    @property
    def tier(self) -> np.ndarray:
        """The price tier of each product (its brand's)."""
        return np.array([b.tier for b in BRANDS], dtype=np.int8)[self.brand]

    def concepts(self, i: int) -> tuple[str, str]:
        """The two concept slugs of product ``i``."""
        return _concepts(LEAVES[self.leaf[i]], self.picks[i, 8], self.picks[i, 9])

    def image(self, i: int) -> str | None:
        """The relative path of product ``i``'s picture, if pictures are drawn."""
        return f"images/products/{self.ids[i]}.png" if self.images else None

    def records(self) -> Iterator[Product]:
        """Every product record, in id order."""
        nouns = [_lower_noun(lf.noun) for lf in LEAVES]
        columns = (self.leaf, self.brand, self.picks, self.price, self.colour_named)
        for i, (lf_i, b_i, p, price, named) in enumerate(chunked_rows(columns)):
            lf, b = LEAVES[lf_i], BRANDS[b_i]
            colour, style = lf.colours[p[3] % len(lf.colours)], lf.styles[p[4] % len(lf.styles)]
            material = lf.materials[p[5] % len(lf.materials)]
            use, size = lf.uses[p[6] % len(lf.uses)], lf.sizes[p[7] % len(lf.sizes)]
            concepts = _concepts(lf, p[8], p[9])
            values = {
                "title": self.titles[i],
                "short": self.short[i],
                "brand": b.name,
                "noun": nouns[lf_i],
                "colour": colour,
                "style": style,
                "a_style": _a(style),
                "A_style": _a(style).capitalize(),
                "a_colour": _a(colour),
                "material": material,
                "use": use,
                "size": size,
                "c1": CONCEPT_SURFACES[concepts[0]][0],
                "c2": CONCEPT_SURFACES[concepts[1]][0],
                "tier": _TIER_WORDS[b.tier],
            }
            attributes: dict[str, str | bool] = {"colour": colour} if named else {}
            attributes |= {
                "material": material,
                lf.size_key: size,
                "use": use,
                "style": style,
                "tier": TIER_NAMES[b.tier],
            }
            attributes.update(dict.fromkeys(concepts, True))
            attributes.update(catalogue_aliases(b, lf))
            yield Product(
                id=self.ids[i],
                title=self.titles[i],
                description=_describe(values, p[11:16], named),
                brand=b.name,
                categories=lf.path,
                price=price,
                image=self.image(i),
                attributes=attributes,
                year=2019 + p[17] % 7,
            )

    def sample_in_leaves(self, rng: np.random.Generator, leaves: np.ndarray) -> np.ndarray:
        """One product per entry of ``leaves``, popularity-weighted; any product if empty."""
        return sample_in_groups(rng, self.leaf, self.popularity, leaves)

    def sample_of_brands(self, rng: np.random.Generator, brands: np.ndarray) -> np.ndarray:
        """One product per entry of ``brands``, popularity-weighted; any product if none."""
        return sample_in_groups(rng, self.brand, self.popularity, brands)


def catalogue_aliases(brand: Brand, leaf: Leaf) -> dict[str, str]:
    """The other names a catalogue lists for a product's brand and category (``|``-separated):
    the brand's short names and social handle, and the category's synonyms but for a single
    word that other categories' names use too ("coffee": beans or a coffee maker?).

    >>> from kg.demo.vocabulary import BRANDS, LEAVES
    >>> catalogue_aliases(BRANDS[0], LEAVES[0])
    {'brand_aliases': 'KVX|Korv|@korvexrun', 'category_aliases': 'running shoe|trainers'}
    """
    return {"brand_aliases": "|".join((*brand.aliases, "@" + brand.handle)),
            "category_aliases": "|".join(_SYNONYMS[leaf.slug])}


def _synonyms(leaf: Leaf) -> list[str]:
    elsewhere = {w for other in LEAVES if other is not leaf
                 for name in (other.path[-1], *other.surfaces) for w in name.casefold().split()}
    return [s for s in leaf.surfaces if s.casefold() != leaf.path[-1].casefold()
            and not (" " not in s and s.casefold() in elsewhere)]


_SYNONYMS: dict[str, list[str]] = {leaf.slug: _synonyms(leaf) for leaf in LEAVES}


def _concepts(leaf: Leaf, k: int, j: int) -> tuple[str, str]:
    n = len(leaf.concepts)
    return leaf.concepts[k % n], leaf.concepts[(k % n + 1 + j % (n - 1)) % n]


def _describe(values: dict[str, str], pick: list[int], named: bool) -> str:
    openers = _OPENERS if named else _PLAIN_OPENERS
    sentences = [
        openers[pick[0] % len(openers)],
        _USES[pick[1] % len(_USES)],
        _SIZES[pick[2] % len(_SIZES)],
    ]
    if pick[3] % 2:
        sentences.append(_CLOSERS[pick[4] % len(_CLOSERS)])
    return " ".join(s.format(**values) for s in sentences)


def build_catalogue(rng: np.random.Generator, n_products: int, *, images: bool,
                    named_share: float = 1.0) -> Catalogue:
    """Draw ``n_products`` products: every leaf covered, brands active in their own leaves;
    a ``named_share`` of the records name their colour."""
    n_leaves = len(LEAVES)
    leaf = rng.permutation(np.arange(n_products) % n_leaves)
    leaf_brands = [[i for i, b in enumerate(BRANDS) if lf.slug in b.leaves] for lf in LEAVES]
    table = np.array([(lb * len(BRANDS))[: len(BRANDS)] for lb in leaf_brands], dtype=np.int64)
    width = np.array([len(lb) for lb in leaf_brands], dtype=np.int64)
    brand = table[leaf, rng.integers(0, 1 << 30, n_products) % width[leaf]]
    picks = rng.integers(0, 1 << 30, size=(n_products, 18))
    price_u = rng.random(n_products)
    price_noise = rng.normal(1.0, 0.06, n_products)
    bounds = np.log(np.array([lf.price for lf in LEAVES]))[leaf]
    raw_price = np.exp(bounds[:, 0] + price_u * (bounds[:, 1] - bounds[:, 0])) * price_noise
    tier_price = np.array([TIER_PRICE[b.tier] for b in BRANDS])[brand]
    price = np.array([_price(x) for x in (raw_price * tier_price).tolist()])
    popularity = rng.lognormal(0.0, 1.0, n_products)
    colour_index = {name: i for i, name in enumerate(COLOUR_NAMES)}

    ids = [product_id(i, n_products) for i in range(n_products)]
    titles: list[str] = []
    shorts: list[str] = []
    colours = np.empty(n_products, dtype=np.int64)
    taken: set[tuple[int, str]] = set()
    for i, (lf_i, b_i, p) in enumerate(chunked_rows((leaf, brand, picks))):
        lf, b = LEAVES[lf_i], BRANDS[b_i]
        words = MODEL_WORDS[lf.models]
        short = ""
        for attempt in range(8):  # model names are unique within a brand while they last
            model = words[(p[0] + attempt * 7) % len(words)]
            suffix = _SUFFIXES[(p[1] + attempt) % len(_SUFFIXES)]
            short = model if p[2] % 5 == 0 else f"{model} {suffix}"
            if (b_i, short) not in taken:
                break
        taken.add((b_i, short))
        style = lf.styles[p[4] % len(lf.styles)]
        noun = lf.noun if p[10] % 4 else f"{style.title()} {lf.noun}"
        titles.append(f"{b.name} {short} {noun}")
        shorts.append(short)
        colours[i] = colour_index[lf.colours[p[3] % len(lf.colours)]]
    return Catalogue(
        ids,
        titles,
        shorts,
        leaf.astype(np.int64),
        brand,
        colours,
        popularity,
        picks,
        price,
        images,
        named_share,
    )
