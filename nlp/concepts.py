"""Concepts of products: attribute values (colour, material, style, use) and noun chunks.

Attribute concepts weigh 1. From the noun chunks of a product's title and description come
the chunk's head phrase (compound nouns + head noun, lemmatised: ``leather jacket``) and each
adjective or noun modifier on its own (``waterproof``, ``leather``); their weight saturates
with the count in the product, ``count / (count + 1)``. Concepts found in more than
``max_df`` of a catalogue's products (``product``, ``quality``) say nothing and are dropped,
and so are opinion words (VADER valence of at least :data:`OPINION_VALENCE` either way:
``great``, ``perfect``, ``nice``): in a description they are praise, not a property, and as
concepts they would link every "great pic" comment. Attribute values are always kept.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Literal

from kg.records import Product, stand_in_title
from kg.schema import concept_id
from nlp.catalogue_patterns import product_concept_names
from nlp.clean import truncate
from nlp.config import NlpConfig

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Span

ConceptSource = Literal["attribute", "noun_chunk"]
_MODIFIER_DEPS = frozenset({"amod", "compound", "nmod"})
#: A noun-chunk word whose VADER valence is at least this (either way) is an opinion.
OPINION_VALENCE = 1.8


@cache
def _opinion_words() -> frozenset[str]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    lexicon = SentimentIntensityAnalyzer().lexicon
    return frozenset(w for w, v in lexicon.items() if abs(v) >= OPINION_VALENCE)


@dataclass(frozen=True, slots=True)
class ProductConcept:
    """``product`` (typed id) is about ``concept`` (typed id) with ``weight`` in (0, 1]."""

    product: str
    concept: str
    weight: float
    source: ConceptSource


@dataclass(slots=True)
class ConceptResult:
    """Product -> concept edges and each concept's display name (concept id -> phrase)."""

    edges: list[ProductConcept] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    truncated: int = 0  # product texts cut to ``NlpConfig.max_text_chars`` before parsing


def _chunk_phrases(chunk: Span) -> list[str]:
    """Head phrase and modifiers of a noun chunk, lemmatised; empty for pronouns and names."""
    root = chunk.root
    if root.pos_ not in ("NOUN",) or not root.is_alpha or root.is_stop:
        return []
    head = [t for t in chunk if t.dep_ == "compound" and t.head == root and t.is_alpha] + [root]
    out = [" ".join(t.lemma_.lower() for t in head)]
    for t in chunk:
        if (t.dep_ in _MODIFIER_DEPS and t.pos_ in ("ADJ", "NOUN") and t.is_alpha
                and not t.is_stop and len(t) > 2):
            out.append(t.lemma_.lower())
    opinions = _opinion_words()
    return [p for p in dict.fromkeys(out) if len(p) > 2 and p not in opinions]


def title_only(product: Product) -> bool:
    """Whether the title is all that describes ``product`` (no description, brand,
    categories or attributes)."""
    return not (product.description or product.brand or product.categories
                or product.attributes)


def _text(product: Product) -> str:
    """The text parsed for a product's noun chunks. A title-only product's title is
    lower-cased: in Title Case ("Quilltech Nano 12 Magnetic Fast Charger") the parser reads
    every word as a proper noun and finds no concept, so a catalogue of bare titles got none
    (4 ``about`` edges over 200 products) and its content recommendations no explanation."""
    if title_only(product):
        return f"{product.title.lower()}."
    return f"{'' if stand_in_title(product.attributes) else product.title}. " \
        f"{product.description or ''}"


def product_concepts(
    products: Sequence[Product],
    *,
    nlp: Language | None = None,
    config: NlpConfig | None = None,
    max_df: float = 0.5,
    min_products_for_df: int = 20,
) -> ConceptResult:
    """The ``about`` edges of products, from attributes and (with a parser) noun chunks.

    ``max_df`` applies only to catalogues of at least ``min_products_for_df`` parsed
    products; a product with a :func:`~kg.records.stand_in_title` and no description is not
    parsed, and a :func:`title_only` product's title is parsed lower-cased.
    Without a dependency parser (a blank pipeline) only attribute concepts are made.
    """
    config = config or NlpConfig()
    result = ConceptResult()
    weights: dict[tuple[str, str], tuple[float, ConceptSource]] = {}
    for p in products:
        for name in product_concept_names(p):
            cid = concept_id(name)
            result.names.setdefault(cid, name)
            weights[(f"product:{p.id}", cid)] = (1.0, "attribute")
    if nlp is None:
        from nlp.pipeline import load_pipeline

        nlp = load_pipeline(config).nlp
    if "parser" in nlp.pipe_names:
        chunk_counts: dict[str, Counter[str]] = defaultdict(Counter)
        # a loader's stand-in title (the id) holds no noun phrase worth a concept: parsing
        # Ciao's 105k "Ciao product <id>" took 80 s of CPU
        parsed = [p for p in products if p.description or not stand_in_title(p.attributes)]
        texts = [_text(p) for p in parsed]
        result.truncated = sum(len(t) > config.max_text_chars for t in texts)
        texts = [truncate(t, config.max_text_chars) for t in texts]
        disable = [n for n in nlp.pipe_names if n == "ner"]
        for p, doc in zip(parsed, nlp.pipe(texts, batch_size=config.batch_size,
                                           disable=disable), strict=True):
            for chunk in doc.noun_chunks:
                chunk_counts[f"product:{p.id}"].update(_chunk_phrases(chunk))
        df = Counter(phrase for counts in chunk_counts.values() for phrase in counts)
        limit = max_df * len(parsed) if len(parsed) >= min_products_for_df else float("inf")
        for product, counts in chunk_counts.items():
            for phrase, count in counts.items():
                cid = concept_id(phrase)
                if df[phrase] > limit or (product, cid) in weights:
                    continue
                result.names.setdefault(cid, phrase)
                weights[(product, cid)] = (count / (count + 1), "noun_chunk")
    result.edges = [
        ProductConcept(product, cid, round(w, 4), source)
        for (product, cid), (w, source) in weights.items()
    ]
    return result
