"""Which folders shopgraph may replace: its ownership stamp and the one refusal rule.

Every folder :func:`kg.atomic.atomic_dir` swaps in carries a stamp, :data:`STAMP_FILE`, naming
its kind (``artifact``, ``dataset``, ...) and every file shopgraph wrote into it. A folder may
be replaced whole only if that cannot destroy anything shopgraph did not write
(:func:`check_replaceable`):

* it does not exist, or is an empty folder;
* or it carries a stamp of the same kind and holds no file the stamp does not list (a
  ``notes.txt`` dropped into an artifact keeps the artifact from being replaced);
* and it is not one of the ``protect`` folders (the dataset being read, the import's source,
  the working directory) nor a folder containing one (``--out .`` above the dataset).

A folder written before stamps existed is refused like any other: remove it yourself. The
error names the folder and says why; it is a :class:`RefusedFolderError` (a ``ValueError``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

STAMP_FILE = ".shopgraph-folder.json"
#: The kinds of folder shopgraph writes whole: a built graph artifact, an imported dataset.
ARTIFACT_KIND = "artifact"
DATASET_KIND = "dataset"
#: A folder shopgraph writes files into, not whole (``demo --out``): its stamp lists only
#: those files (:func:`check_listed_file`); whatever else it holds is the user's.
DEMO_KIND = "demo"
_SHOWN = 3  # foreign files named in an error


class RefusedFolderError(ValueError):
    """A folder shopgraph will not replace, with the reason."""


def absolute(path: str | os.PathLike[str]) -> Path:
    """``path`` made absolute with ``.`` and ``..`` folded, symbolic links kept."""
    return Path(os.path.abspath(path))


def files_in(folder: Path) -> set[str]:
    """Every file (and symbolic link) under ``folder``, as ``/``-separated relative paths."""
    found: set[str] = set()
    for root, dirs, files in os.walk(folder):
        rel = Path(root).relative_to(folder)
        found.update((rel / n).as_posix() for n in files)
        found.update((rel / d).as_posix() for d in dirs if os.path.islink(os.path.join(root, d)))
    return found


def stamp(folder: Path, kind: str) -> None:
    """Write the stamp of ``kind`` into ``folder``, listing the files in it now."""
    listed = sorted(files_in(folder) - {STAMP_FILE})
    with open(folder / STAMP_FILE, "w", encoding="utf-8") as handle:
        handle.write(json.dumps({"kind": kind, "files": listed}, indent=1) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def _stamp_data(folder: Path) -> dict[str, Any] | None:
    """``folder``'s stamp (its kind and listed files), or None when it has no readable one."""
    try:
        data = json.loads((folder / STAMP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def stamped_kind(folder: Path) -> str | None:
    """The kind on ``folder``'s stamp, or None when it has no readable stamp."""
    data = _stamp_data(folder)
    return None if data is None else data.get("kind")


def _listed(folder: Path, kind: str) -> list[str]:
    """The files ``folder``'s stamp lists when it is a stamp of ``kind`` (else none)."""
    data = _stamp_data(folder)
    return list(data.get("files") or []) if data is not None and data.get("kind") == kind else []


def check_replaceable(
    path: str | os.PathLike[str], kind: str, *, protect: Iterable[str | os.PathLike[str]] = ()
) -> None:
    """Raise :class:`RefusedFolderError` unless replacing ``path`` whole destroys nothing
    shopgraph did not write (module doc); ``protect`` are folders that must survive."""
    target = absolute(path)
    real = target.resolve()
    for guarded in (*protect, Path.cwd()):
        kept = Path(guarded).resolve()
        if real == kept or real in kept.parents:
            what = "the working directory" if guarded == Path.cwd() else f"the input {guarded}"
            where = "is" if real == kept else "contains"
            raise RefusedFolderError(f"{target}: {where} {what}; refusing to replace it, "
                                     "choose another folder")
    for folder in (target, target.with_name(target.name + ".old")):
        _check_owned(folder, kind)


def _check_owned(folder: Path, kind: str) -> None:
    if folder.is_symlink():
        raise RefusedFolderError(f"{folder}: is a symbolic link; refusing to replace it")
    if not folder.exists():
        return
    if not folder.is_dir():
        raise RefusedFolderError(f"{folder}: is a file, not a folder; refusing to replace it")
    if not any(folder.iterdir()):
        return
    found = stamped_kind(folder)
    if found is None:
        raise RefusedFolderError(
            f"{folder}: exists and is not a shopgraph {kind} (no {STAMP_FILE}); refusing to "
            "replace it, choose another folder or remove it yourself")
    if found != kind:
        raise RefusedFolderError(f"{folder}: is a shopgraph {found}, not a {kind}; "
                                 "refusing to replace it")
    foreign = sorted(files_in(folder) - set(_listed(folder, kind)) - {STAMP_FILE})
    if foreign:
        shown = ", ".join(foreign[:_SHOWN]) + (" ..." if len(foreign) > _SHOWN else "")
        raise RefusedFolderError(f"{folder}: holds {len(foreign)} file(s) shopgraph did not "
                                 f"write ({shown}); refusing to replace it")


def check_new_file(path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """``path`` as a file shopgraph may write: refused (naming it) when something is already
    there, a symbolic link even if it leads nowhere, unless ``overwrite`` (a command's
    ``--overwrite``); never a folder, nor a file inside a folder shopgraph wrote whole (an
    artifact holding a file its manifest does not list is refused on load)."""
    target = absolute(path)
    if target.is_dir():
        raise RefusedFolderError(f"{target}: is a folder; give a file name to write")
    if (target.exists() or target.is_symlink()) and not overwrite:
        raise RefusedFolderError(f"{target}: already exists; shopgraph does not replace a file "
                                 "it did not just write (pass --overwrite to replace it)")
    owned = next((f for f in target.parents if stamped_kind(f) not in (None, DEMO_KIND)), None)
    if owned is not None:
        raise RefusedFolderError(f"{target}: inside {owned}, a shopgraph {stamped_kind(owned)} "
                                 "(a file added to it makes it refuse to load); write it "
                                 "elsewhere")
    return target


def check_listed_file(path: str | os.PathLike[str], kind: str) -> Path:
    """``path`` as a file shopgraph may replace inside a folder it writes files into (not
    whole): absent, or listed by the folder's stamp of ``kind``; refused (naming it) else."""
    target = absolute(path)
    found = stamped_kind(target.parent)
    if found not in (None, kind):
        raise RefusedFolderError(f"{target.parent}: is a shopgraph {found}, not a {kind}; "
                                 "refusing to write into it")
    if not (target.exists() or target.is_symlink()):
        return target
    if (target.is_symlink() or not target.is_file()
            or target.name not in _listed(target.parent, kind)):
        raise RefusedFolderError(f"{target}: exists and shopgraph did not write it; refusing "
                                 "to replace it, choose another folder or remove it yourself")
    return target


def list_file(path: str | os.PathLike[str], kind: str) -> None:
    """Add ``path``'s name to its folder's stamp of ``kind`` (made when absent), so that
    :func:`check_listed_file` lets a later run replace it."""
    target = absolute(path)
    folder = target.parent
    found = stamped_kind(folder)
    if found != kind and (folder / STAMP_FILE).exists():
        raise RefusedFolderError(f"{folder}: is a shopgraph {found}, "
                                 f"not a {kind}; refusing to write into it")
    listed = _listed(folder, kind)
    from kg.atomic import atomic_write_text  # kg.atomic imports this module

    atomic_write_text(folder / STAMP_FILE, json.dumps(
        {"kind": kind, "files": sorted({*listed, target.name})}, indent=1) + "\n")
