"""Fitting a purchase model and Gamma-Gamma to a Spark customer summary, from its sufficient statistics only.

The purchase models' likelihoods depend on a customer through (frequency, recency, age) alone, and ages and
recencies are whole days, so the driver receives the distinct triples with their counts (tens of thousands
for millions of customers), never the customers themselves. Gamma-Gamma likewise receives the distinct
(frequency, monetary value) pairs of the repeat customers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from salesinsights.clv.gamma_gamma import GammaGammaFit, fit_gamma_gamma
from salesinsights.clv.purchase_models import PurchaseFit, PurchaseModel, fit_purchase_model

# The calibration check groups customers by repeat purchases 0..6 and 7+, as Fader, Hardie & Lee do.
CALIBRATION_BINS = 7


class CalibrationRow(TypedDict):
    repeat_purchases: str  # "0".."6", "7+"
    actual: int  # customers with that many repeat purchases
    expected: float  # customers the fitted model expects


@dataclass(frozen=True)
class FittedModels:
    purchases: PurchaseFit
    gamma_gamma: GammaGammaFit
    spend_frequency_correlation: float
    calibration: list[CalibrationRow]
    fit_seconds: float


def _counted(summary: DataFrame, *columns: str) -> pd.DataFrame:
    return summary.groupBy(*columns).agg(F.count(F.lit(1)).alias("customers")).toPandas()


def calibration_table(fit: PurchaseFit, triples: pd.DataFrame) -> list[CalibrationRow]:
    """Customers by repeat purchases in the period: actual counts beside the fitted model's expectation
    Σ_customers P(X(age) = x)."""
    ages = triples.groupby("age")["customers"].sum()
    distribution = fit.repeat_count_distribution(ages.index.to_numpy(), CALIBRATION_BINS)
    expected = ages.to_numpy() @ distribution
    repeats = np.minimum(triples["frequency"].to_numpy(), CALIBRATION_BINS)
    actual = np.bincount(repeats, weights=triples["customers"].to_numpy(), minlength=CALIBRATION_BINS + 1)
    labels = [str(count) for count in range(CALIBRATION_BINS)] + [f"{CALIBRATION_BINS}+"]
    return [
        CalibrationRow(repeat_purchases=label, actual=int(count), expected=round(float(model), 3))
        for label, count, model in zip(labels, actual, expected, strict=True)
    ]


def _weighted_correlation(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> float:
    if len(x) < 2:
        return float("nan")
    covariance = np.cov(x, y, aweights=weights)
    return float(covariance[0, 1] / np.sqrt(covariance[0, 0] * covariance[1, 1]))


def fit_models(summary: DataFrame, model: PurchaseModel[Any]) -> FittedModels:
    started = time.perf_counter()
    triples = _counted(summary, "frequency", "recency", "age")
    purchases = fit_purchase_model(
        model, triples["frequency"], triples["recency"], triples["age"], triples["customers"]
    )
    # A repeat buyer whose repeat occasions were all free (price 0) has no place in a gamma distribution.
    repeaters = summary.where((F.col("frequency") > 0) & (F.col("monetary_value") > 0))
    spend = _counted(repeaters, "frequency", "monetary_value")
    if spend.empty:
        raise ValueError("no customer has a paid repeat purchase yet: Gamma-Gamma cannot be fitted")
    gamma_gamma = fit_gamma_gamma(spend["frequency"], spend["monetary_value"], spend["customers"])
    return FittedModels(
        purchases=purchases,
        gamma_gamma=gamma_gamma,
        spend_frequency_correlation=_weighted_correlation(
            spend["frequency"].to_numpy(float),
            spend["monetary_value"].to_numpy(),
            spend["customers"].to_numpy(),
        ),
        calibration=calibration_table(purchases, triples),
        fit_seconds=time.perf_counter() - started,
    )
