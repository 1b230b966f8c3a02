"""SentenceEncoder.prefetch: the build's background embedding of the catalogue."""

from __future__ import annotations

import hashlib
import os
import threading

import numpy as np
import pytest

from nlp.embed import Embedder, native_bf16
from recommend.hybrid.encoders import SentenceEncoder


class HashModel:
    """A stand-in sentence model: a unit vector from each text's hash; counts the texts and
    the threads it was called from."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.threads: set[str] = set()

    def encode(self, texts, **kwargs):
        self.texts += list(texts)
        self.threads.add(threading.current_thread().name)
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest(), np.uint8)[:8] for t in texts]
        out = np.asarray(rows, np.float32) + 1.0
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def get_embedding_dimension(self) -> int:
        return 8


def encoder() -> tuple[SentenceEncoder, HashModel]:
    model = HashModel()
    return SentenceEncoder(embedder=Embedder(model=model)), model


def test_prefetched_rows_equal_direct_ones_and_are_embedded_once_in_the_background():
    texts = ["red jacket", "trail shoe", "red jacket", "mug"]
    want = encoder()[0].embed(texts)
    enc, model = encoder()
    enc.prefetch(texts)
    got = enc.embed(texts)
    np.testing.assert_array_equal(got, want)
    assert sorted(model.texts) == ["mug", "red jacket", "trail shoe"]  # duplicates once
    assert model.threads == {"shopgraph-prefetch"}
    assert enc.prefetched_ == 4


def test_texts_the_prefetch_missed_are_embedded_then_and_rows_are_used_once():
    enc, model = encoder()
    enc.prefetch(["a", "b"])
    got = enc.embed(["b", "c"])
    np.testing.assert_array_equal(got, encoder()[0].embed(["b", "c"]))
    assert model.texts == ["a", "b", "c"] and enc.prefetched_ == 1
    enc.embed(["a"])  # the prefetched rows are gone after their first use
    assert model.texts[-1] == "a" and enc.prefetched_ == 1


class BrokenModel(HashModel):
    """Fails on the text ``boom``."""

    def encode(self, texts, **kwargs):
        if "boom" in texts:
            raise RuntimeError("boom")
        return super().encode(texts, **kwargs)


def test_a_failed_prefetch_falls_back_to_embedding_and_a_second_one_is_refused():
    enc = SentenceEncoder(embedder=Embedder(model=BrokenModel()))
    enc.prefetch(["boom", "x"])  # the background encode fails, silently
    np.testing.assert_array_equal(enc.embed(["x"]), encoder()[0].embed(["x"]))
    enc.prefetch(["y"])
    with pytest.raises(RuntimeError, match="already running"):
        enc.prefetch(["z"])


def test_the_prefetch_goes_through_the_cache_so_a_rebuild_embeds_only_new_texts(tmp_path):
    texts = ["red jacket", "trail shoe", "mug"]
    first, model = HashModel(), HashModel()
    enc = SentenceEncoder(embedder=Embedder(model=first, cache_dir=tmp_path))
    enc.prefetch(texts)
    want = enc.embed(texts)
    assert sorted(first.texts) == sorted(texts)
    again = SentenceEncoder(embedder=Embedder(model=model, cache_dir=tmp_path))
    again.prefetch([*texts, "kettle"])  # a rebuild: one new product
    np.testing.assert_array_equal(again.embed(texts), want)
    assert model.texts == ["kettle"] and again.prefetched_ == 3


def test_the_build_embeds_ahead_only_for_the_sentence_model():
    from scripts.cli import build_parser
    from scripts.cmd_build import stages_from_args

    args = build_parser().parse_args(["build", "data", "--out", "art"])
    names = [name for name, _ in stages_from_args(args)]
    assert names[0] == "embed-ahead" and names[-1] == "models"
    names = [name for name, _ in stages_from_args(args, encoder=object())]
    assert "embed-ahead" not in names


def test_the_model_a_prefetch_loaded_is_let_go_once_its_rows_are_taken(monkeypatch):
    loads: list[HashModel] = []

    def load(self):
        if self.model_ is None:
            self.model_ = HashModel()
            self._loaded_here = True
            loads.append(self.model_)
        return self.model_

    monkeypatch.setattr(Embedder, "load", load)
    embedder = Embedder()
    enc = SentenceEncoder(embedder=embedder)
    enc.prefetch(["a", "b"])
    np.testing.assert_array_equal(enc.embed(["a", "b"]), encoder()[0].embed(["a", "b"]))
    assert len(loads) == 1 and embedder.model_ is None
    np.testing.assert_array_equal(enc.embed(["c"]), encoder()[0].embed(["c"]))
    assert len(loads) == 2  # loaded again when needed


def test_a_model_given_to_the_embedder_is_never_let_go():
    enc, model = encoder()
    enc.prefetch(["a"])
    enc.embed(["a"])
    assert enc._embedder.model_ is model


class SlowModel(HashModel):
    """A stand-in that takes 20 ms per call."""

    def encode(self, texts, **kwargs):
        import time

        time.sleep(0.02)
        return super().encode(texts, **kwargs)


def test_report_counts_the_texts_the_seconds_and_the_precision():
    model = SlowModel()
    enc = SentenceEncoder(embedder=Embedder(model=model))
    assert enc.report()["texts"] == 0
    enc.prefetch(["a", "b", "a"])
    enc.embed(["a", "b", "c"])
    report = enc.report()
    assert report["texts"] == 3 == len(model.texts)  # a and b ahead, c on demand
    assert report["seconds"]["ahead"] >= 0.02 and report["seconds"]["on_demand"] >= 0.02
    assert report["precision"] == ("bf16" if enc._embedder.bf16_ else "fp32")


def test_the_models_stage_reports_the_sentence_encoders_share(tmp_path):
    from kg.artifact import build_artifact
    from kg.jsonl import write_dataset
    from kg.records import Dataset, Event, Product, User
    from recommend.hybrid.config import HybridConfig
    from recommend.model_stage import model_stage, prefetch_stage

    products = [Product(f"p{i}", f"product {i} in colour {i % 3}") for i in range(12)]
    users = [User(f"u{u}") for u in range(10)]
    events = [Event(f"u{u}", f"p{(u + k) % 12}", "product", "purchase", ts=1e9 + 60.0 * k)
              for u in range(10) for k in range(4)]
    write_dataset(Dataset(products=products, users=users, events=events), tmp_path / "data")
    model = SlowModel()
    enc = SentenceEncoder(embedder=Embedder(model=model))
    config = HybridConfig(components=("cf", "content", "popularity"))
    manifest = build_artifact(tmp_path / "data", tmp_path / "art", progress=False, stages=[
        ("embed-ahead", prefetch_stage(enc)), ("models", model_stage(config, encoder=enc))])
    report = manifest["stages"]["models"]["encoder"]
    assert report["texts"] == len(model.texts) == 12 and report["seconds"]["ahead"] >= 0.02


def test_bf16_can_be_turned_off():
    assert not SentenceEncoder(bf16=False)._load().bf16_
    assert SentenceEncoder()._load().bf16_ == native_bf16()


def test_the_configured_word_piece_limit_reaches_the_sentence_model():
    import pytest

    from recommend.hybrid.config import ContentConfig, HybridConfig
    from recommend.hybrid.model import make_encoder

    enc = make_encoder(HybridConfig(content=ContentConfig(embed_max_tokens=96)))
    assert enc.max_tokens == 96 and enc._load().config.embed_max_tokens == 96
    assert make_encoder(HybridConfig()).max_tokens == 64  # the default cap
    unbounded = HybridConfig(content=ContentConfig(embed_max_tokens=None))
    assert make_encoder(unbounded).max_tokens is None
    with pytest.raises(ValueError, match="embed_max_tokens"):
        HybridConfig(content=ContentConfig(embed_max_tokens=4))


def test_make_encoder_keeps_the_configs_word_piece_cap_with_a_cache(tmp_path) -> None:
    """A bench's cached encoder embeds as the build does: the config's cap and a cache."""
    from recommend.hybrid.config import ContentConfig, HybridConfig
    from recommend.hybrid.model import make_encoder

    enc = make_encoder(HybridConfig(content=ContentConfig(embed_max_tokens=64)), cache_dir=tmp_path)
    embedder = enc._load()
    assert embedder.config.embed_max_tokens == 64
    assert embedder.model_id.endswith("64") and embedder.cache_ is not None


def test_the_build_keeps_the_sentence_vectors_where_embed_cache_says(tmp_path):
    from scripts.cli import build_parser
    from scripts.cmd_build import stages_from_args

    args = build_parser().parse_args(["build", "data", "--out", "art"])
    assert args.embed_cache is None  # no cache unless asked
    args = build_parser().parse_args(["build", "data", "--out", "art",
                                      "--embed-cache", str(tmp_path)])
    prefetch = dict(stages_from_args(args))["embed-ahead"]
    encoders = [c.cell_contents for c in prefetch.__closure__
                if isinstance(c.cell_contents, SentenceEncoder)]
    assert [e.cache_dir for e in encoders] == [tmp_path]


def test_embed_takes_chunks_of_a_prefetch_still_running_instead_of_waiting():
    import time

    texts = [f"product {i}" for i in range(1024)]  # four chunks
    model = SlowModel()
    enc = SentenceEncoder(embedder=Embedder(model=model))
    enc.prefetch(texts)
    time.sleep(0.01)
    got = enc.embed(texts)
    np.testing.assert_array_equal(got, encoder()[0].embed(texts))
    by_thread = enc.report()["prefetch_texts_by_thread"]
    assert by_thread.get("MainThread", 0) > 0 and sum(by_thread.values()) == 1024
    assert sorted(model.texts) == sorted(texts) and enc.prefetched_ == 1024
    assert model.threads == {"MainThread", "shopgraph-prefetch"}


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: every count is one")
def test_a_thread_that_helps_a_prefetch_keeps_its_own_torch_thread_count():
    """torch fixes a thread's count when it first runs torch, from the last count set by any
    thread: a thread first running torch as it helped would keep the prefetch's count (and
    FAISS, which then runs on torch's OpenMP, would search on fewer threads)."""
    import time

    import torch

    seen: dict[str, int] = {}

    def build() -> None:  # a fresh thread, as the build's main thread is: no torch run yet
        enc = SentenceEncoder(embedder=Embedder(model=SlowModel()))
        enc.prefetch([f"product {i}" for i in range(1024)])
        time.sleep(0.01)
        enc.embed([f"product {i}" for i in range(1024)])
        seen["after"] = torch.get_num_threads()
        seen["helped"] = enc.report()["prefetch_texts_by_thread"].get("builder", 0)

    thread = threading.Thread(target=build, name="builder")
    thread.start()
    thread.join()
    assert seen["helped"] > 0 and seen["after"] == torch.get_num_threads()
