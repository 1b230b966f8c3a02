"""Throughput of the nlp package on this CPU with the default models.

Figures: posts linked per second (``MentionLinker.link``: tokenise, tag, lemmatise, match,
sentence sentiment), lemma-aware (default) and tokenizer-only (``lemma_aware=False``); texts
embedded per second by ``Embedder.embed`` with an empty cache, with a warm cache, and the ratio
of the cold rate to a bare ``SentenceTransformer.encode`` of the same texts (same batch size,
normalised). Timings alternate ours/bare and keep each one's best of ``--repeats`` runs, since
the machine is shared; the load average is recorded with the figures.

Run: HF_HUB_OFFLINE=1 .venv/bin/python bench/nlp_speed.py [--posts 9093] [--texts 1000]
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from nlp_quality import SXSW, SXSW_ALIASES, sxsw_catalogue  # noqa: E402

from kg.atomic import atomic_write_json  # noqa: E402
from nlp.clean import normalise_text  # noqa: E402
from nlp.config import NlpConfig  # noqa: E402
from nlp.embed import Embedder  # noqa: E402
from nlp.linker import MentionLinker  # noqa: E402
from nlp.pipeline import load_pipeline  # noqa: E402


def _rate(n: int, seconds: float) -> float:
    return round(n / seconds, 1)


def bench_linking(texts: list[str]) -> dict:
    """Posts linked per second, lemma-aware and tokenizer-only."""
    loaded = load_pipeline()
    products, _ = sxsw_catalogue()
    out: dict = {"spacy_pipeline": loaded.name, "posts": len(texts)}
    for label, config in (("lemma_aware", NlpConfig()), ("tokenizer_only",
                                                         NlpConfig(lemma_aware=False))):
        linker = MentionLinker.from_catalogue(
            products, nlp=loaded.nlp, config=config, aliases=SXSW_ALIASES)
        linker.link(texts[:200], ["post:x"] * 200)  # warm-up
        start = time.perf_counter()
        mentions = linker.link(texts, [f"post:{i}" for i in range(len(texts))])
        seconds = time.perf_counter() - start
        out[label] = {"posts_per_second": _rate(len(texts), seconds),
                      "mentions": len(mentions), "seconds": round(seconds, 2)}
    return out


def bench_embedding(texts: list[str], repeats: int) -> dict:
    """Texts embedded per second: ours (cold and warm cache) against a bare encode."""
    embedder = Embedder()
    model = embedder.load()
    batch = embedder.config.embed_batch_size
    model.encode(texts[:64], batch_size=batch)  # warm-up
    bare_best = ours_best = float("inf")
    warm = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        model.encode(texts, batch_size=batch, normalize_embeddings=True, convert_to_numpy=True)
        bare_best = min(bare_best, time.perf_counter() - start)
        with tempfile.TemporaryDirectory() as tmp:
            ours = Embedder(model=model, cache_dir=tmp)
            start = time.perf_counter()
            ours.embed(texts)
            ours_best = min(ours_best, time.perf_counter() - start)
            assert ours.calls_ == len(set(texts))
            start = time.perf_counter()
            Embedder(model=model, cache_dir=tmp).embed(texts)  # reads the cache from disk
            warm = time.perf_counter() - start
    return {
        "model": embedder.model_id,
        "texts": len(texts),
        "batch_size": batch,
        "bare_encode_texts_per_second": _rate(len(texts), bare_best),
        "embed_cold_cache_texts_per_second": _rate(len(texts), ours_best),
        "embed_warm_cache_texts_per_second": _rate(len(texts), warm),
        "ratio_ours_to_bare": round(bare_best / ours_best, 3),
        "target_ratio": 0.9,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=9093)
    parser.add_argument("--texts", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    with SXSW.open(encoding="latin-1", newline="") as handle:
        tweets = [normalise_text(r["tweet_text"] or "") for r in csv.DictReader(handle)]
    unique = list(dict.fromkeys(tweets))
    result = {
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "linking": bench_linking(tweets[: args.posts]),
        "embedding": bench_embedding(unique[: args.texts], args.repeats),
    }
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    for section in ("linking", "embedding"):
        print(f"== {section}")
        for k, v in result[section].items():
            print(f"  {k}: {v}")
    print(f"load average before/after: {result['load_average_before']} "
          f"{result['load_average_after']}")
    atomic_write_json(ROOT / "bench" / "results" / "nlp_speed.json", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
