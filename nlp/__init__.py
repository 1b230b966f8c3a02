"""Text enrichment: cleaning, catalogue mention linking with sentiment, concepts, embeddings.

Modules: :mod:`nlp.config` (``NlpConfig``), :mod:`nlp.pipeline` (spaCy with fallback),
:mod:`nlp.clean` (normalise + de-duplicate posts), :mod:`nlp.catalogue_patterns` (the names a
catalogue is mentioned by), :mod:`nlp.linker` (``MentionLinker`` -> ``Mention``),
:mod:`nlp.concepts` (``ProductConcept``), :mod:`nlp.sentiment` (VADER),
:mod:`nlp.sentiment_head` (a learned sentiment classifier), :mod:`nlp.embed` (cached
sentence-transformers embeddings). Importing this package loads no model.
"""

from nlp.clean import CleanReport, CleanResult, clean_posts, normalise_text
from nlp.concepts import ProductConcept, product_concepts
from nlp.config import NlpConfig
from nlp.linker import Mention, MentionLinker

__all__ = [
    "CleanReport",
    "CleanResult",
    "Mention",
    "MentionLinker",
    "NlpConfig",
    "ProductConcept",
    "clean_posts",
    "normalise_text",
    "product_concepts",
]
