"""The Spark RFM summary: CDNOW's raw transactions fed through it as silver purchases give the published
summary exactly, and the fits on it the published parameters; the occasion rule and RFM segments on small
hand-made cases."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from salesinsights.clv.fit import fit_models
from salesinsights.clv.purchase_models import BGNBD
from salesinsights.clv.rfm import SEGMENTS, with_rfm
from salesinsights.clv.summary import (
    COHORT_COLUMNS,
    backtest_cohort,
    customer_summary,
    purchase_occasions,
    purchases_until,
)
from tests import cdnow
from tests.cdnow import PUBLISHED_BGNBD, PUBLISHED_GAMMA_GAMMA, assert_within_one_percent

WEEK = 7.0
SILVER_PURCHASE_COLUMNS = T.StructType(
    [
        T.StructField("user_id", T.LongType()),
        T.StructField("event_type", T.StringType()),
        T.StructField("event_date", T.DateType()),
        T.StructField("price", T.DecimalType(12, 2)),
    ]
)


def silver_rows(spark: SparkSession, rows: list[tuple[int, str, date, str]]) -> DataFrame:
    """The silver.events columns the summary reads."""
    typed = [(user, kind, day, Decimal(price)) for user, kind, day, price in rows]
    return spark.createDataFrame(typed, SILVER_PURCHASE_COLUMNS)


def summarise(silver: DataFrame, as_of: date) -> DataFrame:
    return customer_summary(purchase_occasions(purchases_until(silver, as_of)), as_of, WEEK)


@pytest.fixture(scope="module")
def cdnow_silver(spark: SparkSession) -> DataFrame:
    """All 78 weeks of CDNOW as silver purchases, a view beside each, which must not count."""
    transactions = cdnow.transactions()
    rows = [
        (int(user), kind, day, str(price))
        for user, day, price in transactions.itertuples(index=False)
        for kind in ("purchase", "view")
    ]
    return silver_rows(spark, rows).cache()


@pytest.fixture(scope="module")
def cdnow_summary(cdnow_silver: DataFrame) -> DataFrame:
    """Summarised as of the end of the 39-week calibration period."""
    return summarise(cdnow_silver, cdnow.CALIBRATION_END).cache()


def test_cdnow_summary_equals_the_published_one(cdnow_summary: DataFrame) -> None:
    ours = pd.DataFrame(cdnow_summary.toPandas()).sort_values("user_id").reset_index(drop=True)
    published = cdnow.published_summary()
    assert len(ours) == cdnow.CUSTOMERS
    assert ours["user_id"].tolist() == published["ID"].tolist()
    assert ours["frequency"].tolist() == published["x"].tolist()
    pd.testing.assert_series_equal(ours["recency"].round(2), published["t_x"], check_names=False)
    pd.testing.assert_series_equal(ours["age"].round(2), published["T"], check_names=False)
    # zbar, the mean value of the repeat occasions, is published to the cent.
    assert (ours["monetary_value"] - published["zbar"]).abs().max() <= 0.005 + 1e-9


def test_fits_on_the_spark_summary_reproduce_the_paper(cdnow_summary: DataFrame) -> None:
    models = fit_models(cdnow_summary, BGNBD)
    assert models.purchases.diagnostics.converged and models.gamma_gamma.diagnostics.converged
    assert_within_one_percent(models.purchases.params, PUBLISHED_BGNBD)
    assert models.purchases.diagnostics.log_likelihood == pytest.approx(-9582.4, abs=0.1)
    assert models.gamma_gamma.diagnostics.customers == cdnow.REPEAT_CUSTOMERS
    assert_within_one_percent(models.gamma_gamma.params, PUBLISHED_GAMMA_GAMMA)


def test_the_backtest_cohort_equals_one_computed_from_the_transactions(cdnow_silver: DataFrame) -> None:
    occasions = purchase_occasions(purchases_until(cdnow_silver, cdnow.HOLDOUT_END))
    cohort = backtest_cohort(occasions, cdnow.CALIBRATION_END, cdnow.HOLDOUT_END, WEEK)
    ours = pd.DataFrame(cohort.toPandas()).sort_values("user_id").reset_index(drop=True)
    expected = cdnow.backtest_cohort().sort_values("user_id").reset_index(drop=True)
    assert ours.columns.tolist() == ["user_id", *COHORT_COLUMNS]
    assert ours["holdout_purchases"].sum() == cdnow.HOLDOUT_PURCHASES
    # Spark divides the decimal spend to 7 places: the mean value is exact to 1e-7.
    pd.testing.assert_frame_equal(ours, expected, check_dtype=False, check_exact=False, atol=1e-7)


def test_a_day_of_purchases_is_one_occasion(spark: SparkSession) -> None:
    as_of = date(2020, 1, 29)
    rows = [
        # Customer 1: two units on Jan 1 (one occasion of 5.00), one on Jan 8 and two on Jan 15.
        (1, "purchase", date(2020, 1, 1), "2.00"),
        (1, "purchase", date(2020, 1, 1), "3.00"),
        (1, "purchase", date(2020, 1, 8), "4.00"),
        (1, "purchase", date(2020, 1, 15), "1.50"),
        (1, "purchase", date(2020, 1, 15), "0.50"),
        (1, "cart", date(2020, 1, 22), "9.99"),  # not a purchase
        (1, "purchase", date(2020, 1, 30), "7.00"),  # after the as-of date
        # Customer 2: one occasion on the as-of day itself.
        (2, "purchase", as_of, "10.00"),
    ]
    summary = {row["user_id"]: row.asDict() for row in summarise(silver_rows(spark, rows), as_of).collect()}
    assert summary[1] == {
        "user_id": 1,
        "first_purchase": date(2020, 1, 1),
        "last_purchase": date(2020, 1, 15),
        "occasions": 3,
        "units": 5,
        "frequency": 2,
        "recency": 2.0,
        "age": 4.0,
        "monetary_value": 3.0,  # (4.00 + 2.00) / 2 repeat occasions
        "total_revenue": Decimal("11.00"),
        "days_since_last_purchase": 14,
    }
    assert summary[2]["frequency"] == 0
    assert summary[2]["age"] == 0.0
    assert summary[2]["monetary_value"] == 0.0


def test_segments_cover_every_rfm_cell_once() -> None:
    cells = [
        (r, f)
        for _, r_low, r_high, f_low, f_high in SEGMENTS
        for r in range(r_low, r_high + 1)
        for f in range(f_low, f_high + 1)
    ]
    assert sorted(cells) == [(r, f) for r in range(1, 6) for f in range(1, 6)]


def test_rfm_scores_rank_customers(spark: SparkSession) -> None:
    as_of = date(2020, 3, 1)
    rows = []
    # Ten customers: customer n bought on n distinct days ending n*5 days before the as-of date, each
    # occasion worth n.
    for customer in range(1, 11):
        last = date.fromordinal(as_of.toordinal() - 5 * customer)
        for occasion in range(customer):
            day = date.fromordinal(last.toordinal() - occasion)
            rows.append((customer, "purchase", day, f"{customer}.00"))
    scored = pd.DataFrame(with_rfm(summarise(silver_rows(spark, rows), as_of)).toPandas())
    scored = scored.set_index("user_id").sort_index()
    # The most recent customer scores R 5, the least recent R 1; frequency and value go the other way.
    assert scored.loc[1, "r_score"] == 5 and scored.loc[10, "r_score"] == 1
    assert scored.loc[1, "f_score"] == 1 and scored.loc[10, "f_score"] == 5
    assert scored.loc[1, "m_score"] == 1 and scored.loc[10, "m_score"] == 5
    assert scored["r_score"].is_monotonic_decreasing
    assert scored["f_score"].is_monotonic_increasing
    assert scored.loc[1, "rfm_segment"] == "new_customers"
    assert scored.loc[10, "rfm_segment"] == "cant_lose"
