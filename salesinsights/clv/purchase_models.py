"""The purchase-count models a CLV run can choose from, behind one interface: fit from sufficient statistics,
then P(alive) and expected purchases per customer. BG/NBD, MBG/NBD and Pareto/NBD share their inputs
(x, t_x, T per customer or per weighted group), so the backtest compares them on the same holdout."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Any, Generic, TypeVar

import numpy as np
from numpy.typing import ArrayLike

from salesinsights.clv import bgnbd, mbgnbd, pareto_nbd
from salesinsights.clv.mle import FitDiagnostics, Vector, maximise, vectors, weights_like
from salesinsights.settings import PurchaseModelName

Params = TypeVar("Params")


@dataclass(frozen=True)
class PurchaseModel(Generic[Params]):
    name: PurchaseModelName
    title: str
    params_type: Callable[..., Params]
    log_likelihoods: Callable[[Params, Vector, Vector, Vector], Vector]
    probability_alive: Callable[[Params, Vector, Vector, Vector], Vector]
    expected_purchases: Callable[[Params, float, Vector, Vector, Vector], Vector]
    repeat_count_distribution: Callable[[Params, Vector, int], Vector]
    # Which parameters are on the time unit's scale (started at the mean age); the others start at 1.
    time_scales: tuple[str, ...]

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(field.name for field in fields(self.params_type))  # type: ignore[arg-type]

    def log_likelihood(
        self, params: Params, x: ArrayLike, t_x: ArrayLike, age: ArrayLike, weights: ArrayLike | None = None
    ) -> float:
        """Σ weight · ln L(params | x, t_x, T)."""
        x_, t_x_, age_ = vectors(x, t_x, age)
        return float(np.sum(weights_like(weights, x_) * self.log_likelihoods(params, x_, t_x_, age_)))


BGNBD: PurchaseModel[bgnbd.BgNbdParams] = PurchaseModel(
    "bgnbd",
    "BG/NBD",
    bgnbd.BgNbdParams,
    bgnbd.log_likelihoods,
    bgnbd.probability_alive,
    bgnbd.expected_purchases,
    bgnbd.repeat_count_distribution,
    time_scales=("alpha",),
)
MBGNBD: PurchaseModel[mbgnbd.MbgNbdParams] = PurchaseModel(
    "mbgnbd",
    "MBG/NBD",
    mbgnbd.MbgNbdParams,
    mbgnbd.log_likelihoods,
    mbgnbd.probability_alive,
    mbgnbd.expected_purchases,
    mbgnbd.repeat_count_distribution,
    time_scales=("alpha",),
)
PARETO_NBD: PurchaseModel[pareto_nbd.ParetoNbdParams] = PurchaseModel(
    "pareto_nbd",
    "Pareto/NBD",
    pareto_nbd.ParetoNbdParams,
    pareto_nbd.log_likelihoods,
    pareto_nbd.probability_alive,
    pareto_nbd.expected_purchases,
    pareto_nbd.repeat_count_distribution,
    time_scales=("alpha", "beta"),
)
PURCHASE_MODELS: dict[str, PurchaseModel[Any]] = {model.name: model for model in (BGNBD, MBGNBD, PARETO_NBD)}


@dataclass(frozen=True)
class PurchaseFit:
    model: PurchaseModel[Any]
    params: Any  # the model's parameter dataclass
    diagnostics: FitDiagnostics

    @property
    def parameters(self) -> dict[str, float]:
        return asdict(self.params)

    def probability_alive(self, x: ArrayLike, t_x: ArrayLike, age: ArrayLike) -> Vector:
        return self.model.probability_alive(self.params, *vectors(x, t_x, age))

    def expected_purchases(self, horizon: float, x: ArrayLike, t_x: ArrayLike, age: ArrayLike) -> Vector:
        """E[purchases in (T, T + horizon] | x, t_x, T], horizon in the time unit of T (none ahead: 0)."""
        x_, t_x_, age_ = vectors(x, t_x, age)
        if horizon <= 0:
            return np.zeros_like(x_)
        return self.model.expected_purchases(self.params, horizon, x_, t_x_, age_)

    def repeat_count_distribution(self, t: ArrayLike, max_count: int) -> Vector:
        """P(X(t) = 0..max_count-1) and P(X(t) >= max_count), one row per t."""
        return self.model.repeat_count_distribution(self.params, np.asarray(t, dtype=np.float64), max_count)


def fit_purchase_model(
    model: PurchaseModel[Any],
    x: ArrayLike,
    t_x: ArrayLike,
    age: ArrayLike,
    weights: ArrayLike | None = None,
) -> PurchaseFit:
    x_, t_x_, age_ = vectors(x, t_x, age)
    w = weights_like(weights, x_)
    if not np.all((x_ >= 0) & (t_x_ >= 0) & (t_x_ <= age_)):
        raise ValueError(f"{model.title} needs 0 <= recency <= age T and frequency >= 0 for every customer")
    mean_age = max(float(np.average(age_, weights=w)), 1e-3)
    start = np.log([mean_age if name in model.time_scales else 1.0 for name in model.parameter_names])
    values, diagnostics = maximise(
        lambda v: model.log_likelihood(model.params_type(*v), x_, t_x_, age_, w), start, float(w.sum())
    )
    return PurchaseFit(model, model.params_type(*map(float, values)), diagnostics)
