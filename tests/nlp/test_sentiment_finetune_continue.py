from __future__ import annotations

import numpy as np
import pytest

from nlp.sentiment_finetune import FineTuneConfig, fine_tune

from .test_sentiment_finetune import TEXTS, tiny_bert  # noqa: F401  (the fixture)

TINY = FineTuneConfig(epochs=20, batch_size=15, lr=3e-3, head_lr=3e-2, max_len=16)


def test_a_fine_tuned_model_is_trained_further_as_a_copy(tiny_bert):  # noqa: F811
    texts = [t for group in TEXTS.values() for t in group]
    labels = [label for label, group in TEXTS.items() for _ in group]
    model, _ = fine_tune(texts, labels, tiny_bert, TINY)
    before = model.predict_proba(texts)
    flipped = {"positive": "negative", "negative": "positive", "neutral": "neutral"}
    again, stats = fine_tune(texts, [flipped[y] for y in labels], model, TINY)
    np.testing.assert_allclose(model.predict_proba(texts), before)  # the original is untouched
    assert again is not model and again.base_model == model.base_model
    assert stats["texts"] == 15
    assert again.predict(["love it", "hate it", "tuesday"]) == ["negative", "positive", "neutral"]
    model.classes_ = ["a", "b", "c"]
    with pytest.raises(ValueError, match=r"the model's classes \['a', 'b', 'c'\] are not"):
        fine_tune(texts, labels, model, TINY)
