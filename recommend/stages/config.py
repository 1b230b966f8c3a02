"""What the enrichment stages of a build do: plain, frozen data, checked when made."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vision.images import ImageLimits


@dataclass(frozen=True)
class EnrichConfig:
    """Switches and settings of the enrichment stages run after the graph is built.

    ``clip``: a pretrained CLIP's hub name or folder to tag images with; ``None`` trains a
    small CLIP on the catalogue's own image–title pairs (no weights can be downloaded here).
    ``image_limits``: what an image header may claim before it is decoded (None: the
    defaults of :class:`vision.images.ImageLimits`). A value out of range is a ValueError
    naming the field and the value.
    """

    nlp: bool = True
    vision: bool = True
    profiles: bool = True
    clip: str | None = None
    clip_epochs: int = 40
    clip_heldout_fraction: float = 0.2
    image_limits: ImageLimits | None = None
    profile_embeddings: bool = False
    rules_min_support: float = 0.0  # co-purchase rules need this share of baskets ...
    rules_min_baskets: int = 3  # ... and at least this many baskets
    seed: int = 0

    def __post_init__(self) -> None:
        _check_int("clip_epochs", self.clip_epochs, 1)
        _check_int("rules_min_baskets", self.rules_min_baskets, 1)
        _check_int("seed", self.seed, 0)
        _check_fraction("clip_heldout_fraction", self.clip_heldout_fraction, closed=False)
        _check_fraction("rules_min_support", self.rules_min_support, closed=True)


def _check_int(name: str, value: object, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"EnrichConfig.{name} must be an integer >= {low}, got {value!r}")


def _check_fraction(name: str, value: object, *, closed: bool) -> None:
    """``value`` in [0, 1] (``closed``) or [0, 1)."""
    ok = (not isinstance(value, bool) and isinstance(value, (int, float))
          and 0.0 <= value <= 1.0 and (closed or value < 1.0))
    if not ok:
        span = "[0, 1]" if closed else "[0, 1)"
        raise ValueError(f"EnrichConfig.{name} must be a number in {span}, got {value!r}")
