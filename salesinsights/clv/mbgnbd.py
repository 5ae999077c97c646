"""MBG/NBD, the modified BG/NBD (Batislam, Denizel & Filiztekin 2007, "Empirical validation and comparison
of models for customer base analysis", IJRM 24(3)): as BG/NBD, but a customer may also drop out at the first
purchase, so one without repeat purchases is not certainly alive — BG/NBD's P(alive) = 1 for every one-time
buyer, however long ago, is what this model was made to correct.

L = B(a, b+x+1)/B(a, b) · Γ(r+x)α^r / (Γ(r)(α+T)^(r+x))
  + B(a+1, b+x)/B(a, b) · Γ(r+x)α^r / (Γ(r)(α+t_x)^(r+x)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, expit, gammaln

from salesinsights.clv.bgnbd import expected_purchases_if_alive
from salesinsights.clv.counts import below, nbd_probabilities, with_tail
from salesinsights.clv.mle import Vector


@dataclass(frozen=True)
class MbgNbdParams:
    r: float
    alpha: float
    a: float
    b: float


def _log_dropout_odds(params: MbgNbdParams, x: Vector, t_x: Vector, age: Vector) -> Vector:
    """ln of a/(b+x) · ((α+T)/(α+t_x))^(r+x): the odds of having dropped out at the last purchase."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    return np.asarray(
        np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + age) - np.log(alpha + t_x)), dtype=np.float64
    )


def log_likelihoods(params: MbgNbdParams, x: Vector, t_x: Vector, age: Vector) -> Vector:
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    still_alive = (
        gammaln(r + x)
        - gammaln(r)
        + r * np.log(alpha)
        + gammaln(a + b)
        + gammaln(b + x + 1)
        - gammaln(b)
        - gammaln(a + b + x + 1)
        - (r + x) * np.log(alpha + age)
    )
    return np.asarray(
        still_alive + np.logaddexp(0.0, _log_dropout_odds(params, x, t_x, age)), dtype=np.float64
    )


def probability_alive(params: MbgNbdParams, x: Vector, t_x: Vector, age: Vector) -> Vector:
    return np.asarray(expit(-_log_dropout_odds(params, x, t_x, age)), dtype=np.float64)


def expected_purchases(params: MbgNbdParams, horizon: float, x: Vector, t_x: Vector, age: Vector) -> Vector:
    """E[purchases in (T, T + horizon] | x, t_x, T] (Batislam et al. 2007, equation 9), horizon > 0: BG/NBD's
    expectation while alive with b + 1, times this model's P(alive)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    if_alive = expected_purchases_if_alive(r, alpha, a, b + 1, horizon, x, age)
    return np.asarray(if_alive * probability_alive(params, x, t_x, age), dtype=np.float64)


def repeat_count_distribution(params: MbgNbdParams, t: Vector, max_count: int) -> Vector:
    """P(X(t) = x) for x = 0..max_count-1 and P(X(t) >= max_count): alive after x purchases and the first
    with B(a, b+x+1)/B(a, b), dropped out at the x-th repeat purchase (x = 0: at the first purchase) with
    B(a+1, b+x)/B(a, b), which needs at least x purchases by t."""
    t_ = np.asarray(t, dtype=np.float64)[:, None]
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    counts = np.arange(max_count, dtype=np.float64)[None, :]
    nbd = nbd_probabilities(r, alpha, t_, max_count)
    alive_part = np.exp(betaln(a, b + counts + 1) - betaln(a, b)) * nbd
    dropout_part = np.exp(betaln(a + 1, b + counts) - betaln(a, b)) * (1 - below(nbd))
    return with_tail(alive_part + dropout_part)
