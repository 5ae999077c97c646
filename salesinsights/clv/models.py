"""BG/NBD (purchase counts) and Gamma-Gamma (spend per occasion): log-likelihoods and maximum-likelihood fits.

Pure numpy/scipy. Every input is a column per customer, or per group of identical customers with a weight
(the count), so a fit on millions of customers needs only their distinct (x, t_x, T) triples. T, the time
since the first purchase, is called `age` in code (Python names are lower case).
References: Fader, Hardie & Lee (2005), "Counting your customers the easy way", Marketing Science 24(2);
Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves", JMR 42(4) — the Gamma-Gamma model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from scipy.special import gammaln

Vector = NDArray[np.float64]


@dataclass(frozen=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    gamma: float


@dataclass(frozen=True)
class FitDiagnostics:
    log_likelihood: float
    converged: bool
    iterations: int
    customers: float


@dataclass(frozen=True)
class BgNbdFit:
    params: BgNbdParams
    diagnostics: FitDiagnostics


@dataclass(frozen=True)
class GammaGammaFit:
    params: GammaGammaParams
    diagnostics: FitDiagnostics


def _vectors(*columns: ArrayLike) -> list[Vector]:
    return [np.asarray(column, dtype=np.float64) for column in columns]


def _weights(weights: ArrayLike | None, like: Vector) -> Vector:
    return np.ones_like(like) if weights is None else np.asarray(weights, dtype=np.float64)


def bgnbd_log_likelihood(
    params: BgNbdParams, x: ArrayLike, t_x: ArrayLike, age: ArrayLike, weights: ArrayLike | None = None
) -> float:
    """Σ weight · ln L(r, α, a, b | x, t_x, T), equation (6) of Fader, Hardie & Lee (2005)."""
    x_, t_x_, age_ = _vectors(x, t_x, age)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    common = (
        gammaln(r + x_)
        - gammaln(r)
        + r * np.log(alpha)
        + gammaln(a + b)
        + gammaln(b + x_)
        - gammaln(b)
        - gammaln(a + b + x_)
    )
    still_alive = -(r + x_) * np.log(alpha + age_)
    repeaters = x_ > 0
    # The dropout term exists only for repeat buyers; np.where keeps b + x - 1 > 0 for the others.
    dropped = np.where(
        repeaters,
        np.log(a) - np.log(np.where(repeaters, b + x_ - 1, 1.0)) - (r + x_) * np.log(alpha + t_x_),
        -np.inf,
    )
    return float(np.sum(_weights(weights, x_) * (common + np.logaddexp(still_alive, dropped))))


def gamma_gamma_log_likelihood(
    params: GammaGammaParams, x: ArrayLike, m: ArrayLike, weights: ArrayLike | None = None
) -> float:
    """Σ weight · ln f(m̄ | p, q, γ, x) for repeat buyers (x ≥ 1, m̄ their mean spend per repeat occasion)."""
    x_, m_ = _vectors(x, m)
    p, q, gamma = params.p, params.q, params.gamma
    px = p * x_
    per_customer = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(gamma)
        + (px - 1) * np.log(m_)
        + px * np.log(x_)
        - (px + q) * np.log(gamma + m_ * x_)
    )
    return float(np.sum(_weights(weights, x_) * per_customer))


def _maximise(
    log_likelihood: Callable[[Vector], float], start: Vector, total_weight: float
) -> tuple[Vector, FitDiagnostics]:
    """Maximise over the logarithms of the (positive) parameters; the objective is scaled per customer so
    that the optimiser's tolerances mean the same for a thousand customers as for a million."""
    result = minimize(
        lambda log_params: -log_likelihood(np.exp(log_params)) / total_weight,
        start,
        method="L-BFGS-B",
        options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9},
    )
    params = np.exp(result.x)
    diagnostics = FitDiagnostics(
        log_likelihood=log_likelihood(params),
        converged=bool(result.success),
        iterations=int(result.nit),
        customers=total_weight,
    )
    return params, diagnostics


def fit_bgnbd(x: ArrayLike, t_x: ArrayLike, age: ArrayLike, weights: ArrayLike | None = None) -> BgNbdFit:
    x_, t_x_, age_ = _vectors(x, t_x, age)
    w = _weights(weights, x_)
    if not np.all((x_ >= 0) & (t_x_ >= 0) & (t_x_ <= age_)):
        raise ValueError("BG/NBD needs 0 <= recency <= age T and frequency >= 0 for every customer")
    # α is on the time unit's scale: start it at the mean age, everything else at 1.
    start = np.log([1.0, max(float(np.average(age_, weights=w)), 1e-3), 1.0, 1.0])
    values, diagnostics = _maximise(
        lambda v: bgnbd_log_likelihood(BgNbdParams(*v), x_, t_x_, age_, w), start, float(w.sum())
    )
    return BgNbdFit(BgNbdParams(*map(float, values)), diagnostics)


def fit_gamma_gamma(x: ArrayLike, m: ArrayLike, weights: ArrayLike | None = None) -> GammaGammaFit:
    x_, m_ = _vectors(x, m)
    w = _weights(weights, x_)
    if not np.all((x_ >= 1) & (m_ > 0)):
        raise ValueError("Gamma-Gamma is fitted on repeat buyers with a positive mean spend only")
    start = np.log([1.0, 1.0, max(float(np.average(m_, weights=w)), 1e-3)])
    values, diagnostics = _maximise(
        lambda v: gamma_gamma_log_likelihood(GammaGammaParams(*v), x_, m_, w), start, float(w.sum())
    )
    return GammaGammaFit(GammaGammaParams(*map(float, values)), diagnostics)
