"""Scoring every customer with the fitted models, distributed: each Spark task scores its own partition
with the vectorised formulas of `predict` (mapInPandas), so no customer goes through the driver."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import types as T

from salesinsights.clv.models import BgNbdParams, GammaGammaParams
from salesinsights.clv.predict import (
    discounted_clv,
    expected_average_value,
    expected_purchases,
    probability_alive,
)
from salesinsights.settings import ClvSettings

PREDICTION_COLUMNS = ("p_alive", "expected_purchases", "expected_average_value", "clv")


def score(
    customers: pd.DataFrame, bgnbd: BgNbdParams, gamma_gamma: GammaGammaParams, clv: ClvSettings
) -> pd.DataFrame:
    """The prediction columns for a pandas frame with frequency, recency, age and monetary_value."""
    x, t_x, age = customers["frequency"], customers["recency"], customers["age"]
    average_value = expected_average_value(gamma_gamma, x, customers["monetary_value"])
    horizon = clv.horizon_months * clv.units_per_month
    return customers.assign(
        p_alive=probability_alive(bgnbd, x, t_x, age),
        expected_purchases=expected_purchases(bgnbd, horizon, x, t_x, age),
        expected_average_value=average_value,
        clv=discounted_clv(
            bgnbd,
            average_value,
            x,
            t_x,
            age,
            clv.horizon_months,
            clv.monthly_discount_rate,
            clv.units_per_month,
        ),
    )


def score_customers(
    summary: DataFrame, bgnbd: BgNbdParams, gamma_gamma: GammaGammaParams, clv: ClvSettings
) -> DataFrame:
    schema = T.StructType(
        [field for field in summary.schema if field.name not in PREDICTION_COLUMNS]
        + [T.StructField(name, T.DoubleType()) for name in PREDICTION_COLUMNS]
    )

    def score_partition(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            yield score(batch, bgnbd, gamma_gamma, clv)[schema.fieldNames()]

    return summary.mapInPandas(score_partition, schema)
