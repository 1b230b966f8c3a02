"""The names a catalogue is mentioned by: titles, short forms, brands, categories, concepts.

Each name points at one typed node id (``product:X``, ``brand:slug``, ``category:a/b``,
``concept:slug``). Hashtags and handles write names without spaces (``#GoogleMaps``), so
every name of several words (or with a hyphen: ``leak-proof``) also gets a compact form.
A name claimed by several nodes goes to the
strongest kind (exact titles and given aliases, then brands, categories, concepts, then
derived short forms, then brand typos: a long one-word brand name with one inner letter left
out); a tie between different nodes of the same kind is ambiguous and dropped.
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from kg.records import Product
from kg.schema import brand_id, category_id, concept_id

NameKind = Literal["alias", "title", "brand", "category", "concept", "short", "typo"]
_RANK: dict[str, int] = {
    "alias": 0, "title": 0, "brand": 1, "category": 2, "concept": 3, "short": 4, "typo": 5,
}
#: Product attribute keys whose values are concepts (colour, material, style, use).
CONCEPT_KEYS: frozenset[str] = frozenset(
    {"colour", "color", "material", "fabric", "style", "use", "usage", "occasion", "pattern",
     "finish", "scent", "skin_type", "hair_type"}
)
_SEPARATORS = re.compile(r"\s+[-–—|/]\s+|,|\(|\[|:")
_CORPORATE = re.compile(r"[\s,]+(?:inc|co|corp|corporation|ltd|llc|gmbh|plc)\.?$", re.IGNORECASE)
_COMPACT = re.compile(r"[\W_]+")
_DISTINCTIVE = re.compile(r"\d|[a-z][A-Z]")  # iPad, GoPro, X100
_WORD = re.compile(r"[\w'-]+")
_DESCRIPTOR_KEYS = ("style", "colour", "color", "material")


@dataclass(frozen=True, slots=True)
class CatalogueName:
    """A surface form to match, the node it names, and what kind of name it is."""

    text: str
    target: str
    kind: NameKind
    case_sensitive: bool = False


@dataclass(frozen=True, slots=True)
class CatalogueNames:
    """The resolved names, and the ones dropped as ambiguous (text -> candidate targets)."""

    names: tuple[CatalogueName, ...]
    ambiguous: dict[str, tuple[str, ...]]


def product_concept_names(product: Product, *, values: bool = True) -> list[str]:
    """A product's concepts: flags set to true, and (``values``) :data:`CONCEPT_KEYS` values."""
    out = []
    for key, value in product.attributes.items():
        if values and key.casefold() in CONCEPT_KEYS and isinstance(value, str) and value.strip():
            out.extend(v.strip() for v in value.split("|") if v.strip())
        elif value is True:  # a flag such as "waterproof": true
            out.append(key.replace("_", " ").strip())
    return out


def short_forms(
    title: str, brand: str | None, descriptors: Iterable[str] = ()
) -> list[CatalogueName]:
    """Shorter names of a title (target left empty): its head before separators, both without
    the brand, and model names: the words after the brand up to the first descriptor word (a
    word of the product's categories or their aliases, or of its style, colour or material), and
    up to the first word with a digit (``Pegasus 39`` of "Nike Pegasus 39 Men's Running Shoes").

    A one-word short form is matched case-sensitively unless it looks like a model name
    (``iPad``, ``X100``), so ``Dew`` is a product where ``dew`` stays a word.

    >>> [n.text for n in short_forms("Mirelle Dew 2 Serum, 30 ml", "Mirelle", ["serums"])]
    ['Mirelle Dew 2 Serum', 'Dew 2 Serum, 30 ml', 'Dew 2 Serum', 'Dew 2']
    """
    head = _SEPARATORS.split(title, maxsplit=1)[0].strip()
    candidates = [head]
    if brand:
        variants = "|".join(re.escape(b) for b in sorted(brand_names(brand), key=len)[::-1])
        prefix = re.compile(rf"^(?:{variants})\b(?:['’]s)?\s*", re.IGNORECASE)
        candidates += [prefix.sub("", title).strip(), prefix.sub("", head).strip()]
    stop = {w for d in descriptors for w in _WORD.findall(d.casefold())}
    stop |= {w[:-1] for w in stop if w.endswith("s")} | {w[:-2] for w in stop if w.endswith("es")}
    words = candidates[-1].split()
    cut = next((i for i, w in enumerate(words) if i and w.casefold().strip(",.") in stop), None)
    if cut:
        candidates.append(" ".join(words[:cut]))
    number = next((i for i, w in enumerate(words) if any(ch.isdigit() for ch in w)), None)
    if number is not None and number + 1 < len(words):
        candidates.append(" ".join(words[: number + 1]))
    out: list[CatalogueName] = []
    seen = {title}
    for c in candidates:
        if not c or c in seen or (brand and c.casefold() == brand.casefold()):
            continue
        seen.add(c)
        single = len(c.split()) == 1 and not _DISTINCTIVE.search(c)
        out.append(CatalogueName(c, "", "short", case_sensitive=single))
    return out


def _with_compact(name: CatalogueName) -> list[CatalogueName]:
    compact = _COMPACT.sub("", name.text)
    if compact != name.text.strip() and len(compact) >= 4:
        return [name, dataclasses.replace(name, text=compact)]
    return [name]


def brand_typos(brand: str, *, min_length: int = 6) -> list[str]:
    """One-letter omissions inside a one-word brand name of ``min_length`` letters or more.

    >>> brand_typos("Strydon")
    ['Srydon', 'Stydon', 'Strdon', 'Stryon', 'Strydn']
    """
    if len(brand) < min_length or not brand.isalpha():
        return []
    return list(dict.fromkeys(brand[:k] + brand[k + 1 :] for k in range(1, len(brand) - 1)))


def brand_names(brand: str) -> list[str]:
    """A brand's name, without a corporate suffix, and with ``&`` spelled ``and``."""
    out = [brand.strip()]
    for variant in (_CORPORATE.sub("", brand).strip(), brand.replace("&", "and")):
        if variant and variant not in out:
            out.append(variant)
    return out


def catalogue_names(
    products: Iterable[Product],
    *,
    concepts: Iterable[str] = (),
    aliases: Mapping[str, Iterable[str]] | None = None,
    categories: Literal["leaf", "all"] = "leaf",
    attribute_concepts: bool = False,
) -> CatalogueNames:
    """All names of the catalogue's products, brands, categories and concepts, resolved.

    ``aliases`` maps a typed node id to extra names (``{"brand:apple": ["AAPL"]}``). Products'
    attributes may list names too, separated by ``|``: ``aliases`` (of the product),
    ``brand_aliases`` (of its brand: ``"KVX|@korvexrun"``) and ``category_aliases`` (of its
    leaf category: ``"trainers|running shoe"``). Only the leaf
    (most specific) categories are named unless ``categories="all"``: broad ones ("Running",
    "Beauty") are everyday words, and the graph reaches them by ``broader`` edges. Concepts
    named are the given ones and products' true flags (``"waterproof": true``); attribute
    values (colour ``white``, style ``pro``) too only with ``attribute_concepts=True``, as
    they are too common in posts to be evidence of a mention.
    """
    raw: list[CatalogueName] = []
    for p in products:
        target = f"product:{p.id}"
        raw.append(CatalogueName(p.title.strip(), target, "title"))
        descriptors = [*p.categories, *_listed(p, "category_aliases"),
                       *(str(p.attributes.get(k, "")) for k in _DESCRIPTOR_KEYS)]
        raw += [dataclasses.replace(n, target=target)
                for n in short_forms(p.title, p.brand, descriptors)]
        raw += [_alias(a, target) for a in _listed(p, "aliases")]
        if p.categories:
            leaf = category_id(p.categories)
            raw += [_alias(a, leaf) for a in _listed(p, "category_aliases")]
        if p.brand and p.brand.strip():
            raw += [_alias(a, brand_id(p.brand)) for a in _listed(p, "brand_aliases")]
            raw += [CatalogueName(b, brand_id(p.brand), "brand") for b in brand_names(p.brand)]
            raw += [CatalogueName(t, brand_id(p.brand), "typo") for t in brand_typos(p.brand)]
        first = 0 if categories == "all" else max(len(p.categories) - 1, 0)
        for depth in range(first, len(p.categories)):
            raw.append(CatalogueName(p.categories[depth], category_id(p.categories[: depth + 1]),
                                     "category"))
        raw += [CatalogueName(c, concept_id(c), "concept")
                for c in product_concept_names(p, values=attribute_concepts)]
    raw += [CatalogueName(c, concept_id(c), "concept") for c in concepts]
    for target, names in (aliases or {}).items():
        raw += [_alias(a, target) for a in names]
    return _resolve([n for name in raw if name.text.strip() for n in _with_compact(name)])


def _listed(product: Product, key: str) -> list[str]:
    """The ``|``-separated names of attribute ``key``."""
    value = product.attributes.get(key)
    return [a.strip() for a in value.split("|") if a.strip()] if isinstance(value, str) else []


def _alias(text: str, target: str) -> CatalogueName:
    """An alias; a one-word one written with a capital (``KVX``, ``Korv``) is a proper name,
    matched as written, so that ``Tide`` the brand is not ``tide`` the word."""
    text = text.strip()
    proper = (len(text.split()) == 1 and text[:1].isalpha() and text != text.lower()
              and not _DISTINCTIVE.search(text))
    return CatalogueName(text, target, "alias", case_sensitive=proper)


def _resolve(raw: list[CatalogueName]) -> CatalogueNames:
    by_key: dict[str, list[CatalogueName]] = defaultdict(list)
    for name in raw:
        by_key[" ".join(name.text.casefold().split())].append(name)
    names: list[CatalogueName] = []
    ambiguous: dict[str, tuple[str, ...]] = {}
    for key, claims in by_key.items():
        best = min(_RANK[c.kind] for c in claims)
        top = [c for c in claims if _RANK[c.kind] == best]
        targets = sorted({c.target for c in top})
        if len(targets) > 1:
            ambiguous[key] = tuple(targets)
        else:
            names.append(top[0])
    return CatalogueNames(tuple(names), ambiguous)
