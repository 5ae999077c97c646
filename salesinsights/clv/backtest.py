"""The backtest of the purchase models: fitted on the customers' history up to a calibration date, each model
predicts the holdout that follows, and the prediction is set beside what happened (Fader, Hardie & Lee 2005,
section 4). Pure: a pandas cohort in, figures out; `run_backtest` in `salesinsights.runs.clv` feeds it from
silver.

The cohort holds one row per customer with a purchase up to the calibration date: frequency, recency, age
(in the time unit, at the calibration date), monetary_value, and holdout_purchases and holdout_spend, the
purchase occasions and their value in the holdout. Customers who first buy in the holdout are not in it: no
model predicts them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from salesinsights.clv.gamma_gamma import GammaGammaFit, expected_average_value, fit_gamma_gamma
from salesinsights.clv.purchase_models import PurchaseFit, PurchaseModel, fit_purchase_model
from salesinsights.settings import SelectionMetric

# The conditional-expectation table groups customers by calibration frequency 0..6 and 7+, as the paper does.
FREQUENCY_BINS = 7
P_ALIVE_BUCKETS = 10


@dataclass(frozen=True)
class ModelBacktest:
    """One model's holdout figures. Purchases are repeat purchase occasions; spend their value."""

    fit: PurchaseFit
    customers: int
    actual_purchases: float
    predicted_purchases: float
    purchases_mae: float
    purchases_rmse: float
    actual_spend: float
    predicted_spend: float | None  # None without a Gamma-Gamma fit (no paid repeat purchase to fit on)
    spend_mae: float | None
    spend_rmse: float | None
    # Mean holdout purchases by calibration frequency, actual vs predicted: [{frequency, customers, actual,
    # predicted}], frequency "0".."6", "7+".
    conditional_expectation: list[dict[str, float | str]] = field(default_factory=list)
    # Customers by P(alive) at the calibration date vs the share who bought in the holdout: [{bucket,
    # customers, mean_p_alive, bought_again}].
    p_alive_calibration: list[dict[str, float | str]] = field(default_factory=list)

    @property
    def aggregate_purchases_error(self) -> float | None:
        """(predicted - actual) / actual holdout purchases; None without any actual one to compare with."""
        if self.actual_purchases == 0:
            return None
        return (self.predicted_purchases - self.actual_purchases) / self.actual_purchases

    def metric(self, name: SelectionMetric) -> float | None:
        """The holdout error by `name`, lower is better; None where it cannot be computed (spend without a
        Gamma-Gamma fit, the aggregate error without holdout purchases)."""
        if name == "aggregate_purchases_error":
            error = self.aggregate_purchases_error
            return None if error is None else abs(error)
        value = getattr(self, name)
        return None if value is None else float(value)


@dataclass(frozen=True)
class Backtest:
    holdout: float  # in the time unit
    results: dict[str, ModelBacktest]  # by model name
    gamma_gamma: GammaGammaFit | None


@dataclass(frozen=True)
class ModelChoice:
    model: str
    reason: str


def _counted(cohort: pd.DataFrame, *columns: str) -> pd.DataFrame:
    return cohort.groupby(list(columns), sort=False).size().reset_index(name="customers")


def _fit_spend(cohort: pd.DataFrame) -> GammaGammaFit | None:
    repeaters = cohort[(cohort["frequency"] > 0) & (cohort["monetary_value"] > 0)]
    if repeaters.empty:
        return None
    pairs = _counted(repeaters, "frequency", "monetary_value")
    return fit_gamma_gamma(pairs["frequency"], pairs["monetary_value"], pairs["customers"])


def _conditional_expectation(
    frequency: np.ndarray, actual: np.ndarray, predicted: np.ndarray
) -> list[dict[str, float | str]]:
    bins = np.minimum(frequency.astype(np.int64), FREQUENCY_BINS)
    rows: list[dict[str, float | str]] = []
    for index in range(FREQUENCY_BINS + 1):
        members = bins == index
        count = int(members.sum())
        rows.append(
            {
                "frequency": str(index) if index < FREQUENCY_BINS else f"{FREQUENCY_BINS}+",
                "customers": count,
                "actual": round(float(actual[members].mean()), 4) if count else 0.0,
                "predicted": round(float(predicted[members].mean()), 4) if count else 0.0,
            }
        )
    return rows


def _p_alive_calibration(p_alive: np.ndarray, bought: np.ndarray) -> list[dict[str, float | str]]:
    buckets = np.minimum((p_alive * P_ALIVE_BUCKETS).astype(np.int64), P_ALIVE_BUCKETS - 1)
    rows: list[dict[str, float | str]] = []
    for index in range(P_ALIVE_BUCKETS):
        members = buckets == index
        count = int(members.sum())
        if count:
            rows.append(
                {
                    "bucket": f"{index / P_ALIVE_BUCKETS:.1f}-{(index + 1) / P_ALIVE_BUCKETS:.1f}",
                    "customers": count,
                    "mean_p_alive": round(float(p_alive[members].mean()), 4),
                    "bought_again": round(float(bought[members].mean()), 4),
                }
            )
    return rows


def evaluate(
    fit: PurchaseFit, gamma_gamma: GammaGammaFit | None, cohort: pd.DataFrame, holdout: float
) -> ModelBacktest:
    x, t_x, age = (cohort[column].to_numpy(np.float64) for column in ("frequency", "recency", "age"))
    actual = cohort["holdout_purchases"].to_numpy(np.float64)
    actual_spend = cohort["holdout_spend"].to_numpy(np.float64)
    predicted = fit.expected_purchases(holdout, x, t_x, age)
    purchase_errors = predicted - actual
    spend = None
    if gamma_gamma is not None:
        spend = predicted * expected_average_value(gamma_gamma.params, x, cohort["monetary_value"])
    return ModelBacktest(
        fit=fit,
        customers=len(cohort),
        actual_purchases=float(actual.sum()),
        predicted_purchases=float(predicted.sum()),
        purchases_mae=float(np.abs(purchase_errors).mean()),
        purchases_rmse=float(np.sqrt(np.square(purchase_errors).mean())),
        actual_spend=float(actual_spend.sum()),
        predicted_spend=None if spend is None else float(spend.sum()),
        spend_mae=None if spend is None else float(np.abs(spend - actual_spend).mean()),
        spend_rmse=None if spend is None else float(np.sqrt(np.square(spend - actual_spend).mean())),
        conditional_expectation=_conditional_expectation(x, actual, predicted),
        p_alive_calibration=_p_alive_calibration(fit.probability_alive(x, t_x, age), actual > 0),
    )


def backtest(cohort: pd.DataFrame, models: Sequence[PurchaseModel[Any]], holdout: float) -> Backtest:
    """Fits each model on the cohort's calibration statistics (its distinct (x, t_x, T) with their counts)
    and Gamma-Gamma on its repeat buyers, and evaluates each on the holdout."""
    if cohort.empty:
        raise ValueError("the backtest's cohort is empty: no customer bought before the calibration date")
    triples = _counted(cohort, "frequency", "recency", "age")
    gamma_gamma = _fit_spend(cohort)
    results: dict[str, ModelBacktest] = {}
    for model in models:
        fit = fit_purchase_model(
            model, triples["frequency"], triples["recency"], triples["age"], triples["customers"]
        )
        results[model.name] = evaluate(fit, gamma_gamma, cohort, holdout)
    return Backtest(holdout, results, gamma_gamma)


FALLBACK_METRIC: SelectionMetric = "purchases_mae"


def choose_model(result: Backtest, metric: SelectionMetric) -> ModelChoice:
    """The model of least holdout error by `metric` among those whose fit on the calibration period
    converged (all of them if none did), with the figures behind the choice. Where `metric` cannot be
    computed for any model (spend without a Gamma-Gamma fit), purchases_mae decides, saying so."""
    candidates = {
        name: model for name, model in result.results.items() if model.fit.diagnostics.converged
    } or result.results
    used, note = metric, ""
    if all(model.metric(metric) is None for model in candidates.values()):
        used, note = FALLBACK_METRIC, f" ({metric} cannot be computed on this holdout)"

    def error(model: ModelBacktest) -> float:
        value = model.metric(used)
        return float("inf") if value is None else value

    ranked = sorted(candidates.items(), key=lambda item: (error(item[1]), item[0]))
    figures = ", ".join(f"{name} {error(model):.4g}" for name, model in ranked)
    dropped = sorted(set(result.results) - set(candidates))
    unconverged = f"; not converged: {', '.join(dropped)}" if dropped else ""
    return ModelChoice(ranked[0][0], f"least {used} on the holdout{note}: {figures}{unconverged}")
