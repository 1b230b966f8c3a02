"""Tampered artifacts: every class of damage is refused with one clear line naming the file.

Each test copies the session's small built demo artifact to a temporary folder, damages it
one way and loads it as the CLI does (``Recommender.load``, which verifies by default). The
classes are counted in :data:`CLASSES` (the probe had 37); per-file classes run over every
file the manifest lists. "Re-hashed" classes rewrite the manifest's sha256 after the damage,
as an attacker who controls the folder would, so the structural checks are what refuses them.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from kg.artifact import MANIFEST_FILE, load_artifact
from kg.artifact_files import ArtifactError, file_sha256
from recommend import Recommender

PER_FILE = ["truncated", "byte flipped", "emptied", "deleted", "garbage appended",
            "symlink to an identical copy", "symlink to /dev/zero", "FIFO", "folder"]
MANIFEST = ["files {}", "files missing", "files a list", "bad sha256", "entry dropped",
            "digests swapped", "extra unlisted file", "extra unlisted folder",
            "traversal ../", "traversal ../../etc/passwd", "absolute /etc/passwd",
            "absolute /dev/zero", "dot segment", "backslash", "manifest truncated",
            "manifest NaN", "manifest a list", "manifest missing", "manifest symlink"]
REHASHED = ["cf indices out of range", "cf indptr decreasing", "cf NaN weights",
            "cf x_data NaN", "graph src out of range", "graph dst negative",
            "graph NaN weights", "graph ts infinite", "graph shape mismatch",
            "graph forged npy header", "graph pickled array", "graph not a zip",
            "nodes duplicate ids", "nodes unknown type", "nodes NaN price",
            "nodes unknown relation", "blend NaN weights"]
CLASSES = PER_FILE + MANIFEST + REHASHED


def test_class_count():
    assert len(set(CLASSES)) == len(CLASSES) == 45


@pytest.fixture
def art(small_demo_artifact, tmp_path) -> Path:
    folder = tmp_path / "art"
    shutil.copytree(small_demo_artifact, folder)
    return folder


@pytest.fixture(autouse=True)
def deadline():
    """A load that opens a FIFO or /dev/zero would hang: fail after 30 s instead."""

    def expire(*_):
        raise TimeoutError("load hung (opened a FIFO or device?)")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(30)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def listed(folder: Path) -> dict[str, str]:
    return json.loads((folder / MANIFEST_FILE).read_text())["files"]


def edit_manifest(folder: Path, change: Callable[[dict], None]) -> None:
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    change(manifest)
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest))


def rehash(folder: Path) -> None:
    edit_manifest(folder, lambda m: m.update(
        files={name: file_sha256(folder / name) for name in m["files"]}))


def refused(folder: Path, names: str) -> str:
    """Load ``folder``; assert it is refused with one line naming ``names``; the message."""
    with pytest.raises((ValueError, FileNotFoundError)) as caught:
        Recommender.load(folder)
    text = str(caught.value)
    assert "\n" not in text
    assert names in text, text
    return text


def damage_file(path: Path, how: str, scratch: Path) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "byte flipped":
        middle = len(data) // 2
        path.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:])
    elif how == "emptied":
        path.write_bytes(b"")
    elif how == "deleted":
        path.unlink()
    elif how == "garbage appended":
        path.write_bytes(data + b"\x00garbage")
    elif how == "symlink to an identical copy":
        copy = scratch / f"copy-{path.name}"
        copy.write_bytes(data)
        path.unlink()
        path.symlink_to(copy)
    elif how == "symlink to /dev/zero":
        path.unlink()
        path.symlink_to("/dev/zero")
    elif how == "FIFO":
        path.unlink()
        os.mkfifo(path)
    elif how == "folder":
        path.unlink()
        path.mkdir()
        (path / "inner").write_bytes(data)
    else:
        raise AssertionError(how)


@pytest.mark.parametrize("how", PER_FILE)
def test_per_file_damage_is_refused_naming_the_file(art, tmp_path, how):
    for name in sorted(listed(art)):
        folder = tmp_path / f"{name}-copy"
        shutil.copytree(art, folder)
        if how in ("truncated", "byte flipped", "emptied") and not (folder / name).stat().st_size:
            continue  # an empty file (rejected.jsonl) cannot lose or flip bytes
        damage_file(folder / name, how, tmp_path)
        refused(folder, name)


MANIFEST_EDITS: dict[str, tuple[Callable[[dict], None], str]] = {
    "files {}": (lambda m: m.update(files={}), "lists no files"),
    "files missing": (lambda m: m.pop("files"), "lists no files"),
    "files a list": (lambda m: m.update(files=list(m["files"])), "lists no files"),
    "bad sha256": (lambda m: m["files"].update({"cf_model.npz": "0" * 63}), "cf_model.npz"),
    "entry dropped": (lambda m: m["files"].pop("graph_edges.npz"), "graph_edges.npz"),
    "digests swapped": (lambda m: m["files"].update({
        "graph_nodes.json": m["files"]["graph_edges.npz"],
        "graph_edges.npz": m["files"]["graph_nodes.json"]}), "sha256 differs"),
    "traversal ../": (lambda m: m["files"].update({"../outside.txt": "0" * 64}),
                      "'../outside.txt' refused"),
    "traversal ../../etc/passwd": (lambda m: m["files"].update({"../../etc/passwd": "0" * 64}),
                                   "'../../etc/passwd' refused"),
    "absolute /etc/passwd": (lambda m: m["files"].update({"/etc/passwd": "0" * 64}),
                             "'/etc/passwd' refused"),
    "absolute /dev/zero": (lambda m: m["files"].update({"/dev/zero": "0" * 64}),
                           "'/dev/zero' refused"),
    "dot segment": (lambda m: m["files"].update({"./hybrid.json": "0" * 64}),
                    "'./hybrid.json' refused"),
    "backslash": (lambda m: m["files"].update({"..\\x": "0" * 64}), "refused"),
}


@pytest.mark.parametrize("how", sorted(MANIFEST_EDITS))
def test_manifest_tampering_is_refused(art, how):
    change, message = MANIFEST_EDITS[how]
    (art.parent / "outside.txt").write_text("outside")
    edit_manifest(art, change)
    text = refused(art, message)
    assert "manifest.json" in text or "graph_edges.npz" in text or "graph_nodes.json" in text


def test_unlisted_file_or_folder_is_refused(art):
    (art / "extra.npz").write_bytes(b"planted")
    refused(art, "extra.npz: not listed")
    (art / "extra.npz").unlink()
    (art / "sub").mkdir()
    (art / "sub" / "x.json").write_text("{}")
    refused(art, "sub/x.json: not listed")


@pytest.mark.parametrize("how", ["manifest truncated", "manifest NaN", "manifest a list",
                                 "manifest missing", "manifest symlink"])
def test_broken_manifest_is_refused(art, how):
    path = art / MANIFEST_FILE
    text = path.read_text()
    if how == "manifest truncated":
        path.write_text(text[: len(text) // 2])
    elif how == "manifest NaN":
        path.write_text(text.replace('"format": 1', '"format": NaN', 1))
    elif how == "manifest a list":
        path.write_text("[1, 2]")
    elif how == "manifest missing":
        path.unlink()
    else:
        path.unlink()
        path.symlink_to("/dev/zero")
    refused(art, "manifest.json")


def edit_npz(path: Path, change: Callable[[dict], None]) -> None:
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    change(arrays)
    np.savez(path, **arrays)


def _learned(arrays: dict) -> str:
    """The first learned float array of a saved cf model (dense state or a CSR's data)."""
    return next(k for k in sorted(arrays) if (k.startswith("state:") or k.endswith(":data"))
                and arrays[k].dtype.kind == "f")


def _set(arrays: dict, key: str, fn: Callable[[np.ndarray], np.ndarray]) -> None:
    arrays[key] = fn(arrays[key].copy())


def _forge_header(path: Path) -> None:
    """Rewrite b0_src's .npy header to declare 10**12 elements (same bytes stored)."""
    import zipfile

    with zipfile.ZipFile(path) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    raw = members["b0_src.npy"]
    n = np.load(path)["b0_src"].shape[0]
    members["b0_src.npy"] = raw.replace(f"({n},)".encode(), f"({10**12},)".encode(), 1)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _pickled(arrays: dict) -> None:
    arrays["b0_weight"] = np.array([{"x": 1}] * len(arrays["b0_weight"]), dtype=object)


def _edit_json(path: Path, change: Callable[[dict], None]) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


REHASHED_EDITS: dict[str, tuple[str, Callable[[Path], None], str]] = {
    "cf indices out of range": ("cf_model.npz", lambda p: edit_npz(p, lambda a: _set(
        a, "x_indices", lambda v: np.full_like(v, 10**8))), "indices out of range"),
    "cf indptr decreasing": ("cf_model.npz", lambda p: edit_npz(p, lambda a: _set(
        a, "x_indptr", lambda v: np.r_[v[:1], v[1:-1][::-1], v[-1:]])), "indptr decreases"),
    "cf NaN weights": ("cf_model.npz", lambda p: edit_npz(p, lambda a: _set(
        a, _learned(a), lambda v: v * np.nan)), "_: non-finite"),
    "cf x_data NaN": ("cf_model.npz", lambda p: edit_npz(p, lambda a: _set(
        a, "x_data", lambda v: v * np.nan)), "x_data: non-finite"),
    "graph src out of range": ("graph_edges.npz", lambda p: edit_npz(p, lambda a: _set(
        a, "b0_src", lambda v: v + 10**6)), "indices out of range"),
    "graph dst negative": ("graph_edges.npz", lambda p: edit_npz(p, lambda a: _set(
        a, "b0_dst", lambda v: v - 10**6)), "indices out of range"),
    "graph NaN weights": ("graph_edges.npz", lambda p: edit_npz(p, lambda a: _set(
        a, "b1_weight", lambda v: v * np.nan)), "weight: non-finite"),
    "graph ts infinite": ("graph_edges.npz", lambda p: edit_npz(p, lambda a: _set(
        a, "b0_ts", lambda v: np.full_like(v, np.inf))), "ts: values must be floats"),
    "graph shape mismatch": ("graph_edges.npz", lambda p: edit_npz(p, lambda a: _set(
        a, "b0_dst", lambda v: v[:-1])), "unequal lengths"),
    "graph forged npy header": ("graph_edges.npz", _forge_header, "declares shape"),
    "graph pickled array": ("graph_edges.npz", lambda p: edit_npz(p, _pickled),
                            "holds Python objects"),
    "graph not a zip": ("graph_edges.npz", lambda p: p.write_bytes(b"PK\x03\x04 not a zip"),
                        "not a readable .npz"),
    "nodes duplicate ids": ("graph_nodes.json", lambda p: _edit_json(
        p, lambda m: m["nodes"]["user"]["ids"].__setitem__(1, m["nodes"]["user"]["ids"][0])),
        "unique"),
    "nodes unknown type": ("graph_nodes.json", lambda p: _edit_json(
        p, lambda m: m["nodes"].update(planet={"ids": ["x"], "attrs": [None]})),
        "unknown node type 'planet'"),
    "nodes NaN price": ("graph_nodes.json", lambda p: _edit_json(
        p, lambda m: m["nodes"]["product"]["attrs"][0].update(price=float("nan"))), "NaN"),
    "nodes unknown relation": ("graph_nodes.json", lambda p: _edit_json(
        p, lambda m: m["blocks"][0].update(relation="owns")), "unknown relation 'owns'"),
    "blend NaN weights": ("hybrid.json", lambda p: _edit_json(
        p, lambda m: m["blend"].update(weights=[float("nan")] * len(m["blend"]["weights"]))),
        "blend weights"),
}


@pytest.mark.parametrize("how", sorted(REHASHED_EDITS))
def test_rehashed_content_damage_is_refused(art, how):
    name, damage, message = REHASHED_EDITS[how]
    damage(art / name)
    rehash(art)
    text = refused(art, message)
    assert name in text or how == "blend NaN weights"


@pytest.mark.parametrize("how", ["cf indices out of range", "graph src out of range",
                                 "graph NaN weights", "cf NaN weights"])
def test_structural_checks_hold_without_verify(art, how):
    name, damage, message = REHASHED_EDITS[how]
    damage(art / name)
    with pytest.raises(ArtifactError, match=message):
        Recommender.load(art, verify=False)


def test_untampered_copy_loads_and_the_gate_answers_only_listed_files(art):
    loaded = load_artifact(art)
    assert loaded.files.path("cf_model.npz") == art / "cf_model.npz"
    with pytest.raises(ArtifactError, match="not listed"):
        loaded.files.path("manifest.json")
    assert Recommender.load(art).recommend("user:u0001", k=2, explain=False)
