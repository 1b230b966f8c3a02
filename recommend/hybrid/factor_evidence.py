"""Which of the user's products carry the cf score when the served cf is weighted ALS.

ALS scores item ``i`` for user ``u`` as ``x_u . y_i``, with ``x_u`` the solution of the user's
confidence-weighted ridge system over a history. That score splits exactly over the
history's products (Hu, Koren & Volinsky 2008, section 5;
:meth:`cf.implicit_mf.WeightedALS.explain`): product ``j`` carries ``(y_i^T W_u y_j) c_uj``,
``W_u = (Y^T C_u Y + reg I)^-1``, ``c_uj`` the model's confidence of the user's value.

The history split is the one the served score comes from
(:meth:`recommend.hybrid.components.CfComponent.scores`):

- a user the model was fitted on is served their fitted factors: the split is of their
  training row folded in with the final item factors. The fitted factors solved the same
  system one sweep earlier, with a few conjugate-gradient steps, so the terms sum to the
  served score only up to that (ML-100K's artifact: a median 0.17% of the score at the
  served top 10);
- a user added after fitting is served exactly that fold-in of their current history row.

:func:`factor_fidelity` takes the product out of that history and folds it in again. Taking
``j`` out moves the score by ``s_ij (c_j - (c_j - 1) p_j) / (1 - (c_j - 1) y_j^T W_u y_j)``
(``s_ij = y_i^T W_u y_j``, ``p_j = y_j . x_u``; Sherman-Morrison): it lowers the score
exactly when j's term is positive, unless the model predicts ``p_j`` above
``c_j / (c_j - 1)`` (a preference it fits to 1; :meth:`~cf.implicit_mf.WeightedALS.
explain_removals`). Such a product is not evidence for any item: :func:`factor_terms` gives it
no term (on ML-100K's artifact, 1 shown path in 5,995 failed the fidelity check before).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from recommend.hybrid.components import csr_row

__all__ = ["factor_fidelity", "factor_terms", "splits_itself"]


def splits_itself(comp: Any) -> bool:
    """Whether ``comp`` is a cf component whose model splits its own scores (ALS's
    ``explain``) rather than being linear in the user's history."""
    return comp.name == "cf" and hasattr(getattr(comp, "model", None), "explain")


def _model_row(comp: Any, u: int) -> sp.csr_matrix | None:
    """User ``u``'s history the served ALS score folds in (module doc), over the model's
    columns; None when there is none."""
    model = comp.model
    if u < model.train_.n_users:
        row = csr_row(model.train_.matrix, u)
    elif u < comp.history_.shape[0]:
        row = csr_row(comp.history_, u)
    else:
        return None
    return row if row.nnz else None


def factor_terms(comp: Any, u: int, items: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(the user's products, their terms ``(len(products), len(items))``, the items' folded-in
    scores: the sums of every product's term) for graph product indices ``items`` (a product
    without a model column: 0), or None when the user has no history. A product whose removal
    would not lower the score its term raises (module doc) is given no term: not evidence."""
    row = _model_row(comp, u)
    if row is None:
        return None
    cols = comp.col_of_[np.asarray(items, np.int64)]
    known = cols >= 0
    j, found, agrees = comp.model.explain_removals(row, cols[known])
    terms = np.zeros((len(j), len(cols)))
    terms[:, known] = found
    scores = terms.sum(axis=0)
    terms[~agrees] = 0.0  # taking it out would raise the score
    return comp.columns_[j], terms, scores


def factor_fidelity(comp: Any, u: int, item: int, product: int
                    ) -> tuple[float, float] | None:
    """The folded-in score of ``item`` before and after taking ``product`` out of the user's
    history (module doc); None for a product or item without a model column, or a product
    the history lacks."""
    row = _model_row(comp, u)
    col_of = comp.col_of_
    if row is None or max(item, product) >= len(col_of) or min(col_of[[item, product]]) < 0:
        return None
    c, p = int(col_of[item]), int(col_of[product])
    keep = row.indices != p
    if keep.all():
        return None
    without = sp.csr_matrix((row.data[keep], row.indices[keep], [0, int(keep.sum())]),
                            shape=row.shape)
    model = comp.model
    return float(model.score_history(row)[0, c]), float(model.score_history(without)[0, c])
