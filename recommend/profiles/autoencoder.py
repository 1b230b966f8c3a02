"""A user embedding learnt by a small autoencoder (torch) over each user's interaction vector.

Input row: the user's log-scaled, L2-normalised interactions with the ``max_items`` most
popular products, followed by their category and brand shares. A two-layer encoder maps
it to ``dim`` numbers and a mirror decoder reconstructs it (MSE). Rows are densified one
mini-batch at a time, so memory stays at batch × width whatever the number of users.
Weights are saved as ``.npz`` arrays (no pickle). Training runs on ``num_threads`` torch
threads (1 by default: for a model this small, more threads only spin against each other on
a shared machine; measured 100× slower per step with 2 threads under load).
"""

from __future__ import annotations

import io
import json
import os
from typing import Any

import numpy as np
import scipy.sparse as sp

from kg.atomic import atomic_write_bytes
from kg.interactions import log_strength
from nlp.shared_encode import torch_threads
from recommend.profiles.features import ProfileTable
from recommend.profiles.inputs import ProfileInputs


def interaction_vectors(
    inputs: ProfileInputs, table: ProfileTable, *, max_items: int = 1024
) -> tuple[sp.csr_matrix, np.ndarray]:
    """The autoencoder's input rows (users × width) and the product columns used."""
    w = inputs.interactions
    popularity = np.diff(w.tocsc().indptr)
    items = np.sort(np.argsort(-popularity, kind="stable")[:max_items])
    x = log_strength(w[:, items].astype(np.float32).tocsr())
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    x = sp.diags(np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)) @ x
    return sp.hstack([x, table.categories, table.brands], format="csr", dtype=np.float32), items


class InteractionAutoencoder:
    """Dense autoencoder: width → ``hidden`` → ``dim`` → ``hidden`` → width."""

    def __init__(
        self,
        *,
        dim: int = 16,
        hidden: int = 128,
        epochs: int = 15,
        batch_size: int = 256,
        learning_rate: float = 3e-3,
        seed: int = 0,
        num_threads: int = 1,
        progress: bool = False,
    ) -> None:
        self.dim = dim
        self.hidden = hidden
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.seed = seed
        self.num_threads = num_threads
        self.progress = progress

    def _build(self, width: int) -> Any:
        import torch
        from torch import nn

        torch.manual_seed(self.seed)
        encoder = nn.Sequential(
            nn.Linear(width, self.hidden), nn.ReLU(), nn.Linear(self.hidden, self.dim)
        )
        decoder = nn.Sequential(
            nn.Linear(self.dim, self.hidden), nn.ReLU(), nn.Linear(self.hidden, width)
        )
        return nn.ModuleDict({"encoder": encoder, "decoder": decoder})

    def fit(self, x: sp.csr_matrix) -> InteractionAutoencoder:
        """Train on the rows of ``x`` (users × width); sets ``model_`` and ``loss_history_``."""
        with torch_threads(self.num_threads):
            return self._fit(sp.csr_matrix(x, dtype=np.float32))

    def _fit(self, x: sp.csr_matrix) -> InteractionAutoencoder:
        import torch
        from tqdm import tqdm

        self.width_ = x.shape[1]
        self.model_ = self._build(self.width_)
        opt = torch.optim.Adam(self.model_.parameters(), lr=self.learning_rate)
        rng = np.random.default_rng(self.seed)
        self.loss_history_: list[float] = []
        for _ in tqdm(range(self.epochs), desc="autoencoder", disable=not self.progress):
            order = rng.permutation(x.shape[0])
            total = 0.0
            for start in range(0, len(order), self.batch_size):
                batch = torch.from_numpy(x[order[start : start + self.batch_size]].toarray())
                recon = self.model_["decoder"](self.model_["encoder"](batch))
                loss = torch.mean((recon - batch) ** 2)
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += float(loss.detach()) * len(batch)
            self.loss_history_.append(total / max(x.shape[0], 1))
        return self

    def transform(self, x: sp.csr_matrix) -> np.ndarray:
        """Embeddings (users × dim) of the rows of ``x``."""
        import torch

        x = sp.csr_matrix(x, dtype=np.float32)
        out = np.zeros((x.shape[0], self.dim), dtype=np.float32)
        with torch.no_grad(), torch_threads(self.num_threads):
            for start in range(0, x.shape[0], 4096):
                batch = torch.from_numpy(x[start : start + 4096].toarray())
                out[start : start + 4096] = self.model_["encoder"](batch).numpy()
        return out

    def reconstruction_error(self, x: sp.csr_matrix) -> float:
        """Mean squared reconstruction error over the rows of ``x``."""
        import torch

        with torch.no_grad(), torch_threads(self.num_threads):
            dense = torch.from_numpy(sp.csr_matrix(x, dtype=np.float32).toarray())
            recon = self.model_["decoder"](self.model_["encoder"](dense))
            return float(torch.mean((recon - dense) ** 2))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write hyper-parameters and weights to ``path`` (.npz) atomically."""
        params = {
            k: getattr(self, k)
            for k in (
                "dim",
                "hidden",
                "epochs",
                "batch_size",
                "learning_rate",
                "seed",
                "num_threads",
            )
        }
        arrays = {k: v.detach().numpy() for k, v in self.model_.state_dict().items()}
        buffer = io.BytesIO()
        meta = json.dumps({"params": params, "width": self.width_})
        np.savez(buffer, __meta__=np.array(meta), **arrays)
        atomic_write_bytes(path, buffer.getvalue())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> InteractionAutoencoder:
        """Read an autoencoder written by :meth:`save`."""
        import torch

        with np.load(path, allow_pickle=False) as data:
            if "__meta__" not in data:
                raise ValueError(f"{path}: not a saved InteractionAutoencoder")
            meta = json.loads(str(data["__meta__"]))
            state = {k: torch.from_numpy(data[k]) for k in data.files if k != "__meta__"}
        model = cls(**meta["params"])
        model.width_ = meta["width"]
        model.model_ = model._build(model.width_)
        model.model_.load_state_dict(state)
        return model


def fit_embeddings(
    inputs: ProfileInputs,
    table: ProfileTable,
    *,
    dim: int = 16,
    epochs: int = 15,
    max_items: int = 1024,
    seed: int = 0,
    progress: bool = False,
) -> InteractionAutoencoder:
    """Train the autoencoder on every user and store the embeddings in ``table``."""
    x, _ = interaction_vectors(inputs, table, max_items=max_items)
    model = InteractionAutoencoder(dim=dim, epochs=epochs, seed=seed, progress=progress).fit(x)
    table.embeddings = model.transform(x)
    return model
