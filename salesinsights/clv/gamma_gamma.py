"""Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV: using iso-value curves", JMR 42(4)): the spend per
occasion of repeat buyers, independent of how often they buy. Fitted on repeat buyers only (x ≥ 1, m̄ their
mean spend per repeat occasion)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import gammaln

from salesinsights.clv.mle import FitDiagnostics, Vector, maximise, vectors, weights_like


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    gamma: float


@dataclass(frozen=True)
class GammaGammaFit:
    params: GammaGammaParams
    diagnostics: FitDiagnostics


def log_likelihood(
    params: GammaGammaParams, x: ArrayLike, m: ArrayLike, weights: ArrayLike | None = None
) -> float:
    """Σ weight · ln f(m̄ | p, q, γ, x)."""
    x_, m_ = vectors(x, m)
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
    return float(np.sum(weights_like(weights, x_) * per_customer))


def fit_gamma_gamma(x: ArrayLike, m: ArrayLike, weights: ArrayLike | None = None) -> GammaGammaFit:
    x_, m_ = vectors(x, m)
    w = weights_like(weights, x_)
    if not np.all((x_ >= 1) & (m_ > 0)):
        raise ValueError("Gamma-Gamma is fitted on repeat buyers with a positive mean spend only")
    start = np.log([1.0, 1.0, max(float(np.average(m_, weights=w)), 1e-3)])
    values, diagnostics = maximise(
        lambda v: log_likelihood(GammaGammaParams(*v), x_, m_, w), start, float(w.sum())
    )
    return GammaGammaFit(GammaGammaParams(*map(float, values)), diagnostics)


def expected_average_value(params: GammaGammaParams, x: ArrayLike, m: ArrayLike) -> Vector:
    """E[spend per occasion | x, m̄]: the customer's mean shrunk towards the population's, the more the fewer
    repeat occasions it rests on; the population mean p·γ/(q-1) for customers without repeat occasions."""
    x_, m_ = vectors(x, m)
    p, q, gamma = params.p, params.q, params.gamma
    m_known = np.where(x_ > 0, m_, 0.0)
    return np.asarray(p * (gamma + m_known * x_) / (p * x_ + q - 1), dtype=np.float64)
