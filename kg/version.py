"""The installed shopgraph version, stamped on everything saved."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def shopgraph_version() -> str:
    """The installed shopgraph version ("unknown" when run from an uninstalled tree)."""
    try:
        return version("shopgraph")
    except PackageNotFoundError:
        return "unknown"
