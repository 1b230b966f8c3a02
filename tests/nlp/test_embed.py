from __future__ import annotations

import re

import numpy as np
import pytest

from nlp.config import NlpConfig
from nlp.embed import (
    BF16_SUFFIX,
    Embedder,
    EmbeddingCache,
    default_embed_model,
    native_bf16,
    text_key,
)
from recommend.hybrid.config_sections import ContentConfig


class CountingModel:
    """The real model, counting the texts it is asked to encode."""

    def __init__(self, model) -> None:
        self.model = model
        self.texts: list[str] = []

    def encode(self, texts, **kwargs):
        self.texts += list(texts)
        return self.model.encode(texts, **kwargs)

    def get_embedding_dimension(self) -> int:
        return 384


@pytest.fixture
def counting(st_model):
    return CountingModel(st_model)


def test_vectors_are_unit_length_and_match_bare_encode(st_model, counting, tmp_path):
    texts = ["red leather jacket", "a waterproof trail shoe", "red leather jacket"]
    fp32 = NlpConfig(embed_bf16=False)  # the model's own products: equal to a bare encode
    vectors = Embedder(fp32, model=counting, cache_dir=tmp_path).embed(texts)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    bare = st_model.encode(texts, normalize_embeddings=True)
    np.testing.assert_allclose(vectors, bare, atol=1e-5)
    assert counting.texts == texts[:2]  # the duplicate is embedded once
    assert vectors[0] @ vectors[1] < 0.9


def test_unchanged_corpus_is_never_embedded_twice(st_model, tmp_path):
    corpus = [f"post number {i} about shoes" for i in range(100)]
    first = CountingModel(st_model)
    before = Embedder(model=first, cache_dir=tmp_path).embed(corpus)
    assert len(first.texts) == 100

    again = CountingModel(st_model)  # a new process: cache read back from disk
    rebuilt = Embedder(model=again, cache_dir=tmp_path)
    np.testing.assert_array_equal(rebuilt.embed(corpus), before)
    assert again.texts == [] and rebuilt.hits_ == 100

    grown = CountingModel(st_model)
    added = [*corpus, "a brand new post about scarves"]  # 1% new
    vectors = Embedder(model=grown, cache_dir=tmp_path).embed(added)
    assert grown.texts == ["a brand new post about scarves"]
    np.testing.assert_array_equal(vectors[:100], before)


def test_another_model_name_does_not_reuse_vectors(st_model, tmp_path):
    path = default_embed_model()
    Embedder(model=CountingModel(st_model), cache_dir=tmp_path).embed(["hello"])
    other = CountingModel(st_model)
    config = NlpConfig(embed_model=path + "/")  # another model id
    Embedder(config, model=other, cache_dir=tmp_path).embed(["hello"])
    assert other.texts == ["hello"]
    assert text_key(path, "hello") != text_key(path + "/", "hello")


def test_cache_shards_are_safe_npz_and_compact(st_model, tmp_path):
    embedder = Embedder(model=CountingModel(st_model), cache_dir=tmp_path)
    embedder.embed(["one", "two"])
    embedder.embed(["three"])
    folder = embedder.cache_.folder
    assert len(list(folder.glob("shard-*.npz"))) == 2
    embedder.cache_.compact()
    assert len(list(folder.glob("shard-*.npz"))) == 1
    with np.load(next(folder.glob("shard-*.npz")), allow_pickle=False) as data:
        assert data["vectors"].shape == (3, 384)
    assert len(EmbeddingCache(folder)) == 3


def test_any_script_empty_and_long_text_embed(st_model, tmp_path):
    texts = ["我喜欢这件红色的外套", "أحب هذا المعطف الأحمر", "🔥🔥🔥", "", "shoe " * 5000]
    vectors = Embedder(model=CountingModel(st_model), cache_dir=tmp_path).embed(texts)
    assert vectors.shape == (5, 384)
    assert np.isfinite(vectors).all()
    assert Embedder(model=st_model).embed([]).shape == (0, 384)


def test_an_int8_embedder_quantises_the_linear_layers_and_keys_its_vectors_apart(st_model):
    import torch

    texts = ["red leather jacket", "a waterproof trail shoe", "stainless steel water bottle"]
    int8 = Embedder(NlpConfig(embed_int8=True))
    plain = Embedder(model=st_model)
    assert int8.model_id != plain.model_id
    assert text_key(int8.model_id, texts[0]) != text_key(plain.model_id, texts[0])
    got, want = int8.embed(texts), plain.embed(texts)
    layers = [m for m in int8.load().modules() if isinstance(m, torch.nn.Linear)]
    assert not layers  # every Linear was replaced by its dynamically quantised form
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, rtol=1e-5)
    cosine = (got * want).sum(axis=1)
    assert cosine.min() > 0.95 and cosine.max() < 1 - 1e-6  # close, yet not the fp32 rows
    assert got[0] @ got[1] < 0.9
    alone = int8.encode(texts[:1])[0]  # activations are scaled per batch: close, not equal
    assert 0.95 < alone @ got[0] < 1 - 1e-6


def test_int8_is_for_the_cpu_only():
    assert not Embedder(NlpConfig(embed_int8=True, embed_device="cuda")).int8_


@pytest.mark.skipif(not native_bf16(), reason="this CPU has no native bfloat16")
def test_a_bf16_embedder_stays_at_cosine_one_to_fp32_and_keys_its_vectors_apart(st_model):
    texts = ["red leather jacket", "a waterproof trail shoe", "stainless steel water bottle",
             "Nimbix Echo Wireless Headphones. Brand: Nimbix. Category: Electronics > Audio."]
    bf16 = Embedder(model=st_model)  # the default where the CPU has it
    fp32 = Embedder(NlpConfig(embed_bf16=False), model=st_model)
    assert bf16.bf16_ and bf16.model_id == fp32.model_id + BF16_SUFFIX
    got, want = bf16.encode(texts), fp32.encode(texts)
    assert got.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, rtol=1e-5)
    cosine = (got * want).sum(axis=1)
    assert cosine.min() > 0.9999 and np.abs(got - want).max() > 0  # close, yet bf16 ran
    alone = bf16.encode(texts[-1:])[0]  # a text's vector hardly depends on its batch
    assert alone @ got[-1] > 0.9999


def test_bf16_only_on_a_cpu_that_has_it_and_never_with_int8(monkeypatch):
    assert not Embedder(NlpConfig(embed_int8=True)).bf16_
    assert not Embedder(NlpConfig(embed_device="cuda")).bf16_
    monkeypatch.setattr("nlp.embed.native_bf16", lambda: False)
    emulated = Embedder()
    assert not emulated.bf16_ and not emulated.model_id.endswith(BF16_SUFFIX)


def test_a_word_piece_limit_cuts_long_texts_only_and_keys_its_vectors_apart(st_model):
    short = "red leather jacket"
    long = ("Nimbix Echo Wireless Headphones. Brand: Nimbix. Category: Electronics > Audio > "
            "Headphones. colour: olive; material: aluminium; style: foldable. " * 4)
    fp32 = NlpConfig(embed_bf16=False)
    full = Embedder(fp32, model=st_model)
    cut = Embedder(NlpConfig(embed_bf16=False, embed_max_tokens=16), model=st_model)
    assert cut.model_id == full.model_id + "#max16"
    assert text_key(cut.model_id, short) != text_key(full.model_id, short)
    got, want = cut.encode([short]), full.encode([short])
    np.testing.assert_allclose(got, want, atol=1e-6)  # under the limit: the same vector
    got, want = cut.encode([long]), full.encode([long])
    assert got[0] @ want[0] < 1 - 1e-4  # over it: the text was cut
    np.testing.assert_allclose(got, Embedder(fp32, model=st_model).encode([long[:90]]),
                               atol=0.05)  # close to the text's beginning alone
    assert st_model.max_seq_length == 256  # the model's own setting is back


def test_a_limit_at_or_above_the_models_own_shares_the_uncapped_key(st_model):
    long = "a waterproof trail shoe with a grippy sole and a padded collar " * 40
    fp32 = NlpConfig(embed_bf16=False)
    full = Embedder(fp32, model=st_model)
    for limit in (256, 300):  # all-MiniLM-L6-v2 reads 256 word pieces by itself
        same = Embedder(NlpConfig(embed_bf16=False, embed_max_tokens=limit), model=st_model)
        assert same.max_tokens_ is None and same.model_id == full.model_id
        np.testing.assert_array_equal(same.encode([long]), full.encode([long]))
    below = Embedder(NlpConfig(embed_bf16=False, embed_max_tokens=255), model=st_model)
    assert below.max_tokens_ == 255 and below.model_id == full.model_id + "#max255"


def test_the_default_models_limit_is_read_without_loading_it():
    plain = Embedder()
    same = Embedder(NlpConfig(embed_max_tokens=256))
    cut = Embedder(NlpConfig(embed_max_tokens=64))
    assert same.model_id == plain.model_id and cut.model_id == plain.model_id + "#max64"
    assert plain.model_ is same.model_ is cut.model_ is None  # keys known, nothing loaded


def test_a_model_without_the_setting_is_not_capped_nor_keyed_as_capped(st_model, counting):
    # CountingModel has no max_seq_length: the cap cannot reach it, so the key says so
    texts = ["red leather jacket " * 60]
    fp32 = NlpConfig(embed_bf16=False)
    asked = Embedder(NlpConfig(embed_bf16=False, embed_max_tokens=16), model=counting)
    assert asked.max_tokens_ is None
    assert asked.model_id == Embedder(fp32, model=counting).model_id
    np.testing.assert_allclose(asked.encode(texts),
                               st_model.encode(texts, normalize_embeddings=True), atol=1e-6)


def test_a_folder_without_a_written_limit_asks_the_model(tmp_path, monkeypatch):
    class Model:
        max_seq_length = 512

    monkeypatch.setattr(Embedder, "load", lambda self: Model())
    folder = NlpConfig(embed_model=str(tmp_path), embed_max_tokens=16, embed_bf16=False)
    assert Embedder(folder).model_id == f"{tmp_path}#max16"
    Model.max_seq_length = 12  # the cap is above it: nothing to cut
    assert Embedder(folder).model_id == str(tmp_path)
    (tmp_path / "sentence_bert_config.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match=r"sentence_bert_config\.json: not a sentence-"):
        Embedder(folder)


@pytest.mark.parametrize(("config", "owner"), [(NlpConfig, "NlpConfig"),
                                               (ContentConfig, "HybridConfig.content")])
@pytest.mark.parametrize("bad", [0, 7, 2.5, True, "64"])
def test_a_word_piece_limit_must_be_a_whole_number_of_at_least_8(config, owner, bad):
    # one check for both configs (nlp.config.check_embed_max_tokens): the same rule and words
    with pytest.raises(ValueError, match=rf"^{re.escape(owner)}\.embed_max_tokens must be None "
                       rf"or an integer >= 8, got {re.escape(repr(bad))}$"):
        config(embed_max_tokens=bad)
    assert config(embed_max_tokens=8).embed_max_tokens == 8
    assert config(embed_max_tokens=None).embed_max_tokens is None


class TinyModel:
    """A stand-in model (two-number unit rows from the text), recording what it encodes."""

    max_seq_length = 256

    def __init__(self) -> None:
        self.texts: list[str] = []

    def encode(self, texts, **kwargs):
        self.texts += list(texts)
        rows = np.array([[len(t), 1.0 + t.count("a")] for t in texts], dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    def get_embedding_dimension(self) -> int:
        return 2


def test_an_embedder_takes_rows_another_one_cached_after_it_started(tmp_path):
    """A served writer embeds new products into the state folder's cache for its readers,
    whose embedders were made before: they read the new shard, and encode nothing."""
    config = NlpConfig(embed_bf16=False)
    reader_model = TinyModel()
    reader = Embedder(config, model=reader_model, cache_dir=tmp_path)
    reader.embed(["old text"])
    written = Embedder(config, model=TinyModel(), cache_dir=tmp_path).embed(["a new product"])
    got = reader.embed(["a new product", "old text"])
    assert reader_model.texts == ["old text"]
    np.testing.assert_array_equal(got[0], written[0])
