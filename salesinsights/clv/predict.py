"""Per-customer predictions of fitted BG/NBD and Gamma-Gamma models, vectorised over numpy columns.

Formulas from Fader, Hardie & Lee (2005): P(alive) is equation (11), the conditional expectation equation
(10), the repeat-count distribution equation (8); the Gamma-Gamma conditional mean is from their JMR paper.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import betaln, expit, gammaln, hyp2f1

from salesinsights.clv.models import BgNbdParams, GammaGammaParams, Vector


def _log_dropout_odds(params: BgNbdParams, x: Vector, t_x: Vector, age: Vector) -> Vector:
    """ln of a/(b+x-1) · ((α+T)/(α+t_x))^(r+x): the odds of having dropped out after the last purchase;
    -inf (odds 0) for customers without repeat purchases, who cannot have dropped out yet in this model."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    repeaters = x > 0
    return np.where(
        repeaters,
        np.log(a)
        - np.log(np.where(repeaters, b + x - 1, 1.0))
        + (r + x) * (np.log(alpha + age) - np.log(alpha + t_x)),
        -np.inf,
    )


def probability_alive(params: BgNbdParams, x: ArrayLike, t_x: ArrayLike, age: ArrayLike) -> Vector:
    x_, t_x_, age_ = (np.asarray(v, dtype=np.float64) for v in (x, t_x, age))
    return np.asarray(expit(-_log_dropout_odds(params, x_, t_x_, age_)), dtype=np.float64)


def expected_purchases(
    params: BgNbdParams, horizon: float, x: ArrayLike, t_x: ArrayLike, age: ArrayLike
) -> Vector:
    """E[purchases in (T, T + horizon] | x, t_x, T], horizon in the same time unit as T."""
    x_, t_x_, age_ = (np.asarray(v, dtype=np.float64) for v in (x, t_x, age))
    if horizon <= 0:
        return np.zeros_like(x_)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    ratio = (alpha + age_) / (alpha + age_ + horizon)
    hypergeometric = hyp2f1(r + x_, b + x_, a + b + x_ - 1, horizon / (alpha + age_ + horizon))
    if_alive = (a + b + x_ - 1) / (a - 1) * (1 - ratio ** (r + x_) * hypergeometric)
    return np.asarray(if_alive * expit(-_log_dropout_odds(params, x_, t_x_, age_)), dtype=np.float64)


def expected_average_value(params: GammaGammaParams, x: ArrayLike, m: ArrayLike) -> Vector:
    """E[spend per occasion | x, m̄]: the customer's mean shrunk towards the population's, the more the fewer
    repeat occasions it rests on; the population mean p·γ/(q-1) for customers without repeat occasions."""
    x_, m_ = (np.asarray(v, dtype=np.float64) for v in (x, m))
    p, q, gamma = params.p, params.q, params.gamma
    m_known = np.where(x_ > 0, m_, 0.0)
    return np.asarray(p * (gamma + m_known * x_) / (p * x_ + q - 1), dtype=np.float64)


def discounted_clv(
    bgnbd: BgNbdParams,
    average_value: ArrayLike,
    x: ArrayLike,
    t_x: ArrayLike,
    age: ArrayLike,
    months: int,
    monthly_discount_rate: float,
    units_per_month: float,
) -> Vector:
    """Σ over months i = 1..months of the value expected in month i, discounted by (1 + d)^i."""
    value = np.asarray(average_value, dtype=np.float64)
    clv = np.zeros_like(value)
    previous = np.zeros_like(value)
    for month in range(1, months + 1):
        cumulative = expected_purchases(bgnbd, month * units_per_month, x, t_x, age)
        clv += value * (cumulative - previous) / (1 + monthly_discount_rate) ** month
        previous = cumulative
    return clv


def repeat_count_distribution(params: BgNbdParams, t: ArrayLike, max_count: int) -> Vector:
    """P(X(t) = x) for x = 0..max_count-1 and, in the last column, P(X(t) >= max_count): one row per t.

    Averaged over the customers' ages it is the model's expected histogram of repeat purchases in the
    calibration period, the classic check of a BG/NBD fit (Fader, Hardie & Lee 2005, figure 2)."""
    t_ = np.asarray(t, dtype=np.float64)[:, None]
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    counts = np.arange(max_count, dtype=np.float64)[None, :]
    # ln[Γ(r+x)/(Γ(r)·x!) · (α/(α+t))^r · (t/(α+t))^x], the NBD probability of x purchases while alive.
    log_nbd = (
        gammaln(r + counts)
        - gammaln(r)
        - gammaln(counts + 1)
        + r * np.log(alpha / (alpha + t_))
        + counts * np.log(np.where(t_ > 0, t_ / (alpha + t_), 1.0))
    )
    nbd = np.where((t_ > 0) | (counts == 0), np.exp(log_nbd), 0.0)
    # P(X(t) >= x) under the NBD alone, for the dropout term: 1 - Σ_{j<x} nbd_j.
    nbd_below = np.concatenate([np.zeros_like(t_), np.cumsum(nbd, axis=1)[:, :-1]], axis=1)
    alive_part = np.exp(betaln(a, b + counts) - betaln(a, b)) * nbd
    dropout_part = np.where(
        counts > 0,
        np.exp(betaln(a + 1, b + np.maximum(counts, 1) - 1) - betaln(a, b)) * (1 - nbd_below),
        0.0,
    )
    probabilities = alive_part + dropout_part
    tail = np.clip(1 - probabilities.sum(axis=1, keepdims=True), 0.0, 1.0)
    return np.asarray(np.concatenate([probabilities, tail], axis=1), dtype=np.float64)
