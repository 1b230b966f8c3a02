"""Unsupervised domain adaptation of the fine-tuned sentiment model to a platform's own posts.

The model fine-tuned on the US-airline tweets (:func:`nlp.sentiment_finetune.fine_tune`, its
defaults) is adapted to a target's unlabelled texts by self-training (:func:`self_train`
below: it labels them, keeps the most confident ``keep`` fraction of each predicted class so the
rare negative class survives, and a copy of it is trained further, gentler lr, on those mixed
with as many airline tweets) and scored on texts it did not adapt on. Each target is
split in two halves by :func:`nlp.clean.canonical_key` groups (copies of a post in one half,
seeded): adapt on half A's texts and score half B, then the reverse; the figure is the mean of
the two directions, beside the non-adapted model on the same halves. Labels of the target are
read only to score.

Targets: ``amazon`` (review titles labelled by stars, as in ``bench/sentiment_transfer.py``):
the check the recipe is chosen on; ``sxsw`` (the SXSW 2011 tweets): the test, scored with few
variants (all reported). ``--seeds`` adds a cheap ensemble: the airline model of each seed, the
probabilities averaged (no adaptation), on the same halves.

Outcome (bench/results/sentiment_adapt.json, means of the two directions): no gain. Amazon:
keep 0.3 / 0.5 / 0.8 gave 0.483 / 0.486 / 0.499 against 0.4995 unadapted; SXSW, the two
variants scored: keep 0.8 0.525 (+0.005 one way, -0.003 the other) and keep 0.5 0.512 against
0.524; two airline seeds averaged: 0.492 (amazon), 0.522 (SXSW). So no adaptation ships in
:mod:`nlp`. Measured with ``--target amazon --variants self_train_keep50 self_train_keep80
self_train_keep30``, ``--target amazon --seeds 2`` and ``--target sxsw --seeds 2 --variants
self_train_keep80 self_train_keep50``.

Trained models are cached under ``--cache`` (by seed), so reruns skip the 4-6 min airline
fine-tune. A run updates, in bench/results/sentiment_adapt.json, the rows it measured (so the
targets can be run one at a time) and keeps the others.

Run: HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 .venv/bin/python bench/sentiment_adapt.py --target amazon
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from sentiment_transfer import (  # noqa: E402
    AIRLINE,
    amazon,
    macro_f1,
    sources_absent,
    sxsw,
)

from kg.atomic import atomic_write_json  # noqa: E402
from nlp.clean import canonical_key  # noqa: E402
from nlp.embed import default_embed_model  # noqa: E402
from nlp.sentiment_data import LabelledTexts, read_labelled  # noqa: E402
from nlp.sentiment_finetune import FineTuneConfig, FineTunedSentiment, fine_tune  # noqa: E402

OUT = ROOT / "bench" / "results" / "sentiment_adapt.json"


def _continue_config() -> FineTuneConfig:
    return FineTuneConfig(lr=2e-5, head_lr=2e-4)


@dataclass(frozen=True, slots=True)
class AdaptConfig:
    """Self-training settings; ``train`` is the continued fine-tuning's (gentler lr)."""

    keep: float = 0.5
    replay: float = 1.0
    train: FineTuneConfig = field(default_factory=_continue_config)


def pseudo_label(proba: np.ndarray, classes: Sequence[str], keep: float) -> tuple[np.ndarray,
                                                                                  list[str]]:
    """Indices and labels of the most confident ``keep`` fraction of each predicted class."""
    if not 0 < keep <= 1:
        raise ValueError(f"keep {keep} outside (0, 1]")
    best = proba.argmax(axis=1)
    picked: list[np.ndarray] = []
    for c in range(len(classes)):
        members = np.flatnonzero(best == c)
        n = int(np.ceil(keep * len(members)))
        picked.append(members[np.argsort(-proba[members, c], kind="stable")[:n]])
    index = np.sort(np.concatenate(picked)) if picked else np.zeros(0, dtype=int)
    return index, [classes[i] for i in best[index]]


def self_train(model: FineTunedSentiment, target_texts: Sequence[str],
               source_texts: Sequence[str], source_labels: Sequence[str],
               config: AdaptConfig) -> tuple[FineTunedSentiment, dict]:
    """``model`` adapted to the unlabelled ``target_texts``; the adapted copy and its stats.

    ``source_texts``/``source_labels`` are the labelled data ``model`` was trained on (the
    replay). ``model`` itself is left unchanged.
    """
    index, labels = pseudo_label(model.predict_proba(target_texts), model.classes_, config.keep)
    n_replay = min(len(source_texts), round(config.replay * len(index)))
    replay = np.random.default_rng(config.train.seed).choice(len(source_texts), size=n_replay,
                                                             replace=False)
    texts = [target_texts[i] for i in index] + [source_texts[i] for i in replay]
    mixed = labels + [source_labels[i] for i in replay]
    adapted, stats = fine_tune(texts, mixed, model, config.train)
    return adapted, {"config": asdict(config), "replayed": n_replay, "training": stats,
                     "pseudo_labelled": {c: labels.count(c) for c in model.classes_}}


VARIANTS = {
    "self_train_keep50": AdaptConfig(keep=0.5),
    "self_train_keep80": AdaptConfig(keep=0.8),
    "self_train_keep30": AdaptConfig(keep=0.3),
}


def halves(texts: list[str], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices of two halves, copies (same canonical key) together, groups assigned at random."""
    keys = [canonical_key(t) for t in texts]
    unique = sorted(set(keys))
    side = dict(zip(unique, np.random.default_rng(seed).permutation(len(unique)) % 2,
                    strict=True))
    flags = np.asarray([side[k] for k in keys])
    return np.flatnonzero(flags == 0), np.flatnonzero(flags == 1)


def airline_model(airline: LabelledTexts, seed: int, cache: Path) -> FineTunedSentiment:
    """The airline fine-tune of ``seed`` (defaults otherwise), from the cache or trained."""
    folder = cache / f"airline-seed{seed}"
    if (folder / "sentiment.json").is_file():
        return FineTunedSentiment.load(folder)
    model, stats = fine_tune(airline.texts, airline.labels, default_embed_model(),
                             FineTuneConfig(seed=seed),
                             log=lambda line: print(f"  airline seed {seed}: {line}", flush=True))
    print(f"  airline seed {seed}: {stats}", flush=True)
    model.save(folder)
    return model


def pick(data: LabelledTexts, index: np.ndarray) -> LabelledTexts:
    """The rows ``index`` of ``data``."""
    return LabelledTexts(data.source, [data.texts[i] for i in index],
                         [data.labels[i] for i in index])


def score(proba: np.ndarray, classes: list[str], gold: list[str]) -> dict:
    """Macro-F1 (and per class) of the argmax."""
    return macro_f1(gold, [classes[i] for i in proba.argmax(1)])


def summary(rows: list[dict]) -> dict:
    """Both directions and the mean macro-F1 of each system in them."""
    systems = [k for k in rows[0] if k not in ("direction", "adaptation")]
    return {"directions": rows,
            "mean_macro": {s: round(float(np.mean([r[s]["macro"] for r in rows])), 4)
                           for s in systems}}


def run_target(name: str, data: LabelledTexts, airline: LabelledTexts, models: list,
               variants: list[str]) -> dict:
    """Non-adapted, seed-averaged and self-trained scores on the halves of ``data``."""
    a, b = halves(data.texts)
    base, classes = models[0], models[0].classes_
    rows = {v: [] for v in ["none", *variants]}
    for label, adapt, test in (("adapt A score B", a, b), ("adapt B score A", b, a)):
        gold = pick(data, test)
        probas = [m.predict_proba(gold.texts) for m in models]
        none = {"direction": label, "airline_model": score(probas[0], classes, gold.labels)}
        if len(models) > 1:
            none[f"seed_average_{len(models)}"] = score(np.mean(probas, 0), classes, gold.labels)
        rows["none"].append(none)
        for variant in variants:
            start = time.perf_counter()
            model, stats = self_train(base, pick(data, adapt).texts, airline.texts,
                                      airline.labels, VARIANTS[variant])
            rows[variant].append({"direction": label, "adaptation": stats,
                                  "airline_model": score(probas[0], classes, gold.labels),
                                  "adapted": score(model.predict_proba(gold.texts), classes,
                                                   gold.labels)})
            print(f"  {name} {variant} {label}: {rows[variant][-1]['adapted']} vs "
                  f"{rows[variant][-1]['airline_model']} "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)
    return {"halves": [len(a), len(b)], "labels": data.counts(),
            **{v: summary(r) for v, r in rows.items()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", choices=("amazon", "sxsw"), required=True)
    parser.add_argument("--variants", nargs="*", default=[], choices=sorted(VARIANTS))
    parser.add_argument("--seeds", type=int, default=1, metavar="N",
                        help="airline models of seeds 0..N-1, averaged in a row (default 1)")
    parser.add_argument("--cache", type=Path,
                        default=Path(tempfile.gettempdir()) / "shopgraph-bench-adapt")
    args = parser.parse_args()
    if sources_absent():
        return 0
    start = time.perf_counter()
    airline = read_labelled(AIRLINE, label_field="airline_sentiment")
    data = amazon() if args.target == "amazon" else sxsw()
    models = [airline_model(airline, seed, args.cache) for seed in range(args.seeds)]
    measured = run_target(args.target, data, airline, models, args.variants)
    result = json.loads(OUT.read_text(encoding="utf-8")) if OUT.is_file() else {}
    previous = result.get(args.target, {})
    result[args.target] = {**previous, **measured,
                           "seconds": round(time.perf_counter() - start, 1)}
    for key, value in result[args.target].items():
        if isinstance(value, dict) and "mean_macro" in value:
            print(f"{args.target} {key}: {value['mean_macro']}")
    atomic_write_json(OUT, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
