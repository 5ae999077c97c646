"""Maximum-likelihood fitting shared by every CLV model: inputs as numpy columns, the optimiser, and what a
fit reports about itself.

Every input is a column per customer, or per group of identical customers with a weight (the count), so a fit
on millions of customers needs only their distinct sufficient statistics.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize

Vector = NDArray[np.float64]


@dataclass(frozen=True)
class FitDiagnostics:
    log_likelihood: float
    converged: bool
    iterations: int
    customers: float


def vectors(*columns: ArrayLike) -> list[Vector]:
    return [np.asarray(column, dtype=np.float64) for column in columns]


def weights_like(weights: ArrayLike | None, like: Vector) -> Vector:
    return np.ones_like(like) if weights is None else np.asarray(weights, dtype=np.float64)


def maximise(
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
