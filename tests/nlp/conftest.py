"""Fixtures of the nlp tests: one spaCy pipeline and one embedding model per session."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def spacy_nlp():
    """The default pipeline (the packaged en_core_web_sm), loaded once."""
    from nlp.pipeline import load_pipeline

    return load_pipeline().nlp


@pytest.fixture(scope="session")
def st_model():
    """The default sentence-transformers model, loaded once."""
    from nlp.embed import Embedder

    return Embedder().load()
