"""What the enrichment stages of a build do: plain, frozen data."""

from __future__ import annotations

from dataclasses import dataclass


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
