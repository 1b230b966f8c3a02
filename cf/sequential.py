"""Self-attention over a user's ordered history (SASRec, Kang & McAuley 2018), in torch.

Each user's items in time order (the latest ``max_len``) pass through learned item and
position embeddings and causal transformer blocks; the state at each position predicts
the next item with a full softmax over the catalogue (tied item embeddings). The loss is
taken on each sequence's last ``train_positions`` positions only: the full softmax is the
cost, and the latest transitions are what a temporal split asks for. Recommending uses
the state after the last item.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cf.data import Interactions
from cf.torch_base import TorchRecommender


def padded_sequences(x: Interactions, length: int) -> np.ndarray:
    """(n_users, length) item indices + 1 in time order, left-padded with 0."""
    out = np.zeros((x.n_users, length), np.int64)
    for u in range(x.n_users):
        items = x.ordered_items(u)[-length:]
        if len(items):
            out[u, -len(items) :] = items + 1
    return out


class SelfAttentiveRec(TorchRecommender):
    """SASRec-style next-item model over the user's ordered history."""

    def __init__(
        self,
        *,
        dim: int = 64,
        heads: int = 2,
        layers: int = 2,
        max_len: int = 50,
        dropout: float = 0.2,
        epochs: int = 30,
        lr: float = 0.002,
        batch_size: int = 128,
        train_positions: int = 10,
        seed: int = 0,
    ) -> None:
        self.dim = dim
        self.heads = heads
        self.layers = layers
        self.max_len = max_len
        self.dropout = dropout
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.train_positions = train_positions
        self.seed = seed

    def _build(self, x: Interactions) -> Any:
        import torch
        from torch import nn

        d, n_items, length = self.dim, x.n_items, self.max_len
        heads, layers, drop = self.heads, self.layers, self.dropout

        class SASRec(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.item = nn.Embedding(n_items + 1, d, padding_idx=0)
                self.pos = nn.Embedding(length, d)
                # small init: with tied output weights, N(0, 1) embeddings start at huge logits
                nn.init.normal_(self.item.weight, std=0.05)
                nn.init.normal_(self.pos.weight, std=0.05)
                with torch.no_grad():
                    self.item.weight[0].zero_()
                block = nn.TransformerEncoderLayer(
                    d, heads, 2 * d, drop, batch_first=True, norm_first=True
                )
                self.encoder = nn.TransformerEncoder(block, layers, enable_nested_tensor=False)
                self.norm = nn.LayerNorm(d)
                self.drop = nn.Dropout(drop)
                self.register_buffer(
                    "causal", torch.triu(torch.ones(length, length, dtype=torch.bool), 1)
                )

            def forward(self, seq: torch.Tensor, last: int = 1) -> torch.Tensor:
                n = seq.shape[1]
                h = self.item(seq) * d**0.5 + self.pos.weight[-n:]
                h = self.encoder(self.drop(h), mask=self.causal[-n:, -n:])
                h = self.norm(h[:, -last:])
                return h @ self.item.weight[1:].T  # logits over items (no pad)

        return SASRec()

    def _train(self, x: Interactions, net: Any, gen: Any) -> None:
        import torch

        seqs = torch.from_numpy(padded_sequences(x, self.max_len + 1))
        inputs, targets = seqs[:, :-1], seqs[:, 1:] - 1  # target -1 = padding
        last = min(self.train_positions, self.max_len)
        targets = targets[:, -last:]
        opt = torch.optim.Adam(net.parameters(), lr=self.lr)
        loss_fn = torch.nn.CrossEntropyLoss(ignore_index=-1)
        for _ in range(self.epochs):
            order = torch.randperm(len(seqs), generator=gen)
            for s in range(0, len(seqs), self.batch_size):
                b = order[s : s + self.batch_size]
                opt.zero_grad()
                logits = net(inputs[b], last)
                loss = loss_fn(logits.reshape(-1, logits.shape[-1]), targets[b].reshape(-1))
                loss.backward()
                opt.step()

    def _fit(self, x: Interactions) -> None:
        self.sequences_ = padded_sequences(x, self.max_len)
        super()._fit(x)

    def _scores(self, rows: np.ndarray) -> np.ndarray:
        import torch

        with torch.no_grad():
            return self.net_(torch.from_numpy(self.sequences_[rows]))[:, -1, :].numpy()
