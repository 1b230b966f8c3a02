from __future__ import annotations

import numpy as np
import pytest

from nlp.prior_shift import adapt_priors, reweight

MEANS = np.array([[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]])


def posteriors(x: np.ndarray, priors: np.ndarray) -> np.ndarray:
    """Exact posteriors of the three unit-variance Gaussian classes under ``priors``."""
    log = -0.5 * ((x[:, None, :] - MEANS[None]) ** 2).sum(-1) + np.log(priors)
    log -= log.max(axis=1, keepdims=True)
    p = np.exp(log)
    return p / p.sum(axis=1, keepdims=True)


def sample(n: int, priors: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.choice(3, size=n, p=priors)
    return MEANS[y] + rng.standard_normal((n, 2)), y


def test_em_recovers_known_target_priors_and_improves_accuracy():
    source = np.array([0.6, 0.25, 0.15])
    target = np.array([0.1, 0.3, 0.6])
    x, y = sample(6000, target, seed=1)
    proba = posteriors(x, source)  # a calibrated classifier trained under the source priors
    shift = adapt_priors(proba, source)
    assert shift.converged
    np.testing.assert_allclose(shift.priors, target, atol=0.03)
    np.testing.assert_allclose(shift.proba.sum(axis=1), 1.0, atol=1e-9)
    before = (proba.argmax(1) == y).mean()
    after = (shift.proba.argmax(1) == y).mean()
    assert after > before + 0.02
    np.testing.assert_allclose(shift.proba, posteriors(x, shift.priors), atol=1e-6)


def test_no_shift_keeps_the_priors_and_empty_batch_is_fine():
    source = np.array([0.2, 0.3, 0.5])
    x, _ = sample(8000, source, seed=2)
    np.testing.assert_allclose(adapt_priors(posteriors(x, source), source).priors, source,
                               atol=0.03)
    empty = adapt_priors(np.zeros((0, 3)), source)
    assert empty.proba.shape == (0, 3) and empty.converged


def test_reweight_by_equal_priors_changes_nothing():
    p = np.array([[0.7, 0.2, 0.1], [0.0, 0.0, 0.0]])
    out = reweight(p, np.full(3, 1 / 3), np.full(3, 1 / 3))
    np.testing.assert_allclose(out[0], p[0])
    np.testing.assert_allclose(out[1], 1 / 3)  # an all-zero row becomes uniform, not NaN


@pytest.mark.parametrize(("proba", "priors", "message"), [
    (np.ones(3), [1 / 3] * 3, "must be a \\(texts, classes >= 2\\) array"),
    (np.ones((2, 3)) / 3, [0.5, 0.5], "2 source priors for 3 classes"),
    (np.array([[np.nan, 0.5, 0.5]]), [1 / 3] * 3, "finite and non-negative"),
    (np.ones((2, 3)) / 3, [0.5, 0.5, 0.5], "positive and sum to 1"),
])
def test_bad_input_is_named(proba, priors, message):
    with pytest.raises(ValueError, match=message):
        adapt_priors(proba, priors)
