"""Vision benchmark: a small CLIP trained from scratch on a catalogue's own image–text pairs.

Figures (printed, and written to bench/results/vision_tags.json):
- fashion: the 207 real Myntra photos of ../shared/data/fashion_product_images_sample; a seeded
  75/25 split; trained on the train part's article types, colours and "colour type"; held-out top-1
  article-type and colour accuracy next to the majority-class baseline of the train part.
- demo: the demo world's drawn product images (when kg.demo can generate it); same protocol.
- throughput: images tagged per second (load + embed + score), batch 64, 2 CPU cores.
- linear probes: a logistic regression on the trained CLIP's image embeddings of the train
  part, scored on the held-out part (what the image side learned, prompts aside).

Seeds: the split is fixed (seed 0); ``--seeds`` trains one CLIP per training seed (init, batch
order, augmentation) and the JSON keeps each seed's figures and their mean. With one held-out
photo worth 0.019, compare settings by the mean, never by one run.

``--validate`` scores on a seeded 75/25 split *inside* the train part (the held-out photos are
neither trained on nor scored): the mode to choose settings in. Each training seed gets its own
validation split (split seed 1 + training seed), so 3 seeds score about 3 x 68 demo and 3 x 39
fashion photos: one fixed split of 68 demo photos scored every variant's colour alike.
``--set NAME=VALUE`` overrides a trainer setting (a variant to compare); ``--out`` names the JSON.

Run: ``HF_HUB_OFFLINE=1 .venv/bin/python bench/vision_tags.py [--seeds 0 1 2] [--skip-demo]``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from kg.atomic import atomic_write_json
from kg.records import Product
from kg.schema import image_id
from vision.catalogue import (
    split_products,
    tag_catalogue,
    train_catalogue_clip,
    visual_labels,
    visual_truth,
)
from vision.training import ClipTrainer

SHARED = Path(os.environ.get("SHOPGRAPH_SHARED_DATA",
                             Path(__file__).resolve().parents[2] / "shared" / "data"))
RESULTS = Path(__file__).resolve().parent / "results" / "vision_tags.json"
MODEL = {"image_size": 64, "patch_size": 8, "hidden_size": 96, "num_layers": 3, "num_heads": 4,
         "projection_dim": 64, "conv_stem": True}
SEED = 0
HELDOUT = 0.25
#: The trainer settings the bench leaves at the build's defaults, recorded in the JSON.
RECIPE = ("learning_rate", "weight_decay", "free_first", "any_weight", "colour_weight",
          "negatives", "any_negatives", "crop_scale")


def fashion_products(folder: Path) -> list[Product]:
    """The labelled photos as catalogue products (title = display name)."""
    with open(folder / "labels.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [
        Product(id=r["id"], title=r["productDisplayName"],
                categories=(r["masterCategory"], r["subCategory"], r["articleType"]),
                image=f"images/{r['id']}.jpg", attributes={"colour": r["baseColour"]})
        for r in rows
    ]


def majority_accuracy(train: list[Product], held: list[Product], prefix: str) -> float:
    """Accuracy of always answering the train split's most frequent label."""
    def label(p: Product) -> str | None:
        return next((t for t in visual_truth(p) if t.startswith(prefix)), None)

    common = Counter(label(p) for p in train if label(p)).most_common(1)[0][0]
    gold = [label(p) for p in held if label(p)]
    return sum(g == common for g in gold) / len(gold)


def linear_probe(train: list[Product], held: list[Product], vectors: dict[str, Any],
                 prefix: str) -> float | None:
    """Held-out accuracy of a logistic regression fitted on the train split's image vectors
    (the CLIP's image embeddings) for one label group: how much the images carry, text aside."""
    from sklearn.linear_model import LogisticRegression

    def rows(items: list[Product]) -> tuple[list[Any], list[str]]:
        pairs = [(vectors[image_id(p.image or "")],
                  next((t for t in visual_truth(p) if t.startswith(prefix)), None))
                 for p in items if image_id(p.image or "") in vectors]
        return [v for v, t in pairs if t], [t for _, t in pairs if t]

    (x, y), (hx, hy) = rows(train), rows(held)
    if len(set(y)) < 2 or not hy:
        return None
    model = LogisticRegression(max_iter=3000).fit(x, y)
    return round(float(model.score(hx, hy)), 4)


def run_seeds(name: str, products: list[Product], root: Path, trainers: list[ClipTrainer], *,
              validate: bool = False) -> dict[str, Any]:
    """One :func:`run_catalogue` per trainer (one per seed), and the mean of their figures.

    ``validate``: drop the held-out split first; the train part is split again (split seed
    1 + training seed) and scored on.
    """
    if validate:
        products = split_products(products, heldout_fraction=HELDOUT, seed=SEED)[0]
        name += " (validation splits of the train part)"
    runs = {str(t.seed): run_catalogue(f"{name}, seed {t.seed}", products, root, t,
                                       split_seed=SEED + 1 + t.seed if validate else SEED)
            for t in trainers}
    numeric = [k for k, v in next(iter(runs.values())).items()
               if isinstance(v, int | float) and not isinstance(v, bool)]
    mean = {k: round(float(np.mean([r[k] for r in runs.values()])), 4) for k in numeric
            if all(r[k] is not None for r in runs.values())}
    print(f"\n== {name}: mean of seeds {', '.join(runs)} ==")
    for key in ("heldout_category_accuracy", "majority_category_accuracy",
                "heldout_colour_accuracy", "majority_colour_accuracy", "train_seconds"):
        print(f"{key:>36}: {mean[key]}  ({' '.join(str(r[key]) for r in runs.values())})")
    return {"mean": mean, "seeds": runs}


def run_catalogue(name: str, products: list[Product], root: Path, trainer: ClipTrainer, *,
                  split_seed: int = SEED) -> dict:
    """Train on the train split, evaluate on the held-out split, measure throughput."""
    train, held = split_products(products, heldout_fraction=HELDOUT, seed=split_seed)
    with tempfile.TemporaryDirectory() as tmp:
        trained = train_catalogue_clip(products, root, Path(tmp) / "clip", trainer=trainer,
                                       heldout_fraction=HELDOUT, seed=split_seed)
    start = time.perf_counter()
    result = tag_catalogue(trained.bundle, products, root, heldout=trained.heldout,
                           progress=False)
    seconds = time.perf_counter() - start
    n_images = len(result.embeddings.ids)
    vectors = dict(zip(result.embeddings.ids, result.embeddings.vectors, strict=True))
    out: dict[str, Any] = {
        "clip": result.clip,
        "n_products": len(products),
        "n_train": len(train),
        "n_heldout": result.n_heldout,
        "train_seconds": round(trained.report.seconds, 1),
        "train_steps": trained.report.steps,
        "final_loss": round(trained.report.final_loss, 4),
        "heldout_category_accuracy": round(result.heldout_accuracy.get("category", 0.0), 4),
        "majority_category_accuracy": round(majority_accuracy(train, held, "category:"), 4),
        "heldout_colour_accuracy": round(result.heldout_accuracy.get("colour", 0.0), 4),
        "majority_colour_accuracy": round(majority_accuracy(train, held, "concept:"), 4),
        "linear_probe_category_accuracy": linear_probe(train, held, vectors, "category:"),
        "linear_probe_colour_accuracy": linear_probe(train, held, vectors, "concept:"),
        "n_labels": len(visual_labels(products)),
        "tag_threshold": round(result.calibration.threshold, 4) if result.calibration else None,
        "tag_micro_f1_on_calibration_split": round(result.calibration.f1, 4)
        if result.calibration else None,
        "tags": len(result.tags),
        "rejected_images": len(result.rejections),
        "images_tagged_per_second": round(n_images / seconds, 1),
    }
    print(f"\n== {name} ==")
    for key, value in out.items():
        print(f"{key:>36}: {value}")
    return out


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``NAME=VALUE`` trainer settings (VALUE a JSON number, list or null) as keyword arguments."""
    out: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or name not in RECIPE:
            raise SystemExit(f"--set {item!r}: expected NAME=VALUE with NAME one of "
                             f"{', '.join(RECIPE)}")
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as err:
            raise SystemExit(f"--set {item!r}: VALUE is not JSON ({err})") from err
        out[name] = tuple(parsed) if isinstance(parsed, list) else parsed
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="training seeds (the split stays seed 0)")
    parser.add_argument("--validate", action="store_true",
                        help="score on a split of the train part, not on the held-out photos")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="NAME=VALUE", help=f"a trainer setting, one of {', '.join(RECIPE)}")
    parser.add_argument("--out", type=Path, help="JSON to write (default: by mode)")
    args = parser.parse_args()
    overrides = parse_overrides(args.overrides)
    trainers = [ClipTrainer(epochs=args.epochs, batch_size=args.batch_size, model_config=MODEL,
                            seed=seed, num_threads=args.threads, progress=False, **overrides)
                for seed in args.seeds]
    recipe = {k: getattr(trainers[0], k) for k in RECIPE}
    figures: dict[str, Any] = {"protocol": {"heldout_fraction": HELDOUT, "split_seed": SEED,
                                            "training_seeds": args.seeds,
                                            "scored_on": "validation splits of the train part"
                                            f" (split seeds {[SEED + 1 + s for s in args.seeds]})"
                                            if args.validate else "held-out split",
                                            "model": MODEL, "epochs": args.epochs,
                                            "batch_size": args.batch_size, **recipe,
                                            "torch_threads": args.threads}}
    fashion = SHARED / "fashion_product_images_sample"
    if fashion.is_dir():
        figures["fashion"] = run_seeds("fashion (207 real photos)", fashion_products(fashion),
                                       fashion, trainers, validate=args.validate)
    else:
        print(f"skipping fashion: {fashion} absent")
    if not args.skip_demo:
        figures["demo"] = run_demo(trainers, validate=args.validate)
    out = args.out or (RESULTS.with_name("vision_tags_validation.json") if args.validate
                       else RESULTS)
    atomic_write_json(out, figures)
    print(f"\nwrote {out}")
    return 0


def run_demo(trainers: list[ClipTrainer], *, validate: bool = False) -> dict | None:
    """The demo world's images, if kg.demo can generate them."""
    try:
        from kg.demo import DemoConfig, generate_demo_world
        from kg.reader import read_dataset
    except ImportError as err:
        print(f"skipping demo: {err}")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        generate_demo_world(Path(tmp) / "demo", DemoConfig(), progress=False)
        products = read_dataset(Path(tmp) / "demo", progress=False).dataset.products
        return run_seeds("demo world", products, Path(tmp) / "demo", trainers, validate=validate)


if __name__ == "__main__":
    raise SystemExit(main())
