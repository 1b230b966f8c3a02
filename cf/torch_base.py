"""Shared plumbing of the torch models: seeding, the network's tensors in the ``.npz``.

torch is imported inside functions so that ``import cf`` stays fast. A model builds its
network in ``_build(x)`` (sizes from the training data only), so ``load`` can rebuild it
and copy the saved tensors back (no pickle: tensors travel as plain numpy arrays).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cf.base import Recommender
from cf.data import Interactions


class TorchRecommender(Recommender):
    """A :class:`Recommender` whose learned state is a ``torch.nn.Module`` (``net_``)."""

    seed: int
    net_: Any

    def _build(self, x: Interactions) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _train(self, x: Interactions, net: Any, gen: Any) -> None:  # pragma: no cover
        raise NotImplementedError

    def _fit(self, x: Interactions) -> None:
        import torch

        torch.manual_seed(self.seed)
        gen = torch.Generator().manual_seed(self.seed)
        net = self._build(x)
        net.train()
        self._train(x, net, gen)
        net.eval()
        self.net_ = net

    def _state(self) -> dict[str, np.ndarray]:
        out = super()._state()
        out.update(
            {f"net.{k}": v.detach().cpu().numpy() for k, v in self.net_.state_dict().items()}
        )
        return out

    def _set_state(self, arrays: dict[str, np.ndarray]) -> None:
        import torch

        plain = {k: v for k, v in arrays.items() if not k.startswith("net.")}
        super()._set_state(plain)
        net = self._build(self.train_)
        tensors = {k[4:]: torch.from_numpy(v) for k, v in arrays.items() if k.startswith("net.")}
        net.load_state_dict(tensors)
        net.eval()
        self.net_ = net
