"""Hostile images: bounded before decoding, reduced right after, and kept inside the dataset.

The memory tests run the vision code in a subprocess whose address space is capped with
``resource.setrlimit(RLIMIT_AS)`` at what it holds after its imports plus 1.5 GB, so a blow-up
fails the test (MemoryError) instead of the machine; each also asserts the child's peak RSS.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PIL import Image

from vision.images import ImageLimits, ImageRejectedError, contained_path, open_image

REPO = Path(__file__).resolve().parents[2]
BUDGET = 1536 * 2**20  # 1.5 GB


def _reason(path: Path, **kwargs: object) -> str:
    with pytest.raises(ImageRejectedError) as caught:
        open_image(path, **kwargs)  # type: ignore[arg-type]
    return caught.value.rejection.reason


def test_header_bounds_pixels_each_side_and_aspect(tmp_path: Path) -> None:
    strip = tmp_path / "strip.png"
    Image.new("RGB", (200_000, 1), (200, 30, 30)).save(strip)
    assert strip.stat().st_size < 10_000  # 0.2 MP in a few KB: under any pixel limit
    assert _reason(strip).startswith("too large: 200000x1, a side over the limit 16,384")
    wide = tmp_path / "wide.png"
    Image.new("RGB", (3_000, 100), (0, 0, 0)).save(wide)
    assert _reason(wide) == ("too elongated: 3000x100 is over 20:1 (not decoded; a model would "
                             "scale its short side up)")
    assert open_image(wide, limits=ImageLimits(max_aspect=30)).size == (3_000, 100)
    assert "a side over the limit 2,000" in _reason(wide, limits=ImageLimits(max_side=2_000))
    assert "pixels > limit 1,000" in _reason(wide, limits=ImageLimits(max_pixels=1_000))


@pytest.mark.parametrize(("field", "value", "shown"), [
    ("max_pixels", 0, "0"), ("max_side", -5, "-5"), ("max_side", 2.5, "2.5"),
    ("max_pixels", True, "True"), ("max_aspect", 0.5, "0.5"), ("max_aspect", float("inf"), "inf"),
    ("max_aspect", float("nan"), "nan"), ("max_aspect", "20", "'20'"),
])
def test_image_limits_are_validated(field: str, value: object, shown: str) -> None:
    with pytest.raises(ValueError, match=rf"ImageLimits\.{field} must be .*, got {shown}$"):
        ImageLimits(**{field: value})  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_a_large_image_is_reduced_as_it_is_decoded(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"big.{fmt.lower()}"
    Image.new("RGB", (1_200, 700), (20, 120, 220)).save(path, format=fmt)
    small = open_image(path, fit=64)
    assert min(small.size) >= 64 and small.size[0] * small.size[1] <= 4 * 256**2
    assert small.mode == "RGB" and small.size[0] < 1_200
    assert abs(small.size[0] / small.size[1] - 1_200 / 700) < 0.05
    assert small.getpixel((5, 5))[2] > 200  # still the same picture
    assert open_image(path).size == (1_200, 700)  # no fit: untouched
    assert open_image(path, fit=500).size == (1_200, 700)  # within (4 * 500)² pixels
    photo = tmp_path / f"photo.{fmt.lower()}"  # the bench's 224-pixel photos, a 64-pixel CLIP
    Image.new("RGB", (224, 224), (20, 120, 220)).save(photo, format=fmt)
    assert open_image(photo, fit=64).size == (224, 224)
    thin = tmp_path / f"thin.{fmt.lower()}"  # elongated: the short side keeps >= fit
    Image.new("RGB", (4_000, 200), (20, 120, 220)).save(thin, format=fmt)
    assert min(open_image(thin, fit=64).size) >= 64


def test_image_paths_stay_inside_the_dataset_folder(tmp_path: Path) -> None:
    root, outside = tmp_path / "data", tmp_path / "secret"
    (root / "img").mkdir(parents=True)
    outside.mkdir()
    (outside / "real.png").write_bytes(b"x")
    (root / "img" / "ok.png").write_bytes(b"x")
    (root / "img" / "to_real.png").symlink_to(outside / "real.png")
    (root / "img" / "to_nothing.png").symlink_to(outside / "missing.png")
    (root / "img" / "inner.png").symlink_to(root / "img" / "ok.png")
    (root / "linked_dir").symlink_to(outside)
    assert contained_path("img/ok.png", root) == root.resolve() / "img" / "ok.png"
    assert contained_path("img/inner.png", root).resolve() == (root / "img" / "ok.png").resolve()
    reasons = {}
    for path in (str(outside / "real.png"), "/etc/passwd", "../secret/real.png",
                 "img/../img/ok.png", "img/to_real.png", "img/to_nothing.png",
                 "linked_dir/real.png", "linked_dir/missing.png"):
        with pytest.raises(ImageRejectedError) as caught:
            contained_path(path, root)
        assert caught.value.rejection.path == path
        reasons[path] = caught.value.rejection.reason
    # whether the outside file exists never shows in the reason
    assert reasons["img/to_real.png"] == reasons["img/to_nothing.png"]
    assert reasons["linked_dir/real.png"] == reasons["linked_dir/missing.png"]
    assert reasons["/etc/passwd"] == "outside the dataset folder (an absolute path)"
    assert reasons["../secret/real.png"] == "outside the dataset folder ('..' in the path)"


def test_vision_stage_quarantines_outside_images_and_steps_aside(tmp_path: Path) -> None:
    """Only outside or unreadable product images: nothing is read from outside, the stage
    steps aside (too few images to train a CLIP) and the build goes on."""
    from kg.artifact import build_artifact
    from recommend.stages import EnrichConfig, enrichment_stages

    root, outside = tmp_path / "data", tmp_path / "secret"
    (root / "img").mkdir(parents=True)
    outside.mkdir()
    Image.new("RGB", (40, 40), (255, 0, 0)).save(outside / "red.png")
    Image.new("RGB", (40, 40), (0, 0, 255)).save(root / "img" / "blue.png")
    (root / "img" / "link.png").symlink_to(outside / "red.png")
    images = [str(outside / "red.png"), "../secret/red.png", "img/link.png", "img/blue.png"]
    (root / "products.jsonl").write_text("".join(
        json.dumps({"id": f"p{i}", "title": f"Thing {i}", "categories": ["A", "B"],
                    "image": image}) + "\n" for i, image in enumerate(images)))
    manifest = build_artifact(root, tmp_path / "art", progress=False, stages=enrichment_stages(
        EnrichConfig(nlp=False, profiles=False, clip_epochs=1), progress=False))
    vision = manifest["stages"]["vision"]
    assert vision["skipped"].startswith("too few readable product images")
    rejected = [json.loads(line) for line in (tmp_path / "art" / "rejected.jsonl").open()]
    assert all(r["reason"].startswith("image: outside the dataset folder") for r in rejected)
    assert manifest["quarantined"] == len(rejected) >= 2
    assert not (tmp_path / "art" / "image_embeddings.npz").exists()


def test_a_vision_stage_that_steps_aside_still_quarantines_every_bad_image(tmp_path: Path
                                                                          ) -> None:
    """With too few product images to train a CLIP the stage opened only the training images:
    posts naming missing, corrupt, too large or outside images (and a held-out product's bad
    image) were dropped unsaid. Each is now quarantined, naming its record's file and line."""
    from kg.artifact import build_artifact
    from recommend.stages import EnrichConfig, enrichment_stages
    from vision.images import ImageLimits

    root = tmp_path / "data"
    (root / "img").mkdir(parents=True)
    Image.new("RGB", (40, 40), (255, 0, 0)).save(root / "img" / "ok.png")
    Image.new("RGB", (400, 400), (0, 0, 255)).save(root / "img" / "big.png")
    (root / "img" / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (root / "products.jsonl").write_text("".join(json.dumps(
        {"id": f"p{i}", "title": f"Thing {i}", "image": image}) + "\n"
        for i, image in enumerate(["img/ok.png", "img/gone.png"])))
    (root / "users.jsonl").write_text('{"id": "u"}\n')
    posts = ["img/missing.png", "img/corrupt.png", "img/big.png", "../x.png", "img/ok.png"]
    (root / "posts.jsonl").write_text("\n" + "".join(json.dumps(
        {"id": f"s{i}", "author": "u", "images": [image]}) + "\n" for i, image in enumerate(posts)))
    config = EnrichConfig(nlp=False, profiles=False, clip_epochs=1,
                          image_limits=ImageLimits(max_pixels=100_000))
    manifest = build_artifact(root, tmp_path / "art", progress=False,
                              stages=enrichment_stages(config, progress=False))
    assert manifest["stages"]["vision"]["skipped"].startswith("too few readable product images")
    rejected = {r["file"]: r for r in map(json.loads, (tmp_path / "art" / "rejected.jsonl").open())}
    assert set(rejected) == {"img/gone.png", "img/missing.png", "img/corrupt.png", "img/big.png",
                             "../x.png"}
    assert all(r["line"] == 0 and r["reason"].startswith("image: ") for r in rejected.values())
    assert rejected["img/gone.png"]["reason"].endswith("(named by products.jsonl line 2)")
    assert (rejected["img/missing.png"]["reason"]
            == "image: missing file (named by posts.jsonl line 2)")
    assert "corrupt" in rejected["img/corrupt.png"]["reason"]
    assert rejected["img/big.png"]["reason"].startswith("image: too large: 400x400")
    assert rejected["../x.png"]["reason"].endswith("(named by posts.jsonl line 5)")
    assert manifest["stages"]["vision"]["images_rejected"] == 5 == manifest["quarantined"]


@pytest.mark.parametrize("clip", ["nope", "broken"])
def test_a_clip_that_cannot_be_loaded_is_a_clear_error(tmp_path: Path, clip: str) -> None:
    """A --clip folder that is missing (transformers said "Repo id must be in the form ...")
    or broken fails the build naming the CLIP and why; no artifact is left."""
    from kg.artifact import build_artifact
    from recommend.stages import EnrichConfig, enrichment_stages

    root = tmp_path / "data"
    (root / "img").mkdir(parents=True)
    Image.new("RGB", (40, 40), (255, 0, 0)).save(root / "img" / "ok.png")
    (root / "products.jsonl").write_text('{"id": "p", "title": "T", "image": "img/ok.png"}\n')
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{")
    config = EnrichConfig(nlp=False, profiles=False, clip=str(tmp_path / clip))
    with pytest.raises(ValueError, match=rf"the CLIP {tmp_path / clip} cannot be loaded: "
                                         rf"{'.*no CLIP folder there' if clip == 'nope' else ''}"):
        build_artifact(root, tmp_path / "art", progress=False,
                       stages=enrichment_stages(config, progress=False))
    assert not (tmp_path / "art").exists()


CHILD = f"BUDGET = {BUDGET}\n" + textwrap.dedent("""
    import json, resource, sys
    from pathlib import Path
    from vision.clip_model import new_clip
    from vision.embed import embed_image_files
    from vision.training import ClipTrainer, ImageText
    import torch

    torch.set_num_threads(1)
    job, files = sys.argv[1], sys.argv[2:]
    tiny = dict(image_size=32, patch_size=8, hidden_size=32, num_layers=2, num_heads=2,
                projection_dim=32)
    bundle = new_clip(["red", "thing"], **tiny)
    vm = next(int(line.split()[1]) * 1024 for line in open("/proc/self/status")
              if line.startswith("VmSize:"))
    resource.setrlimit(resource.RLIMIT_AS, (vm + BUDGET, -1))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if job == "embed":
        result = embed_image_files(bundle, files, progress=False)
        done = {"embedded": len(result.ids), "rejected": [r.reason for r in result.rejections]}
    else:
        trainer = ClipTrainer(epochs=1, batch_size=4, model_config=tiny, progress=False)
        trainer.fit([ImageText(f, ("red thing",)) for f in files])
        done = {"embedded": trainer.report_.n_pairs,
                "rejected": [r.reason for r in trainer.report_.rejections]}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({**done, "rss_before": before, "rss_peak": peak}))
""")


def _run_capped(job: str, files: list[Path]) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", CHILD, job, *map(str, files)], env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"{job}: peak RSS {report['rss_peak'] / 2**20:.0f} MB "
          f"(after imports {report['rss_before'] / 2**20:.0f} MB)")
    assert report["rss_peak"] < BUDGET
    return report


def test_image_bombs_embed_within_memory(tmp_path: Path) -> None:
    """A 200000x1 strip (the processor would scale it to 12.8M x 64 px) is refused from its
    header; a 16000x800 strip (20:1, allowed) and a 7728x5136 photo are reduced as decoded."""
    strip, thin, photo = tmp_path / "strip.png", tmp_path / "thin.png", tmp_path / "photo.png"
    Image.new("RGB", (200_000, 1), (255, 0, 0)).save(strip)
    Image.new("RGB", (16_000, 800), (255, 0, 0)).save(thin)
    Image.new("RGB", (7_728, 5_136), (255, 0, 0)).save(photo)
    report = _run_capped("embed", [strip, thin, photo, photo])
    assert report["embedded"] == 3 and len(report["rejected"]) == 1
    assert "a side over the limit" in report["rejected"][0]


def test_clip_training_on_eight_40_megapixel_photos_within_memory(tmp_path: Path) -> None:
    """Eight 39.7 MP PNGs: decoded, reduced and released a batch at a time (1.8 GB more
    when all were decoded at once)."""
    first = tmp_path / "photo0.png"
    Image.new("RGB", (7_728, 5_136), (200, 10, 10)).save(first)
    photos = [first]
    for i in range(1, 8):
        copy = tmp_path / f"photo{i}.png"
        copy.write_bytes(first.read_bytes())
        photos.append(copy)
    report = _run_capped("train", photos)
    assert report["embedded"] == 8 and report["rejected"] == []
