"""Label-shift (prior) adaptation of a classifier's probabilities to an unlabelled batch.

A classifier trained where classes occur with priors ``p_s(y)`` gives posteriors ``p_s(y|x)``.
If the texts it now scores come with other priors ``p_t(y)`` but the same ``p(x|y)`` (label
shift: airline tweets are 63% negative, conference tweets mostly neutral), Bayes' rule gives
``p_t(y|x) ∝ p_s(y|x) · p_t(y) / p_s(y)``. The target priors are unknown; the EM of Saerens,
Latinne & Decaestecker (2002, "Adjusting the outputs of a classifier to new a priori
probabilities") estimates them from the unlabelled batch alone: E-step, re-weight each row by
``p_t / p_s`` and normalise; M-step, ``p_t`` = mean of the re-weighted rows; repeat until the
priors move less than ``tol``. Pure numpy.

Its estimated priors say what share of an unlabelled corpus each class holds. Its adapted
posteriors are not used for decisions: ``bench/sentiment_transfer.py`` found they lower
macro-F1 in every transfer measured (decisions move to the majority class).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class PriorShift:
    """The adapted posteriors, the estimated target priors and how EM ended."""

    proba: np.ndarray
    priors: np.ndarray
    iterations: int
    converged: bool


def _check(proba: np.ndarray, source_priors: np.ndarray) -> None:
    if proba.ndim != 2 or proba.shape[1] < 2:
        raise ValueError(f"posteriors must be a (texts, classes >= 2) array, not {proba.shape}")
    if source_priors.shape != (proba.shape[1],):
        raise ValueError(f"{source_priors.shape[0] if source_priors.ndim else 0} source priors "
                         f"for {proba.shape[1]} classes")
    if not np.all(np.isfinite(proba)) or np.any(proba < 0):
        raise ValueError("posteriors must be finite and non-negative")
    if np.any(source_priors <= 0) or not np.isclose(source_priors.sum(), 1.0, atol=1e-4):
        raise ValueError(f"source priors must be positive and sum to 1, not {source_priors}")


def reweight(proba: np.ndarray, source_priors: np.ndarray,
             target_priors: np.ndarray) -> np.ndarray:
    """Posteriors under ``target_priors``: rows times ``target / source``, normalised."""
    weighted = proba * (np.asarray(target_priors) / np.asarray(source_priors))
    total = weighted.sum(axis=1, keepdims=True)
    return np.divide(weighted, total, out=np.full_like(weighted, 1.0 / proba.shape[1]),
                     where=total > 0)


def adapt_priors(proba: np.ndarray, source_priors: np.ndarray | list[float], *,
                 max_iter: int = 200, tol: float = 1e-6) -> PriorShift:
    """EM estimate of the batch's class priors, and its posteriors re-weighted to them.

    ``proba``: (texts, classes) posteriors of a classifier whose training priors (the priors
    its probabilities assume; uniform for a class-balanced fit) are ``source_priors``.
    """
    proba = np.asarray(proba, dtype=np.float64)
    source = np.asarray(source_priors, dtype=np.float64)
    _check(proba, source)
    if len(proba) == 0:
        return PriorShift(proba.copy(), source.copy(), 0, True)
    priors = source.copy()
    adapted = proba
    for iteration in range(1, max_iter + 1):
        adapted = reweight(proba, source, priors)
        new = adapted.mean(axis=0)
        step = float(np.abs(new - priors).max())
        priors = new
        if step < tol:
            return PriorShift(reweight(proba, source, priors), priors, iteration, True)
    return PriorShift(reweight(proba, source, priors), priors, max_iter, False)
