"""The NBD probabilities of purchase counts while alive, from which every model builds its repeat-count
distribution P(X(t) = x) — the model's expected histogram of repeat purchases in the calibration period, the
classic check of a fit (Fader, Hardie & Lee 2005, figure 2)."""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from salesinsights.clv.mle import Vector


def nbd_probabilities(r: float, alpha: float, t: Vector, max_count: int) -> Vector:
    """Γ(r+x)/(Γ(r)·x!) · (α/(α+t))^r · (t/(α+t))^x for x = 0..max_count-1, one row per t (a column)."""
    counts = np.arange(max_count, dtype=np.float64)[None, :]
    log_nbd = (
        gammaln(r + counts)
        - gammaln(r)
        - gammaln(counts + 1)
        + r * np.log(alpha / (alpha + t))
        + counts * np.log(np.where(t > 0, t / (alpha + t), 1.0))
    )
    return np.asarray(np.where((t > 0) | (counts == 0), np.exp(log_nbd), 0.0), dtype=np.float64)


def with_tail(probabilities: Vector) -> Vector:
    """The probabilities of 0..max_count-1 and, in one more column, of max_count or more."""
    tail = np.clip(1 - probabilities.sum(axis=1, keepdims=True), 0.0, 1.0)
    return np.asarray(np.concatenate([probabilities, tail], axis=1), dtype=np.float64)


def below(probabilities: Vector) -> Vector:
    """Σ_{j<x} p_j for every x: the probability of fewer than x."""
    zeros = np.zeros_like(probabilities[:, :1])
    return np.asarray(np.concatenate([zeros, np.cumsum(probabilities, axis=1)[:, :-1]], axis=1))
