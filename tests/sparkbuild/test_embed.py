"""Content vectors computed on the executors equal the in-process encoder's."""

from __future__ import annotations

import numpy as np
import pytest

from nlp.embed import native_bf16
from recommend.hybrid.encoders import SentenceEncoder
from sparkbuild.embed import SparkEncoder

pytestmark = pytest.mark.filterwarnings(
    "ignore:PySpark does not yet fully support pandas:FutureWarning")


def test_spark_encoder_matches_the_sentence_encoder(spark) -> None:
    texts = ["green tea, loose leaf", "a mechanical keyboard", "running socks",
             "moisturiser for dry skin", "tea"]
    got = SparkEncoder(spark, partitions=2).embed(texts)
    want = SentenceEncoder().embed(texts)
    assert got.shape == want.shape == (5, 384)
    if native_bf16():  # bfloat16 products: a row's rounding depends on the batch it is in
        assert ((got * want).sum(axis=1) > 0.9999).all()  # (unit rows; nlp/config.py)
    else:
        np.testing.assert_allclose(got, want, atol=1e-5)
    int8 = SparkEncoder(spark, int8=True, partitions=2).embed(texts)
    # int8 activations are scaled per batch: the partitions' rows are close, not equal (a
    # one-word text alone vs in a batch: cosine 0.945)
    assert ((int8 * SentenceEncoder(int8=True).embed(texts)).sum(axis=1) > 0.9).all()


def test_the_engine_embeds_on_spark_only_for_sentence_transformers(spark) -> None:
    from recommend.hybrid.config import ContentConfig, HybridConfig
    from sparkbuild.engine import SparkEngine

    engine = SparkEngine(spark, "local[2]")
    assert engine.encoder(HybridConfig(content=ContentConfig(encoder="lsa"))) is None
    encoder = engine.encoder(HybridConfig())
    assert isinstance(encoder, SparkEncoder) and not encoder.int8  # the configured default
    assert engine.encoder(HybridConfig(content=ContentConfig(embed_int8=True))).int8
    assert encoder.embed(["tea", "socks"]).shape == (2, 384)
    assert engine.report["embedded_texts"] == 2
