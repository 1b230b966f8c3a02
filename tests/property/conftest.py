"""The property tests build hundreds of datasets in one process: each build's nlp stage would
load the same spaCy pipeline again (31% of the any-dataset test's time, after the collector's
walks were kept to each build's own objects). Here it is loaded once per configuration and
test module (the patch ends with the module: tests elsewhere load it as users do); every build
still runs it."""

from __future__ import annotations

import functools
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="module", autouse=True)
def one_spacy_pipeline_per_config() -> Iterator[None]:
    import nlp.pipeline

    patch = pytest.MonkeyPatch()
    patch.setattr(nlp.pipeline, "load_pipeline", functools.cache(nlp.pipeline.load_pipeline))
    yield
    patch.undo()
