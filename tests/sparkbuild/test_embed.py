"""Content vectors computed on the executors equal the in-process encoder's."""

from __future__ import annotations

import numpy as np
import pytest

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
    np.testing.assert_allclose(got, want, atol=1e-5)
