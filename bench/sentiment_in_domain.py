"""In-domain sentiment on SXSW: what `train-sentiment` gives a user who labels their own posts.

The SXSW 2011 tweets (../shared/data/sxsw_brand_product_tweets, emotion toward the brand or
product: positive / negative / none = neutral; "I can't tell" left out), 5-fold cross-validated:
each fold is scored by models trained on the other four. Folds are stratified by label and keep
copies of a tweet (same :func:`nlp.clean.canonical_key`: retweets, repeats) together, so no tweet
is scored by a model that saw its copy. Side by side, per fold on the same split:
- the linear head (:class:`nlp.sentiment_head.SentimentHead`, its defaults);
- the fine-tuned encoder (:func:`nlp.sentiment_finetune.fine_tune`, its defaults: 1 epoch).
Figures: macro-F1 over the three classes (target 0.55) and per class. The cross-domain figures
(trained on other people's labelled text, never on SXSW) are ``bench/sentiment_transfer.py``'s.

Run: HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 .venv/bin/python bench/sentiment_in_domain.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from sentiment_transfer import SXSW, macro_f1, print_and_save, sxsw  # noqa: E402

from nlp.clean import canonical_key  # noqa: E402
from nlp.embed import Embedder, default_embed_model  # noqa: E402
from nlp.sentiment_finetune import fine_tune  # noqa: E402
from nlp.sentiment_head import SentimentHead  # noqa: E402


def main() -> int:
    from sklearn.model_selection import StratifiedGroupKFold

    if not SXSW.is_file():
        print(f"skipped: {SXSW} absent")
        return 0
    start = time.perf_counter()
    test = sxsw()
    labels = np.asarray(test.labels)
    groups = [canonical_key(t) for t in test.texts]
    embedder = Embedder(cache_dir=Path(tempfile.gettempdir()) / "shopgraph-bench-embeddings")
    head_pred = np.empty(len(labels), dtype=object)
    tuned_pred = np.empty(len(labels), dtype=object)
    folds = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=0)
    seconds = []
    for k, (train, fold) in enumerate(folds.split(test.texts, labels, groups=groups)):
        texts = [test.texts[i] for i in train]
        scored = [test.texts[i] for i in fold]
        head = SentimentHead().fit(texts, labels[train].tolist(), embedder)
        head_pred[fold] = head.predict(scored, embedder)
        tick = time.perf_counter()
        model, _ = fine_tune(texts, labels[train].tolist(), default_embed_model(),
                             log=lambda line, k=k: print(f"  fold {k} {line}", flush=True))
        tuned_pred[fold] = model.predict(scored)
        seconds.append(round(time.perf_counter() - tick, 1))
        print(f"fold {k}: head {macro_f1(labels[fold].tolist(), head_pred[fold].tolist())}"
              f" fine-tuned {macro_f1(labels[fold].tolist(), tuned_pred[fold].tolist())}",
              flush=True)
    result = {
        "tweets": len(labels),
        "labels": {c: int((labels == c).sum()) for c in ("positive", "negative", "neutral")},
        "folds": "5, stratified, copies of a tweet in one fold, seed 0",
        "head_5fold": macro_f1(test.labels, head_pred.tolist()),
        "fine_tuned_5fold": macro_f1(test.labels, tuned_pred.tolist()),
        "fine_tune_seconds_per_fold": seconds,
        "target_macro_f1": 0.55,
        "seconds": round(time.perf_counter() - start, 1),
    }
    print_and_save(result, "sentiment_in_domain")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
