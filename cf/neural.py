"""Deep CF models in torch, small enough to train on CPU in minutes on ML-100K.

``NeuralCF`` (He et al. 2017, NeuMF): a GMF branch (element-wise product of embeddings)
and an MLP branch over concatenated embeddings, fused by a linear layer; trained with
binary cross-entropy on observed cells against ``negatives`` uniformly sampled unseen
items each.

``AutoencoderRec`` (Mult-DAE, Liang et al. 2018): a user's (optionally recency-weighted)
history row, dropped out and L2-normalised, is encoded to ``hidden`` units and decoded
to a softmax over all items; loss is the multinomial log-likelihood of the history.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cf.data import Interactions
from cf.ease import recency_weights
from cf.torch_base import TorchRecommender


class NeuralCF(TorchRecommender):
    """NeuMF: GMF + MLP towers over user and item embeddings, BCE with sampled negatives."""

    def __init__(
        self,
        *,
        factors: int = 32,
        hidden: int = 64,
        epochs: int = 8,
        negatives: int = 4,
        lr: float = 0.002,
        weight_decay: float = 1e-6,
        batch_size: int = 2048,
        seed: int = 0,
    ) -> None:
        self.factors = factors
        self.hidden = hidden
        self.epochs = epochs
        self.negatives = negatives
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.seed = seed

    def _build(self, x: Interactions) -> Any:
        import torch
        from torch import nn

        f, h = self.factors, self.hidden

        class NeuMF(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.gmf_u = nn.Embedding(x.n_users, f)
                self.gmf_i = nn.Embedding(x.n_items, f)
                self.mlp_u = nn.Embedding(x.n_users, f)
                self.mlp_i = nn.Embedding(x.n_items, f)
                self.mlp = nn.Sequential(nn.Linear(2 * f, h), nn.ReLU(), nn.Linear(h, f), nn.ReLU())
                self.out = nn.Linear(2 * f, 1)
                for emb in (self.gmf_u, self.gmf_i, self.mlp_u, self.mlp_i):
                    nn.init.normal_(emb.weight, std=0.05)

            def forward(self, u: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
                gmf = self.gmf_u(u) * self.gmf_i(i)
                mlp = self.mlp(torch.cat([self.mlp_u(u), self.mlp_i(i)], dim=-1))
                return self.out(torch.cat([gmf, mlp], dim=-1)).squeeze(-1)

        return NeuMF()

    def _train(self, x: Interactions, net: Any, gen: Any) -> None:
        import torch

        coo = x.binary().tocoo()
        users = torch.as_tensor(coo.row, dtype=torch.long)
        items = torch.as_tensor(coo.col, dtype=torch.long)
        opt = torch.optim.Adam(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        loss_fn = torch.nn.BCEWithLogitsLoss()
        n_neg = self.negatives
        for _ in range(self.epochs):
            u = users.repeat(1 + n_neg)
            neg = torch.randint(0, x.n_items, (len(users) * n_neg,), generator=gen)
            i = torch.cat([items, neg])
            # a sampled "negative" that is in fact seen is rare on sparse data; it stays 0
            y = torch.cat([torch.ones(len(users)), torch.zeros(len(neg))])
            order = torch.randperm(len(u), generator=gen)
            for s in range(0, len(order), self.batch_size):
                b = order[s : s + self.batch_size]
                opt.zero_grad()
                loss = loss_fn(net(u[b], i[b]), y[b])
                loss.backward()
                opt.step()

    def _scores(self, rows: np.ndarray) -> np.ndarray:
        import torch

        n_items = self.train_.n_items
        with torch.no_grad():
            u = torch.as_tensor(np.repeat(rows, n_items), dtype=torch.long)
            i = torch.arange(n_items).repeat(len(rows))
            return self.net_(u, i).reshape(len(rows), n_items).numpy()


class AutoencoderRec(TorchRecommender):
    """Mult-DAE: denoising autoencoder of a user's history with a multinomial likelihood."""

    def __init__(
        self,
        *,
        hidden: int = 200,
        dropout: float = 0.5,
        epochs: int = 50,
        lr: float = 0.005,
        weight_decay: float = 0.0,
        batch_size: int = 128,
        recency_tau: float | None = None,
        seed: int = 0,
    ) -> None:
        self.hidden = hidden
        self.dropout = dropout
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.recency_tau = recency_tau
        self.seed = seed

    def _build(self, x: Interactions) -> Any:
        from torch import nn

        return nn.Sequential(
            nn.Dropout(self.dropout),
            nn.Linear(x.n_items, self.hidden),
            nn.Tanh(),
            nn.Linear(self.hidden, x.n_items),
        )

    def _inputs(self, x: Interactions, rows: np.ndarray) -> Any:
        import torch

        hist = recency_weights(x, self.recency_tau)[rows].toarray().astype(np.float32)
        return torch.nn.functional.normalize(torch.from_numpy(hist), dim=1)

    def _train(self, x: Interactions, net: Any, gen: Any) -> None:
        import torch

        target = torch.from_numpy(x.binary()[np.arange(x.n_users)].toarray())
        inputs = self._inputs(x, np.arange(x.n_users))
        opt = torch.optim.Adam(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        for _ in range(self.epochs):
            order = torch.randperm(x.n_users, generator=gen)
            for s in range(0, x.n_users, self.batch_size):
                b = order[s : s + self.batch_size]
                opt.zero_grad()
                logp = torch.log_softmax(net(inputs[b]), dim=1)
                loss = -(logp * target[b]).sum(dim=1).mean()
                loss.backward()
                opt.step()

    def _scores(self, rows: np.ndarray) -> np.ndarray:
        import torch

        with torch.no_grad():
            return self.net_(self._inputs(self.train_, rows)).numpy()
