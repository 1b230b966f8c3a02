"""The fine-tuned target chooser on a tiny BERT: learns a toy choice, keeps to the candidates,
abstains, round-trips through its folder, names bad input."""

from __future__ import annotations

import pytest

from nlp.finetune import FineTuneConfig
from nlp.target_finetune import FineTunedTargetChooser, fine_tune_chooser

from .test_sentiment_finetune import tiny_bert  # noqa: F401  (the fixture)

TINY = FineTuneConfig(epochs=20, batch_size=8, lr=3e-3, head_lr=3e-2, max_len=16)
TARGETS = {"box": "product:box", "size": "category:size", "tuesday": "event:tuesday"}
FRAMES = ["{}", "love the {}", "hate the {}", "it is {}", "a {}"]


def _data() -> tuple[list[str], list[set[str]], list[str]]:
    texts, candidates, targets = [], [], []
    for n, (word, target) in enumerate(TARGETS.items()):
        other = list(TARGETS.values())[(n + 1) % 3]
        for k, frame in enumerate(FRAMES):
            texts.append(frame.format(word))
            candidates.append(set(TARGETS.values()) if k % 2 else {target, other})
            targets.append(target)
    return texts, candidates, targets


@pytest.fixture(scope="module")
def chooser(tiny_bert):  # noqa: F811
    texts, candidates, targets = _data()
    model, stats = fine_tune_chooser(texts, candidates, targets, tiny_bert, TINY)
    assert stats["classes"] == 3 and stats["texts"] == len(texts)
    return model


def test_learns_which_candidate_a_text_is_about(chooser) -> None:
    texts, candidates, targets = _data()
    chosen = [chooser.choose(t, c) for t, c in zip(texts, candidates, strict=True)]
    assert sum(c == t for c, t in zip(chosen, targets, strict=True)) >= 13  # of 15


def test_shares_cover_only_the_known_candidates(chooser) -> None:
    shares = chooser.confidence("love the box", {"category:size", "event:tuesday", "brand:x"})
    assert set(shares) == {"category:size", "event:tuesday"}
    assert sum(shares.values()) == pytest.approx(1.0, abs=1e-5)
    assert chooser.confidence("love the box", {"brand:x"}) == {}
    assert chooser.choose("love the box", {"brand:x"}) is None
    assert chooser.choose("love the box", set(TARGETS.values()), min_confidence=1.01) is None


def test_round_trip_through_a_safetensors_folder(chooser, tmp_path) -> None:
    chooser.save(tmp_path / "chooser")
    again = FineTunedTargetChooser.load(tmp_path / "chooser")
    texts, candidates, _ = _data()
    for a, b in zip(chooser.confidence_many(texts, candidates),
                    again.confidence_many(texts, candidates), strict=True):
        assert a.keys() == b.keys()
        assert all(a[k] == pytest.approx(b[k], abs=1e-6) for k in a)
    assert not any(p.name.endswith(".pkl") for p in (tmp_path / "chooser").rglob("*"))


def test_bad_input_is_named(chooser, tiny_bert, tmp_path) -> None:  # noqa: F811
    with pytest.raises(ValueError, match=r"target_chooser\.json"):
        FineTunedTargetChooser.load(tiny_bert)
    with pytest.raises(ValueError, match="two distinct targets"):
        fine_tune_chooser(["a box", "the box"], [{"product:box"}] * 2, ["product:box"] * 2,
                          tiny_bert, TINY)
    with pytest.raises(ValueError, match="one each per text"):
        fine_tune_chooser(["a box"], [], ["product:box"], tiny_bert, TINY)
    with pytest.raises(ValueError, match="candidate lists"):
        chooser.confidence_many(["a box"], [])
