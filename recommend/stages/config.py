"""What the enrichment stages of a build do: plain data that round-trips through JSON."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EnrichConfig:
    """Switches and settings of the enrichment stages run after the graph is built.

    ``clip``: a pretrained CLIP's hub name or folder to tag images with; ``None`` trains a
    small CLIP on the catalogue's own image–title pairs (no weights can be downloaded here).
    """

    nlp: bool = True
    vision: bool = True
    profiles: bool = True
    clip: str | None = None
    clip_epochs: int = 40
    clip_heldout_fraction: float = 0.2
    profile_embeddings: bool = False
    rules_min_support: float = 0.0  # co-purchase rules need this share of baskets ...
    rules_min_baskets: int = 3  # ... and at least this many baskets
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The config as a JSON-able dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EnrichConfig:
        """The config from :meth:`to_dict`'s output; unknown keys are an error."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown enrichment settings: {', '.join(unknown)}")
        return cls(**data)
