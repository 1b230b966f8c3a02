"""Mention-linking and sentiment quality of the nlp package on text no one here wrote.

1. SXSW 2011 tweets (../shared/data/sxsw_brand_product_tweets), crowd-labelled with the one
   product or brand each tweet's emotion is directed at, and that emotion.
   The bench catalogue is built from the label names alone: the labels' products (iPad,
   iPhone, Android), their brands (Apple, Google), the app categories of the labels "iPad or
   iPhone App" / "Android App", and, for the labels "Other Apple/Google product or service",
   the two companies' well-known products of 2011 (listed below, written from general
   knowledge, not mined from the tweets). Each linked node maps back to one label.

   Scoring is at tweet level, on the tweets that carry a label (the crowd was asked for a
   target only when the tweet had an emotion, so an empty label says "not asked", not "no
   mention": those tweets are not scored for linking). Per tweet the linker's *primary*
   target is its most specific mention (an app category, then a product, then a brand;
   ties: most frequent, then first). Precision = primary correct / tweets with any link;
   recall = primary correct / labelled tweets. Also reported: recall of the label among all
   linked targets; precision on the tweets whose links all map to one label (no choice
   of target to make: a wrong label there is a wrong or missing link); and precision/recall
   of the brand family (Apple vs Google).
   Sentiment: macro-F1 over positive/negative/neutral of the primary mention's sentiment
   (the whole tweet's VADER score when nothing is linked) against the emotion label
   ("No emotion toward brand or product" = neutral; "I can't tell" left out).

   Learned sentiment models (trained on other people's labelled tweets, or on SXSW itself
   in cross-validation) are measured by ``bench/sentiment_transfer.py`` and
   ``bench/sentiment_in_domain.py``.

   The learned target chooser (``nlp.target_chooser``): 5-fold cross-validated within
   SXSW (fitted on four folds, scored on the fifth; copies of a tweet, such as retweets, kept
   in one fold), in four variants: generic features only; with a learned prior per target;
   with candidates widened to related targets (``sxsw_related``: a product's brand, iOS or
   Android apps for a platform, a brand's "other product or service" node), which lifts the
   share of tweets whose label is among the candidates from 0.83 to 0.98; and with the
   tweet's words too. Each is scored answering always and abstaining below a confidence
   threshold picked on the training folds (inner 4-fold) for precision 0.90. These are
   in-domain figures of a model fitted on SXSW labels, not of the rule-based linker. The
   fine-tuned encoder that chooses instead (``nlp.target_finetune``) is measured on the same
   folds by ``bench/chooser_finetune.py`` (15 fine-tunes a seed: too slow for this script).

2. The demo world's gold mentions (kg.demo), when that package is present: span-level P/R
   (a predicted mention is right when source, target and character span equal a gold one).
   The linker sees only products.jsonl: titles, brands, categories and the aliases the
   catalogue lists (``brand_aliases``, ``category_aliases`` attributes).

Run: HF_HUB_OFFLINE=1 .venv/bin/python bench/nlp_quality.py
"""

from __future__ import annotations

import csv
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from kg.atomic import atomic_write_json  # noqa: E402
from kg.records import Post, Product  # noqa: E402
from nlp.clean import canonical_key, normalise_text  # noqa: E402
from nlp.config import NlpConfig  # noqa: E402
from nlp.linker import Mention, MentionLinker  # noqa: E402
from nlp.pipeline import load_pipeline  # noqa: E402

SHARED = Path(os.environ.get("SHOPGRAPH_SHARED_DATA", ROOT.parent / "shared" / "data"))
SXSW = SHARED / "sxsw_brand_product_tweets" / "judge-1377884607_tweet_product_company.csv"

OTHER_APPLE = "Other Apple product or service"
OTHER_GOOGLE = "Other Google product or service"
APPS = "iPad or iPhone App"
# (title, brand, label). No product categories: the labels have none but the app ones.
SXSW_PRODUCTS: tuple[tuple[str, str, str], ...] = (
    ("iPad", "Apple", "iPad"),
    ("iPad 2", "Apple", "iPad"),
    ("iPhone", "Apple", "iPhone"),
    ("iPhone 4", "Apple", "iPhone"),
    ("Android", "Google", "Android"),
    *((t, "Apple", OTHER_APPLE) for t in (
        "iPod", "iPod touch", "iTunes", "App Store", "MacBook", "MacBook Pro", "MacBook Air",
        "iMac", "Mac OS X", "iOS", "Apple TV", "FaceTime", "Safari", "iBooks", "iMovie",
        "GarageBand", "Apple Store",
    )),
    *((t, "Google", OTHER_GOOGLE) for t in (
        "Gmail", "Google Maps", "Google Docs", "Google Buzz", "Google Circles", "Google TV",
        "Google Chrome", "YouTube", "Google Earth", "Google Voice", "Google Places", "Hotpot",
        "Nexus One", "Nexus S", "Android Market", "Google Reader", "Picasa",
    )),
)
SXSW_ALIASES = {
    "category:ios-apps": ["iPad app", "iPhone app", "iOS app"],
    "category:android-apps": ["Android app"],
}
#: Nodes for the labels "Other Apple/Google product or service" themselves: a tweet about a
#: product the bench catalogue does not list ("Google Calendar") links only the brand.
OTHER_NODES = {OTHER_APPLE: "product:other-apple", OTHER_GOOGLE: "product:other-google"}
CATEGORY_LABELS = {"category:ios-apps": APPS, "category:android-apps": "Android App"}
BRAND_LABELS = {"brand:apple": "Apple", "brand:google": "Google"}
FAMILY = {
    "iPad": "Apple", "Apple": "Apple", APPS: "Apple", "iPhone": "Apple", OTHER_APPLE: "Apple",
    "Google": "Google", OTHER_GOOGLE: "Google", "Android App": "Google", "Android": "Google",
}
EMOTION = {
    "Positive emotion": "positive",
    "Negative emotion": "negative",
    "No emotion toward brand or product": "neutral",
}


def sxsw_catalogue() -> tuple[list[Product], dict[str, str]]:
    """The bench catalogue and its node -> SXSW label map."""
    products = []
    labels = dict(CATEGORY_LABELS) | BRAND_LABELS | {v: k for k, v in OTHER_NODES.items()}
    for i, (title, brand, label) in enumerate(SXSW_PRODUCTS):
        products.append(Product(str(i), title, brand=brand))
        labels[f"product:{i}"] = label
    return products, labels


def _rank(target: str) -> int:
    return {"category": 0, "product": 1, "brand": 2}.get(target.partition(":")[0], 3)


def primary_target(mentions: list[Mention]) -> Mention:
    """The most specific mention; ties by frequency of its target, then position."""
    counts = Counter(m.target for m in mentions)
    return min(mentions, key=lambda m: (_rank(m.target), -counts[m.target], m.start))


def macro_f1(gold: list[str], pred: list[str], classes: tuple[str, ...]) -> dict[str, float]:
    """Per-class F1 and their mean."""
    out = {}
    for c in classes:
        tp = sum(g == c and p == c for g, p in zip(gold, pred, strict=True))
        fp = sum(g != c and p == c for g, p in zip(gold, pred, strict=True))
        fn = sum(g == c and p != c for g, p in zip(gold, pred, strict=True))
        out[c] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    out["macro"] = sum(out[c] for c in classes) / len(classes)
    return out


def bench_sxsw(linker: MentionLinker) -> dict:
    """Tweet-level linking P/R and sentiment macro-F1 on the SXSW tweets."""
    with SXSW.open(encoding="latin-1", newline="") as handle:
        rows = list(csv.DictReader(handle))
    texts = [normalise_text(r["tweet_text"] or "") for r in rows]
    sources = [f"post:{i}" for i in range(len(rows))]
    start = time.perf_counter()
    mentions = linker.link(texts, sources)
    seconds = time.perf_counter() - start
    by_post: dict[str, list[Mention]] = {}
    for m in mentions:
        by_post.setdefault(m.source, []).append(m)
    _, labels = sxsw_catalogue()

    scored = linked = correct = any_hit = fam_linked = fam_correct = single = single_correct = 0
    gold_sent, pred_sent = [], []
    confusion: Counter[tuple[str, str]] = Counter()
    for source, row, text in zip(sources, rows, texts, strict=True):
        found = by_post.get(source, [])
        primary = primary_target(found) if found else None
        label = row["emotion_in_tweet_is_directed_at"].strip()
        if label:
            scored += 1
            predicted = labels[primary.target] if primary else None
            linked += primary is not None
            correct += predicted == label
            linked_labels = {labels[m.target] for m in found}
            any_hit += label in linked_labels
            single += len(linked_labels) == 1
            single_correct += linked_labels == {label}
            fam_linked += primary is not None
            fam_correct += predicted is not None and FAMILY[predicted] == FAMILY[label]
            confusion[(label, predicted or "-")] += 1
        emotion = EMOTION.get(row["is_there_an_emotion_directed_at_a_brand_or_product"])
        if emotion:
            score = primary.sentiment if primary else linker.scorer.score(text)
            gold_sent.append(emotion)
            pred_sent.append(linker.scorer.polarity(score))
    doc_level = [linker.scorer.polarity(linker.scorer.score(t)) for t, r in zip(
        texts, rows, strict=True) if r["is_there_an_emotion_directed_at_a_brand_or_product"]
        in EMOTION]
    classes = ("positive", "negative", "neutral")
    errors = [f"{g} -> {p}: {n}" for (g, p), n in confusion.most_common() if g != p][:8]
    asked = [(s, r["emotion_in_tweet_is_directed_at"].strip(), t)
             for s, r, t in zip(sources, rows, texts, strict=True)
             if r["emotion_in_tweet_is_directed_at"].strip()]
    products, _ = sxsw_catalogue()
    chooser = {name: bench_chooser(asked, by_post, labels, linker.brand_of,
                                   sxsw_related(products) if near else None,
                                   by_target=prior, words=words)
               for name, (near, prior, words) in CHOOSER_VARIANTS.items()}
    return {
        "tweets": len(rows),
        "labelled_tweets": scored,
        "tweets_linked_of_labelled": linked,
        "precision": round(correct / max(linked, 1), 4),
        "recall": round(correct / max(scored, 1), 4),
        "recall_label_among_linked": round(any_hit / max(scored, 1), 4),
        "tweets_linking_one_label": single,
        "precision_where_one_label_linked": round(single_correct / max(single, 1), 4),
        "family_precision": round(fam_correct / max(fam_linked, 1), 4),
        "family_recall": round(fam_correct / max(scored, 1), 4),
        "top_errors": errors,
        "learned_chooser_5fold": chooser,
        "sentiment_tweets": len(gold_sent),
        "sentiment_macro_f1": round(macro_f1(gold_sent, pred_sent, classes)["macro"], 4),
        "sentiment_f1_per_class": {
            k: round(v, 4) for k, v in macro_f1(gold_sent, pred_sent, classes).items()
        },
        "sentiment_macro_f1_whole_tweet_vader": round(
            macro_f1(gold_sent, doc_level, classes)["macro"], 4
        ),
        "link_seconds": round(seconds, 2),
        "posts_per_second": round(len(rows) / seconds, 1),
    }


#: Learned-chooser variants: (candidates include related targets, target prior, words).
CHOOSER_VARIANTS = {
    "generic_features": (False, False, False),
    "with_target_prior": (False, True, False),
    "related_targets": (True, True, False),
    "related_targets_and_words": (True, True, True),
}


def sxsw_related(products: list[Product]) -> dict[str, list[str]]:
    """What a tweet naming a bench node may be about instead: a product's brand, an app
    category for a platform (iPhone, iPad: iOS apps; Android: Android apps), and from a brand its
    unnamed "other product or service" node (never linked, only reached)."""
    apps = {"iPad": "category:ios-apps", "iPhone": "category:ios-apps",
            "Android": "category:android-apps"}
    related: dict[str, list[str]] = {
        "brand:apple": [OTHER_NODES[OTHER_APPLE]], "brand:google": [OTHER_NODES[OTHER_GOOGLE]],
    }
    for i, (_, _, label) in enumerate(SXSW_PRODUCTS):
        brand = f"brand:{products[i].brand.lower()}"
        related[f"product:{i}"] = [brand, *([apps[label]] if label in apps else [])]
    return related


def _fold_chooser(asked, found, right, train, **options):
    from nlp.target_chooser import TargetChooser

    return TargetChooser(**options).fit([asked[i][2] for i in train],
                                          [found[i] for i in train], [right[i] for i in train])


def _folds(n_splits: int, texts: list[str], seed: int):
    """Shuffled folds that keep copies of one tweet (same :func:`canonical_key`: retweets,
    repeats) together, so no tweet is scored by a chooser that saw its copy."""
    from sklearn.model_selection import GroupKFold

    groups = [canonical_key(t) for t in texts]
    folds = GroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return folds.split(texts, groups=groups)


def _out_of_fold(asked, found, right, indices, labels, seed: int, **options):
    """(confidence, correct) of each text of ``indices``, scored by choosers fitted on the
    other folds of a 4-fold split of ``indices``."""
    out = []
    for train, test in _folds(4, [asked[i][2] for i in indices], seed):
        chooser = _fold_chooser(asked, found, right, indices[train], **options)
        for i in indices[test]:
            shares = chooser.confidence(asked[i][2], found[i])
            best = max(shares, key=shares.__getitem__) if shares else None
            out.append((shares.get(best, 0.0), best is not None and labels[best] == asked[i][1]))
    return out


def _threshold_for(scored: list[tuple[float, bool]], precision: float) -> float:
    """The lowest confidence threshold whose answers reach ``precision`` (1.0 if none does)."""
    ranked = sorted(scored, key=lambda pair: -pair[0])
    best, hits = 1.0, 0
    for n, (conf, ok) in enumerate(ranked, start=1):
        hits += ok
        if hits / n >= precision:
            best = conf
    return best


def bench_chooser(asked: list[tuple[str, str, str]], by_post: dict[str, list[Mention]],
                  labels: dict[str, str], brand_of: dict[str, str],
                  related: dict[str, list[str]] | None, *,
                  by_target: bool, words: bool = False, precision_target: float = 0.90) -> dict:
    """Tweet-level P/R when a :class:`nlp.target_chooser.TargetChooser`, fitted on the other
    four folds (5-fold, shuffled, seed 0, copies of a tweet in one fold), picks each labelled
    tweet's target: answering always, and abstaining below a confidence threshold chosen on
    the training folds alone (the lowest whose out-of-fold answers there reach
    ``precision_target``)."""
    import numpy as np

    found = [by_post.get(source, []) for source, _, _ in asked]
    options = {"brand_of": brand_of, "by_target": by_target, "words": words, "related": related}
    right = []
    for ms, (_, label, _) in zip(found, asked, strict=True):
        targets = {m.target for m in ms}
        targets |= {r for t in targets for r in (related or {}).get(t, ())}
        right.append([t for t in targets if labels[t] == label])
    answered = correct = kept = kept_correct = 0
    for train, test in _folds(5, [text for _, _, text in asked], 0):
        chooser = _fold_chooser(asked, found, right, train, **options)
        threshold = _threshold_for(
            _out_of_fold(asked, found, right, np.asarray(train), labels, 1, **options),
            precision_target)
        for i in test:
            shares = chooser.confidence(asked[i][2], found[i])
            if not shares:
                continue
            best = max(shares, key=shares.__getitem__)
            ok = labels[best] == asked[i][1]
            answered += 1
            correct += ok
            if shares[best] >= threshold:
                kept += 1
                kept_correct += ok
    n = max(len(asked), 1)
    return {"label_among_candidates": round(sum(bool(r) for r in right) / n, 4),
            "precision": round(correct / max(answered, 1), 4), "recall": round(correct / n, 4),
            f"abstaining_for_precision_{precision_target}": {
                "precision": round(kept_correct / max(kept, 1), 4),
                "recall": round(kept_correct / n, 4)}}


def bench_demo(linker_config: NlpConfig, nlp) -> dict | None:
    """Span-level P/R against the demo world's gold mentions, if kg.demo can generate one."""
    try:
        from kg.demo import DemoConfig, generate_demo_world
    except ImportError as exc:
        return {"skipped": f"kg.demo not available: {exc}"}
    import json
    import tempfile

    from kg.reader import read_dataset

    with tempfile.TemporaryDirectory() as tmp:
        generate_demo_world(tmp, DemoConfig())
        dataset = read_dataset(tmp).dataset
        gold = [json.loads(line) for line in (Path(tmp) / "gold_mentions.jsonl").open()]
    posts: list[Post] = dataset.posts
    linker = MentionLinker.from_catalogue(dataset.products, nlp=nlp, config=linker_config)
    found = linker.link([p.text for p in posts], [f"post:{p.id}" for p in posts])

    def key(source: str, target: str, start: int, end: int) -> tuple:
        return (source if source.startswith("post:") else f"post:{source}", target, start, end)

    gold_keys = {key(g["post"], g["target"], g["start"], g["end"]) for g in gold}
    pred_keys = {key(m.source, m.target, m.start, m.end) for m in found}
    tp = len(gold_keys & pred_keys)
    by_kind = {}
    for kind in ("product", "brand", "category", "concept"):
        g = {k for k in gold_keys if k[1].startswith(kind)}
        p = {k for k in pred_keys if k[1].startswith(kind)}
        by_kind[kind] = {"precision": round(len(g & p) / max(len(p), 1), 4),
                         "recall": round(len(g & p) / max(len(g), 1), 4), "gold": len(g)}
    return {
        "posts": len(posts),
        "gold_mentions": len(gold_keys),
        "predicted_mentions": len(pred_keys),
        "precision": round(tp / max(len(pred_keys), 1), 4),
        "recall": round(tp / max(len(gold_keys), 1), 4),
        "by_kind": by_kind,
        "missed_examples": sorted(gold_keys - pred_keys)[:5],
        "spurious_examples": sorted(pred_keys - gold_keys)[:5],
    }


def main() -> int:
    config = NlpConfig()
    loaded = load_pipeline(config)
    products, _ = sxsw_catalogue()
    linker = MentionLinker.from_catalogue(
        products, nlp=loaded.nlp, config=config, aliases=SXSW_ALIASES
    )
    result = {
        "spacy_pipeline": loaded.name,
        "spacy_fallback_reason": loaded.fallback_reason,
        "sxsw": bench_sxsw(linker) if SXSW.is_file() else {"skipped": f"{SXSW} absent"},
        "demo_world": bench_demo(config, loaded.nlp),
        "targets": {"sxsw_precision": 0.90, "sxsw_recall": 0.80, "sentiment_macro_f1": 0.55,
                    "demo_precision": 0.95, "demo_recall": 0.90},
    }
    for section in ("sxsw", "demo_world"):
        print(f"== {section}")
        for k, v in (result[section] or {}).items():
            print(f"  {k}: {v}")
    atomic_write_json(ROOT / "bench" / "results" / "nlp_quality.json", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
