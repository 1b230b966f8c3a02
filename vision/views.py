"""Colour-keeping views of a batch of images, and the loss that makes two views of one image
agree.

:func:`augment` moves pixels (random zooms, shifts, horizontal flips) but never changes a
colour: colour is a label. :func:`view_loss` is instance discrimination (SimCLR's NT-Xent over
two views): each image's embedding must pick its other view out of the batch's. With views that
keep colour, the cheapest way to tell images apart is their colour, so the loss puts colour into
the image embeddings from every image, whether or not its record names a colour; with only
contrastive text labels, half a catalogue without colour names teaches colour from half the
images.

>>> import torch
>>> a = torch.nn.functional.normalize(torch.eye(4), dim=-1)
>>> float(view_loss(a, a, temperature=0.1)) < float(view_loss(a, a.roll(1, 0), temperature=0.1))
True
"""

from __future__ import annotations

from typing import Any

import numpy as np


def augment(images: Any, rng: np.random.Generator, *,
            scale: tuple[float, float] = (1.0, 1.0)) -> Any:
    """Random zooms (a window of ``scale`` times the side), shifts of up to 1/8 of the side
    beyond the window's slack and horizontal flips (edges replicated). Colours are untouched:
    colour is a label."""
    import torch
    import torch.nn.functional as F

    n = images.shape[0]
    side = rng.uniform(*scale, size=n)
    shift = rng.uniform(-1.0, 1.0, size=(n, 2)) * (np.abs(1.0 - side)[:, None] + 0.25)
    flip = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    theta = np.zeros((n, 2, 3), dtype=np.float32)
    theta[:, 0, 0], theta[:, 1, 1] = side * flip, side
    theta[:, :, 2] = shift
    grid = F.affine_grid(torch.as_tensor(theta), list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, padding_mode="border", align_corners=False)


def view_loss(first: Any, second: Any, *, temperature: float) -> Any:
    """NT-Xent of two views' unit embeddings (row i of each is one image): each of the 2n
    embeddings must pick its other view among the other 2n - 1, at ``temperature``."""
    import torch
    import torch.nn.functional as F

    n = first.shape[0]
    both = torch.cat([first, second])
    logits = both @ both.T / temperature
    logits = logits.masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(n)])
    return F.cross_entropy(logits, target)
