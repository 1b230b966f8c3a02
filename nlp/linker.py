"""Linking mentions of catalogue products, brands, categories and concepts in text.

The rule part of an entity ruler, run beside the pipeline rather than inside it: three
``PhraseMatcher``s over the catalogue's names, on the lower-cased surface (exact forms and the
compact forms of hashtags), on lower-cased lemmas (``iPhones`` -> ``iphone``), and on the
exact text of one-word model names (``Dew``, not ``dew``); their matches are resolved
longest-first with ``spacy.util.filter_spans`` as an ``EntityRuler``
does. Keeping the matchers outside the pipeline means a shared ``nlp`` is never modified and
several linkers can use one loaded pipeline. Parser and NER are disabled while linking.
With ``NlpConfig(lemma_aware=False)``, or a pipeline without a lemmatizer, the lemma key is
the lower-cased word with an English plural suffix stripped: tokenizer-only and much faster.
A hashtag's mention includes its ``#``; an @handle or #tag that starts with a brand's name
(``@korvexrun``, ``#nikerunning``) and matched nothing else mentions that brand. A lemma match
counts only on a noun ("cans" is not the "Ca" of "Can't"); a name written with other word breaks
("water proof", "shock-proof") matches too; a model name several products share is resolved
by a brand, or else a leaf category, the same text names. Each mention carries the sentiment
of its sentence: VADER, or the trained head ``NlpConfig.sentiment_head`` names
(:meth:`nlp.sentiment.SentimentScorer.from_config`), the sentences of one :meth:`link` call
scored in one batch.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kg.records import Product
from kg.schema import brand_id, category_id
from nlp.catalogue_patterns import CatalogueNames, catalogue_names
from nlp.clean import truncate
from nlp.config import NlpConfig
from nlp.sentiment import SentimentScorer

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Token

#: Pipes that lemmas need; everything else is disabled while linking.
_LEMMA_PIPES = ("tok2vec", "tagger", "morphologizer", "attribute_ruler", "lemmatizer")
_PLURAL_TAGS = frozenset({"NNS", "NNPS", "NNP"})  # the tagger calls "Korvexes" NNP
_COMPACT = re.compile(r"[\W_]+")


@dataclass(frozen=True, slots=True)
class Mention:
    """``source`` (e.g. ``post:9``) mentions ``target`` at ``text[start:end]``, with sentiment."""

    source: str
    target: str
    start: int
    end: int
    text: str
    sentiment: float


def _singular(word: str) -> str:
    """English plural -> singular for words the lemmatizer leaves alone (proper nouns)."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _suffix_norm(token: Token) -> str:
    """The key of a token without a lemmatizer: lower-cased, plural suffix stripped, no @/#."""
    return _singular(token.lower_.lstrip("@#") or token.lower_)


def _lemma_norm(token: Token) -> str:
    """The lemma key of a token: lower-cased lemma, plural proper nouns singular, no @/#."""
    text = token.lower_.lstrip("@#") or token.lower_
    lemma = token.lemma_.lower().lstrip("@#") if token.lemma_ else text
    if token.tag_ in _PLURAL_TAGS and (lemma == text or token.text[:1].isupper()):
        lemma = _singular(text)  # a name the lemmatizer does not know: "Korvexes" -> "korvexe"
    return lemma or text


class MentionLinker:
    """Finds catalogue mentions in texts.

    >>> from kg.records import Product
    >>> linker = MentionLinker.from_catalogue([Product("1", "iPad", brand="Apple")])
    >>> [m.target for m in linker.link(["Two #ipads from @Apple"], ["post:1"])]
    ['product:1', 'brand:apple']
    """

    def __init__(
        self,
        names: CatalogueNames,
        *,
        nlp: Language,
        config: NlpConfig | None = None,
        scorer: SentimentScorer | None = None,
        brand_of: Mapping[str, str] | None = None,
        category_of: Mapping[str, str] | None = None,
        min_prefix: int = 4,
        min_joined: int = 6,
    ) -> None:
        from spacy.matcher import PhraseMatcher
        from spacy.pipeline import Sentencizer

        self.names = names
        self.nlp = nlp
        self.config = config or NlpConfig()
        self.min_prefix = min_prefix
        self.brand_of = dict(brand_of or {})
        self.category_of = dict(category_of or {})
        self.scorer = scorer or SentimentScorer.from_config(self.config)
        keep = _LEMMA_PIPES if self.config.lemma_aware else ()
        self.disabled_ = [p for p in nlp.pipe_names if p not in keep]
        self.lemma_aware_ = self.config.lemma_aware and "lemmatizer" in nlp.pipe_names
        self._sentencizer = Sentencizer()
        self._surface = PhraseMatcher(nlp.vocab, attr="LOWER")
        self._lemma = PhraseMatcher(nlp.vocab, attr="NORM")
        self._exact = PhraseMatcher(nlp.vocab, attr="ORTH")  # one-word model names: "Dew"
        self._targets: dict[int, str] = {}
        # "@korvexrun", "#nikerunning": a handle or tag starting with a brand's name is the brand
        prefixes = {_COMPACT.sub("", n.text.casefold()): n.target for n in names.names
                    if n.kind == "brand"}
        self._brand_prefixes = sorted(
            ((k, t) for k, t in prefixes.items() if len(k) >= min_prefix), key=lambda kt:
            -len(kt[0]))
        # "water proof", "shock-proof", "non slip": a name written with other word breaks
        self._joined = {key: n.target for n in names.names if not n.case_sensitive
                        and n.kind not in ("short", "typo")
                        and len(key := _COMPACT.sub("", n.text.casefold())) >= min_joined}
        # A name several products share ("Volt Pro" of two brands) is linked when exactly one
        # of its products is of a brand the same text mentions, or else of a leaf category it
        # mentions.
        self._ambiguous: dict[int, tuple[str, ...]] = {}
        self._shared = PhraseMatcher(nlp.vocab, attr="LOWER")
        for key, targets in names.ambiguous.items():
            if all(t.startswith("product:") for t in targets):
                self._ambiguous[nlp.vocab.strings.add(f"shared:{key}")] = targets
                self._shared.add(f"shared:{key}", [nlp.make_doc(key)])
        texts = [n.text for n in names.names]
        for name, doc in zip(names.names, self._docs(texts, progress=False), strict=True):
            key = nlp.vocab.strings.add(name.target)
            self._targets[key] = name.target
            if name.case_sensitive:
                self._exact.add(name.target, [nlp.make_doc(name.text)])
                continue
            self._surface.add(name.target, [nlp.make_doc(name.text)])
            self._lemma.add(name.target, [doc])

    @classmethod
    def from_catalogue(
        cls,
        products: Iterable[Product],
        *,
        nlp: Language | None = None,
        config: NlpConfig | None = None,
        concepts: Iterable[str] = (),
        aliases: Mapping[str, Iterable[str]] | None = None,
    ) -> MentionLinker:
        """A linker for the products' titles, short forms, brands, categories and concepts.

        ``nlp`` defaults to :func:`nlp.pipeline.load_pipeline` of ``config``.
        """
        config = config or NlpConfig()
        if nlp is None:
            from nlp.pipeline import load_pipeline

            nlp = load_pipeline(config).nlp
        products = list(products)
        names = catalogue_names(
            products, concepts=concepts, aliases=aliases, categories=config.link_categories,
            attribute_concepts=config.link_attribute_concepts)
        brand_of = {f"product:{p.id}": brand_id(p.brand) for p in products if p.brand}
        category_of = {f"product:{p.id}": category_id(p.categories) for p in products
                       if p.categories}
        return cls(names, nlp=nlp, config=config, brand_of=brand_of, category_of=category_of)

    def _docs(self, texts: Sequence[str], *, progress: bool = True) -> Iterable[Doc]:
        from tqdm import tqdm

        docs = self.nlp.pipe(texts, batch_size=self.config.batch_size, disable=self.disabled_)
        shown = progress and len(texts) >= 10_000
        for doc in tqdm(docs, total=len(texts), desc="linking", disable=not shown):
            norm = _lemma_norm if self.lemma_aware_ else _suffix_norm
            for token in doc:
                token.norm_ = norm(token)
            yield doc

    def _matches(self, doc: Doc) -> dict[tuple[int, int], str]:
        """Matches (token start, end) -> target ("" for a shared name no brand resolves)."""
        found = {(s, e): self._targets[k] for k, s, e in self._lemma(doc)
                 if not self.lemma_aware_ or doc[e - 1].tag_.startswith("NN")}  # "Can't": no
        found |= {(s, e): self._targets[k] for k, s, e in [*self._surface(doc), *self._exact(doc)]}
        covered = {i for s, e in found for i in range(s, e)}
        for token in doc:
            tagged = token.i and doc[token.i - 1].text == "#" and not doc[token.i - 1].whitespace_
            if token.i in covered or not (tagged or token.text.startswith("@")):
                continue
            body = _COMPACT.sub("", token.lower_)
            for key, target in self._brand_prefixes:
                if body.startswith(key):
                    found[(token.i, token.i + 1)] = target
                    break
        for (s, e), target in self._joined_matches(doc).items():
            found.setdefault((s, e), target)
        if self._ambiguous:
            named = set(found.values())
            for k, s, e in self._shared(doc):
                fits = [t for t in self._ambiguous[k] if self.brand_of.get(t) in named]
                if len(fits) != 1:  # no brand, or several: a category the text names
                    fits = [t for t in fits or self._ambiguous[k]
                            if self.category_of.get(t) in named]
                one_word = e - s == 1 and not doc[s].text[:1].isupper()
                if not one_word:  # unresolved, it still hides the shorter names inside it
                    found[(s, e)] = fits[0] if len(fits) == 1 else ""
        return found

    def _joined_matches(self, doc: Doc, *, longest: int = 3) -> dict[tuple[int, int], str]:
        """Spans of 2..``longest`` words, joined by a space or a hyphen, that spell a name
        without its word breaks (``light weight`` = ``lightweight``) or with other ones."""
        out: dict[tuple[int, int], str] = {}
        words = [t.is_alpha or t.is_digit for t in doc]
        for s in range(len(doc)):
            if not words[s]:
                continue
            key, e, n = doc[s].lower_, s + 1, 1
            while e < len(doc) and n < longest:
                hyphen = (doc[e].text == "-" and not doc[e - 1].whitespace_
                          and not doc[e].whitespace_ and e + 1 < len(doc) and words[e + 1])
                if hyphen:
                    e += 1
                elif not (words[e] and doc[e - 1].whitespace_ == " "):
                    break
                key, e, n = key + doc[e].lower_, e + 1, n + 1
                if (target := self._joined.get(key)) is not None:
                    out[(s, e)] = target
        return out

    def link(self, texts: Sequence[str], sources: Sequence[str], *, progress: bool = True
             ) -> list[Mention]:
        """The mentions in each text, with ``sources[i]`` as the source of text i's mentions
        (``progress``: a bar over 10,000 texts or more).

        Spans are character offsets into the given text; overlapping matches keep the longest.
        Only the first ``config.max_text_chars`` characters of a text are read
        (:func:`nlp.clean.truncate`).
        """
        from spacy.util import filter_spans

        if len(texts) != len(sources):
            raise ValueError(f"{len(texts)} texts but {len(sources)} sources")
        found_at: list[tuple[str, str, int, int, str, str]] = []  # ..., text, its sentence
        limit = self.config.max_text_chars
        clean = [truncate(t, limit) if isinstance(t, str) else "" for t in texts]
        for doc, source in zip(self._docs(clean, progress=progress), sources, strict=True):
            found = self._matches(doc)
            if not found:
                continue
            spans = filter_spans([doc[s:e] for s, e in found])
            self._sentencizer(doc)
            sentences = list(doc.sents)
            starts = [s.start for s in sentences]
            # Doc.text and Span.text join their tokens anew on every read: once each here
            # (a 20k-character post naming a product 2,000 times in one sentence took 3.8 s)
            text, said = doc.text, [""] * len(sentences)
            for span in spans:
                target = found[(span.start, span.end)]
                if not target:
                    continue
                start = span.start_char
                if span.start and doc[span.start - 1].text == "#" and not doc[
                        span.start - 1].whitespace_:
                    start -= 1  # a hashtag: the mention is "#word"
                at = bisect_right(starts, span.start) - 1
                said[at] = said[at] or sentences[at].text
                found_at.append((source, target, start, span.end_char, text[start:span.end_char],
                                 said[at]))
        unique = list(dict.fromkeys(f[5] for f in found_at))
        feeling = dict(zip(unique, self.scorer.score_many(unique), strict=True))
        return [Mention(source=source, target=target, start=start, end=end, text=text,
                        sentiment=feeling[sentence])
                for source, target, start, end, text, sentence in found_at]
