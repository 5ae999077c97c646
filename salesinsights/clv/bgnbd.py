"""BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way", Marketing Science 24(2)):
purchases at a gamma-distributed Poisson rate while alive, dropout with a beta-distributed probability after
each repeat purchase.

The likelihood is equation (6), P(alive) equation (11), the conditional expectation equation (10), the
repeat-count distribution equation (8). A customer enters through (x, t_x, T): repeat purchases, the time of
the last one and the age since the first, T called `age` in code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, expit, gammaln, hyp2f1

from salesinsights.clv.counts import below, nbd_probabilities, with_tail
from salesinsights.clv.mle import Vector


@dataclass(frozen=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float


def log_likelihoods(params: BgNbdParams, x: Vector, t_x: Vector, age: Vector) -> Vector:
    """ln L(r, α, a, b | x, t_x, T) per customer."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    common = (
        gammaln(r + x)
        - gammaln(r)
        + r * np.log(alpha)
        + gammaln(a + b)
        + gammaln(b + x)
        - gammaln(b)
        - gammaln(a + b + x)
    )
    still_alive = -(r + x) * np.log(alpha + age)
    repeaters = x > 0
    # The dropout term exists only for repeat buyers; np.where keeps b + x - 1 > 0 for the others.
    dropped = np.where(
        repeaters,
        np.log(a) - np.log(np.where(repeaters, b + x - 1, 1.0)) - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    return np.asarray(common + np.logaddexp(still_alive, dropped), dtype=np.float64)


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


def probability_alive(params: BgNbdParams, x: Vector, t_x: Vector, age: Vector) -> Vector:
    return np.asarray(expit(-_log_dropout_odds(params, x, t_x, age)), dtype=np.float64)


def expected_purchases_if_alive(
    r: float, alpha: float, a: float, b: float, horizon: float, x: Vector, age: Vector
) -> Vector:
    """E[purchases in (T, T + horizon] | alive at T, x, T]: the bracket of equation (10). MBG/NBD's is the
    same with b + 1 (Batislam et al. 2007, equation 9)."""
    ratio = (alpha + age) / (alpha + age + horizon)
    hypergeometric = hyp2f1(r + x, b + x, a + b + x - 1, horizon / (alpha + age + horizon))
    return np.asarray((a + b + x - 1) / (a - 1) * (1 - ratio ** (r + x) * hypergeometric), dtype=np.float64)


def expected_purchases(params: BgNbdParams, horizon: float, x: Vector, t_x: Vector, age: Vector) -> Vector:
    """E[purchases in (T, T + horizon] | x, t_x, T], horizon (> 0) in the same time unit as T."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    if_alive = expected_purchases_if_alive(r, alpha, a, b, horizon, x, age)
    return np.asarray(if_alive * probability_alive(params, x, t_x, age), dtype=np.float64)


def repeat_count_distribution(params: BgNbdParams, t: Vector, max_count: int) -> Vector:
    """P(X(t) = x) for x = 0..max_count-1 and, in the last column, P(X(t) >= max_count): one row per t.
    Alive after x purchases with B(a, b+x)/B(a, b), dropped out at the x-th (x ≥ 1) with
    B(a+1, b+x-1)/B(a, b), which needs at least x purchases by t."""
    t_ = np.asarray(t, dtype=np.float64)[:, None]
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    counts = np.arange(max_count, dtype=np.float64)[None, :]
    nbd = nbd_probabilities(r, alpha, t_, max_count)
    alive_part = np.exp(betaln(a, b + counts) - betaln(a, b)) * nbd
    dropout_part = np.where(
        counts > 0,
        np.exp(betaln(a + 1, b + np.maximum(counts, 1) - 1) - betaln(a, b)) * (1 - below(nbd)),
        0.0,
    )
    return with_tail(alive_part + dropout_part)
