"""Pareto/NBD (Schmittlein, Morrison & Colombo 1987): purchases at a gamma-distributed Poisson rate while
alive, a lifetime exponential with a gamma-distributed dropout rate — dropout at any time, not only at a
purchase as in BG/NBD.

Formulas from Fader & Hardie (2005), "A note on deriving the Pareto/NBD model and related expressions": the
likelihood (equation 22 with A₀ from 19 and 20), P(alive) (equation 18) and the conditional expectation
(equation 21). A₀ is computed in logs, its two hypergeometric terms differenced with logsumexp, as in the
`lifetimes` package: the terms are nearly equal for customers whose last purchase is recent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, gammaln, hyp2f1, logsumexp, roots_legendre

from salesinsights.clv.counts import nbd_probabilities, with_tail
from salesinsights.clv.mle import Vector

# Gauss-Legendre nodes for the repeat-count distribution's integral over the lifetime, taken over the
# lifetime's probability rather than its time (see repeat_count_distribution).
_NODES, _WEIGHTS = roots_legendre(64)


@dataclass(frozen=True)
class ParetoNbdParams:
    r: float
    alpha: float
    s: float
    beta: float


def _log_a0(params: ParetoNbdParams, x: Vector, t_x: Vector, age: Vector) -> Vector:
    """ln A₀: the hypergeometric form is written in the larger of α and β, so its argument stays in [0, 1)."""
    r, alpha, s, beta = params.r, params.alpha, params.s, params.beta
    larger, second = (beta, r + x) if alpha < beta else (alpha, np.full_like(x, s + 1))
    gap = abs(alpha - beta)
    rsx = r + s + x
    at_last = larger + t_x
    at_age = larger + age
    # A₀ = F(t_x)/(larger+t_x)^rsx - F(T)/(larger+T)^rsx, over a common denominator.
    terms = np.stack(
        [
            np.log(hyp2f1(rsx, second, rsx + 1, gap / at_last)) + rsx * np.log(at_age),
            np.log(hyp2f1(rsx, second, rsx + 1, gap / at_age)) + rsx * np.log(at_last),
        ]
    )
    signs = np.stack([np.ones_like(x), -np.ones_like(x)])
    difference = logsumexp(terms, axis=0, b=signs)
    return np.asarray(difference - rsx * (np.log(at_last) + np.log(at_age)), dtype=np.float64)


def _log_dropped_to_alive(params: ParetoNbdParams, x: Vector, t_x: Vector, age: Vector) -> Vector:
    """ln of s/(r+s+x) · (α+T)^(r+x) (β+T)^s · A₀: the odds of having dropped out by T."""
    r, alpha, s, beta = params.r, params.alpha, params.s, params.beta
    return np.asarray(
        np.log(s)
        - np.log(r + s + x)
        + (r + x) * np.log(alpha + age)
        + s * np.log(beta + age)
        + _log_a0(params, x, t_x, age),
        dtype=np.float64,
    )


def log_likelihoods(params: ParetoNbdParams, x: Vector, t_x: Vector, age: Vector) -> Vector:
    r, alpha, s, beta = params.r, params.alpha, params.s, params.beta
    alive_through_age = (
        gammaln(r + x)
        - gammaln(r)
        + r * np.log(alpha)
        + s * np.log(beta)
        - (r + x) * np.log(alpha + age)
        - s * np.log(beta + age)
    )
    return np.asarray(
        alive_through_age + np.logaddexp(0.0, _log_dropped_to_alive(params, x, t_x, age)), dtype=np.float64
    )


def probability_alive(params: ParetoNbdParams, x: Vector, t_x: Vector, age: Vector) -> Vector:
    return np.asarray(expit(-_log_dropped_to_alive(params, x, t_x, age)), dtype=np.float64)


def expected_purchases(
    params: ParetoNbdParams, horizon: float, x: Vector, t_x: Vector, age: Vector
) -> Vector:
    """E[purchases in (T, T + horizon] | x, t_x, T] = (r+x)(β+T)/((α+T)(s-1)) · [1 - ((β+T)/(β+T+t))^(s-1)]
    · P(alive), horizon t > 0; the bracket over (s-1) tends to ln((β+T+t)/(β+T)) as s → 1."""
    r, alpha, s, beta = params.r, params.alpha, params.s, params.beta
    log_ratio = np.log(beta + age + horizon) - np.log(beta + age)
    shrink = log_ratio if abs(s - 1) < 1e-9 else -np.expm1(-(s - 1) * log_ratio) / (s - 1)
    if_alive = (r + x) * (beta + age) / (alpha + age) * shrink
    return np.asarray(if_alive * probability_alive(params, x, t_x, age), dtype=np.float64)


def repeat_count_distribution(params: ParetoNbdParams, t: Vector, max_count: int) -> Vector:
    """P(X(t) = x) for x = 0..max_count-1 and P(X(t) >= max_count): the NBD count over the time alive,
    min(τ, t), with the lifetime τ Pareto (Lomax) distributed, F(u) = 1 - (β/(β+u))^s —
    (1 - F(t)) · NBD_x(t) + ∫₀ᵗ NBD_x(u) dF(u). The integral is taken over p = F(u), u = β((1-p)^(-1/s) - 1),
    by Gauss-Legendre: in u the density piles up near 0 when β is small beside t, in p it is flat."""
    t_ = np.asarray(t, dtype=np.float64)
    r, alpha, s, beta = params.r, params.alpha, params.s, params.beta
    survival = (beta / (beta + t_)) ** s
    survives = survival[:, None] * nbd_probabilities(r, alpha, t_[:, None], max_count)
    # p at the nodes mapped from [-1, 1] to [0, F(t)]: one row per t, one column per node.
    dropped_by_t = 1 - survival
    p = (dropped_by_t[:, None] / 2) * (_NODES[None, :] + 1)
    u = beta * ((1 - p) ** (-1 / s) - 1)
    weights = (dropped_by_t[:, None] / 2) * _WEIGHTS[None, :]
    counts_at_u = nbd_probabilities(r, alpha, u.reshape(-1, 1), max_count).reshape(*u.shape, max_count)
    dropped = np.einsum("tn,tnx->tx", weights, counts_at_u)
    return with_tail(survives + dropped)
