"""Scoring every customer with the fitted models, distributed: each Spark task scores its own partition
with the vectorised formulas of the chosen purchase model and Gamma-Gamma (mapInPandas), so no customer goes
through the driver."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from pyspark.sql import DataFrame
from pyspark.sql import types as T

from salesinsights.clv.gamma_gamma import GammaGammaParams, expected_average_value
from salesinsights.clv.mle import Vector
from salesinsights.clv.purchase_models import PurchaseFit
from salesinsights.settings import ClvSettings

PREDICTION_COLUMNS = ("p_alive", "expected_purchases", "expected_average_value", "clv")
FLAG_COLUMNS = ("extrapolated",)


def discounted_clv(
    purchases: PurchaseFit,
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
        cumulative = purchases.expected_purchases(month * units_per_month, x, t_x, age)
        clv += value * (cumulative - previous) / (1 + monthly_discount_rate) ** month
        previous = cumulative
    return clv


def extrapolated(
    expected: ArrayLike, occasions: ArrayLike, age: ArrayLike, horizon: float, factor: float
) -> NDArray[np.bool_]:
    """Expected purchases over the horizon above one and above `factor` times the customer's own rate —
    occasions per time, the time taken as at least the horizon so that a week's history does not count as
    a year's. Under one purchase a forecast extrapolates nothing worth a flag."""
    reference = np.asarray(occasions, dtype=np.float64) * horizon / np.maximum(np.asarray(age), horizon)
    forecast = np.asarray(expected, dtype=np.float64)
    return np.asarray((forecast > 1.0) & (forecast > factor * reference))


def score(
    customers: pd.DataFrame, purchases: PurchaseFit, gamma_gamma: GammaGammaParams, clv: ClvSettings
) -> pd.DataFrame:
    """The prediction columns for a pandas frame with occasions, frequency, recency, age, monetary_value."""
    x, t_x, age = customers["frequency"], customers["recency"], customers["age"]
    average_value = expected_average_value(gamma_gamma, x, customers["monetary_value"])
    horizon = clv.horizon_months * clv.units_per_month
    expected = purchases.expected_purchases(horizon, x, t_x, age)
    return customers.assign(
        p_alive=purchases.probability_alive(x, t_x, age),
        expected_purchases=expected,
        expected_average_value=average_value,
        clv=discounted_clv(
            purchases,
            average_value,
            x,
            t_x,
            age,
            clv.horizon_months,
            clv.monthly_discount_rate,
            clv.units_per_month,
        ),
        extrapolated=extrapolated(expected, customers["occasions"], age, horizon, clv.extrapolation_factor),
    )


def score_customers(
    summary: DataFrame, purchases: PurchaseFit, gamma_gamma: GammaGammaParams, clv: ClvSettings
) -> DataFrame:
    added = (*PREDICTION_COLUMNS, *FLAG_COLUMNS)
    schema = T.StructType(
        [field for field in summary.schema if field.name not in added]
        + [T.StructField(name, T.DoubleType()) for name in PREDICTION_COLUMNS]
        + [T.StructField(name, T.BooleanType()) for name in FLAG_COLUMNS]
    )

    def score_partition(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            yield score(batch, purchases, gamma_gamma, clv)[schema.fieldNames()]

    return summary.mapInPandas(score_partition, schema)
