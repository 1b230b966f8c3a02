"""Text enrichment: cleaning, catalogue mention linking with sentiment, concepts, embeddings.

Modules: :mod:`nlp.config` (``NlpConfig``), :mod:`nlp.pipeline` (spaCy with fallback),
:mod:`nlp.clean` (normalise + de-duplicate posts), :mod:`nlp.catalogue_patterns` (the names a
catalogue is mentioned by), :mod:`nlp.linker` (``MentionLinker`` -> ``Mention``),
:mod:`nlp.concepts` (``ProductConcept``), :mod:`nlp.sentiment` (VADER, or a learned model),
:mod:`nlp.sentiment_head` (a linear sentiment head over embeddings), :mod:`nlp.finetune` (the
fine-tuned encoder core) with :mod:`nlp.sentiment_finetune` and :mod:`nlp.target_finetune`,
:mod:`nlp.target_chooser` (the one target a post is about), :mod:`nlp.embed` (cached
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
