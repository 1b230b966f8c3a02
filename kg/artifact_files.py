"""The gate between an artifact folder and the code that reads it: :class:`ArtifactFiles`.

An artifact is untrusted input: it may have been copied from elsewhere, truncated, edited
or planted. A probe served 13 of 37 tampered artifacts without an error, crashed scipy
with out-of-range CSR indices, followed a manifest entry ``../../etc/passwd`` and hung on
one naming ``/dev/zero``. So a loader never opens ``folder / name`` on its own; it asks
``files.path(name)``, which answers only for a file that

* the manifest lists (``"files": {name: sha256}``), under a plain relative name: no ``..``,
  no absolute path, no backslash, no empty part;
* is a regular file, not a symlink, FIFO or device (``os.lstat`` + ``S_ISREG`` before any
  open, for the file and every folder on its way from the artifact folder);
* matched its sha256 when the gate was opened (unless ``verify=False``, for benchmarks).

Opening the gate also refuses a manifest that lists no files and a folder holding a file
the manifest does not list, so code that still reads ``folder / name`` directly reads only
listed, hash-checked files. Every refusal is an :class:`ArtifactError` (a ``ValueError``)
naming the file and the reason. Reading JSON here refuses ``NaN``/``Infinity``, which
Python's json module would otherwise accept.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from kg.ownership import STAMP_FILE

MANIFEST_FILE = "manifest.json"
MAX_JSON_BYTES = 1 << 30  # a JSON file larger than this is refused before it is read
_SHA256 = re.compile(r"[0-9a-f]{64}")


class ArtifactError(ValueError):
    """A refused artifact file: the message names the file and the reason."""


def regular_file(path: Path) -> os.stat_result:
    """``path``'s lstat if it is a regular file (not a symlink, FIFO or device), else
    ArtifactError. Call it before opening anything an artifact names."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise ArtifactError(f"{path}: missing") from None
    if stat.S_ISLNK(info.st_mode):
        raise ArtifactError(f"{path}: a symbolic link, refused (artifact files are regular "
                            "files)")
    if not stat.S_ISREG(info.st_mode):
        raise ArtifactError(f"{path}: not a regular file (a folder, FIFO or device), refused")
    return info


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def read_json(path: Path) -> Any:
    """A regular JSON file's value; ArtifactError naming the file (and line) when it is not
    JSON, holds NaN/Infinity or is larger than :data:`MAX_JSON_BYTES`."""
    info = regular_file(path)
    if info.st_size > MAX_JSON_BYTES:
        raise ArtifactError(f"{path}: {info.st_size:,} bytes, larger than a JSON file may be")
    try:
        return json.loads(path.read_bytes(), parse_constant=_no_constant)
    except json.JSONDecodeError as err:
        raise ArtifactError(f"{path}: line {err.lineno}: not valid JSON ({err.msg})") from None
    except (ValueError, RecursionError) as err:  # NaN/Infinity, bad UTF-8, deep nesting
        raise ArtifactError(f"{path}: not valid JSON ({err})") from None


def _checked_name(root: Path, name: object) -> Path:
    """``root / name`` for a plain relative manifest name, else ArtifactError."""
    where = root / MANIFEST_FILE
    if not isinstance(name, str) or not name:
        raise ArtifactError(f"{where}: file name {name!r} is not a non-empty string")
    parts = PurePosixPath(name).parts
    if (name.startswith("/") or "\\" in name or "\0" in name or ".." in parts
            or "." in name.split("/") or "" in name.split("/")):
        raise ArtifactError(f"{where}: file name {name!r} refused: only plain relative names "
                            "inside the artifact folder (no '..', no absolute path)")
    path = root
    for part in parts[:-1]:
        path = path / part
        if path.is_symlink() or (path.exists() and not path.is_dir()):
            raise ArtifactError(f"{path}: not a plain folder (a symlink?), refused")
    return root / name


def _empty_lock(path: Path) -> bool:
    """An empty ``.NAME.lock`` regular file, as :func:`kg.atomic.folder_lock` leaves."""
    if not (path.name.startswith(".") and path.name.endswith(".lock")):
        return False
    info = os.lstat(path)
    return stat.S_ISREG(info.st_mode) and info.st_size == 0


def _folder_files(root: Path) -> Iterator[str]:
    """Relative posix names of every entry under ``root`` that is not a folder (no symlink
    is followed)."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        base = Path(dirpath)
        for name in filenames + [d for d in dirnames if (base / d).is_symlink()]:
            yield (base / name).relative_to(root).as_posix()


@dataclass(frozen=True)
class ArtifactFiles:
    """The files an artifact's manifest lists, checked; :meth:`path` is how loaders ask."""

    folder: Path
    digests: dict[str, str]
    verified: bool

    @classmethod
    def open(cls, folder: Path, manifest: dict[str, Any], *, verify: bool = True
             ) -> ArtifactFiles:
        """Check ``manifest``'s file list against ``folder`` (module docstring)."""
        where = folder / MANIFEST_FILE
        listed = manifest.get("files")
        if not isinstance(listed, dict) or not listed:
            raise ArtifactError(f"{where}: lists no files (\"files\" must map each file of "
                                "the artifact to its sha256)")
        for name, digest in listed.items():
            path = _checked_name(folder, name)
            if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
                raise ArtifactError(f"{where}: {name!r} has no sha256 (got {digest!r})")
            regular_file(path)
        # the manifest and the ownership stamp (kg.ownership) describe the folder itself;
        # an empty lock file of a folder written inside it (kg.atomic) holds nothing
        unlisted = sorted(name for name in set(_folder_files(folder)) - set(listed)
                          - {MANIFEST_FILE, STAMP_FILE} if not _empty_lock(folder / name))
        if unlisted:
            raise ArtifactError(f"{folder / unlisted[0]}: not listed in {where}, refused "
                                f"({len(unlisted)} unlisted file(s))")
        if verify:
            for name, digest in listed.items():
                if file_sha256(folder / name) != digest:
                    raise ArtifactError(f"{folder / name}: sha256 differs from {where} "
                                        "(changed, truncated or from another build)")
        return cls(folder, dict(listed), verify)

    def path(self, name: str) -> Path:
        """The path of listed file ``name``, checked again as a regular file; ArtifactError
        for a file the manifest does not list."""
        if name not in self.digests:
            raise ArtifactError(f"{self.folder / name}: not listed in "
                                f"{self.folder / MANIFEST_FILE}, refused")
        path = self.folder / name
        regular_file(path)
        return path

    def __contains__(self, name: object) -> bool:
        return name in self.digests
