"""Benchmark: shop the look on the demo world (quality, not speed).

Builds a demo world with images (``--products``, default 200; ``--users``, ``--posts``) with
the vision stage at its defaults (a CLIP trained on the catalogue's image-title pairs) and the
models stage at its defaults, or reuses ``--artifact``/``--dataset``. Then, through
:class:`recommend.serve.look.ShopTheLook`, the search ``POST /v1/look`` runs:

- **own photo**: each product's own picture must find that product in the top 5;
- **held-out photo**: each post picture (another drawing of a product the post tags, never
  trained on: the CLIP trains on product pictures only) must find a product of the same leaf
  category in the top 5.

Targets (issue 17): own photo >= 90%, held-out photo >= 70%. Also the share of results that
carry shared tags, and seconds per search (on a busy machine: indicative only).
Writes bench/results/shop_the_look.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from kg.atomic import atomic_write_json

RESULTS = Path(__file__).resolve().parent / "results" / "shop_the_look.json"


def build(root: Path, args: argparse.Namespace) -> tuple[Path, Path]:
    from kg.artifact import build_artifact
    from kg.demo import DemoConfig, generate_demo_world
    from recommend.hybrid.config import HybridConfig
    from recommend.model_stage import model_stage
    from recommend.stages import EnrichConfig, vision_stage

    data, art = root / "data", root / "art"
    generate_demo_world(data, DemoConfig(n_users=args.users, n_products=args.products,
                                         n_posts=args.posts, images=True), progress=False)
    start = time.perf_counter()
    build_artifact(data, art, progress=False, stages=[
        ("vision", vision_stage(EnrichConfig(), progress=False)),
        ("models", model_stage(HybridConfig()))])
    print(f"built in {time.perf_counter() - start:.0f} s")
    return data, art


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--users", type=int, default=150)
    parser.add_argument("--posts", type=int, default=400)
    parser.add_argument("--dataset", type=Path, default=None)
    parser.add_argument("--artifact", type=Path, default=None)
    args = parser.parse_args()
    from recommend.recommender import Recommender
    from recommend.serve.look import ShopTheLook

    with tempfile.TemporaryDirectory(prefix="look-") as tmp:
        if args.artifact is not None and args.dataset is not None:
            data, art = args.dataset, args.artifact
        else:
            data, art = build(Path(tmp), args)
        rec = Recommender.load(art)
        look = ShopTheLook(rec)
        products = [json.loads(x) for x in (data / "products.jsonl").read_text().splitlines()]
        leaf = {f"product:{p['id']}": (p.get("categories") or [None])[-1] for p in products}
        own = own_hits = tagged = shown = 0
        start = time.perf_counter()
        for p in products:
            if not p.get("image"):
                continue
            found = look.search((data / p["image"]).read_bytes(), 5)
            own += 1
            own_hits += f"product:{p['id']}" in [r["item"] for r in found]
            tagged += sum(bool(r["shared_tags"]) for r in found)
            shown += len(found)
        seconds = (time.perf_counter() - start) / max(own, 1)
        held = held_hits = 0
        for line in (data / "posts.jsonl").read_text().splitlines():
            post = json.loads(line)
            if not post.get("images") or not post.get("products"):
                continue
            want = {leaf.get(f"product:{q}") for q in post["products"]} - {None}
            found = look.search((data / post["images"][0]).read_bytes(), 5)
            held += 1
            held_hits += any(leaf.get(r["item"]) in want for r in found)
        result = {"products": len(products), "vision": rec.manifest["stages"].get("vision"),
                  "own_photo_top5": round(own_hits / max(own, 1), 4), "own_photos": own,
                  "heldout_photo_same_leaf_top5": round(held_hits / max(held, 1), 4),
                  "heldout_photos": held,
                  "results_with_shared_tags": round(tagged / max(shown, 1), 4),
                  "seconds_per_search": round(seconds, 4)}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(RESULTS, result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
