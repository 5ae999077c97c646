"""What the report shows, as small Spark aggregates of a run's snapshot: nothing per customer reaches the
driver but the top N."""

from __future__ import annotations

import pandas as pd
from pyspark.sql import DataFrame, Row, SparkSession
from pyspark.sql import functions as F

from salesinsights.catalog import GOLD_CLV_BACKTESTS, GOLD_CUSTOMER_LIFETIME_VALUE
from salesinsights.clv.report import REPORT_HISTOGRAM_BINS, ReportData
from salesinsights.clv.run_status import PUBLISHED, STAGED_STATES
from salesinsights.clv.snapshot import run_row, staged_snapshot
from salesinsights.settings import Settings


def _snapshot(spark: SparkSession, settings: Settings, run: Row) -> DataFrame:
    """A published run's rows in gold; a run not (yet) published, e.g. a rejected one, in staging."""
    if run["status"] == PUBLISHED:
        gold = spark.read.format("delta").load(GOLD_CUSTOMER_LIFETIME_VALUE.path(settings))
        return gold.where(
            (F.col("as_of_date") == F.lit(run["as_of_date"])) & (F.col("run_id") == run["run_id"])
        )
    if run["status"] in STAGED_STATES:
        return staged_snapshot(spark, settings, run["run_id"])
    raise LookupError(f"run {run['run_id']} is {run['status']}: its rows are no longer kept")


def _histogram(snapshot: DataFrame) -> tuple[float, pd.DataFrame]:
    """CLV in equal bins up to the 99th percentile; the long tail above it in one more bin."""
    ceiling = snapshot.agg(F.percentile_approx("clv", 0.99, 10_000)).first()
    bin_width = max(float(ceiling[0] or 0.0) if ceiling else 0.0, 1e-9) / REPORT_HISTOGRAM_BINS
    bins = F.least(F.floor(F.col("clv") / bin_width), F.lit(REPORT_HISTOGRAM_BINS)).alias("bin")
    return bin_width, pd.DataFrame(snapshot.groupBy(bins).count().toPandas())


def _segments(snapshot: DataFrame) -> pd.DataFrame:
    summary = snapshot.groupBy("rfm_segment").agg(
        F.count(F.lit(1)).alias("customers"),
        F.sum("total_revenue").cast("double").alias("historic_revenue"),
        F.avg("p_alive").alias("mean_p_alive"),
        F.sum("clv").alias("clv"),
    )
    return pd.DataFrame(summary.orderBy(F.desc("clv")).toPandas())


def _top(snapshot: DataFrame, count: int) -> pd.DataFrame:
    top = snapshot.orderBy(F.desc("clv"), "user_id").limit(count)
    return pd.DataFrame(
        top.select(
            "user_id",
            "rfm_segment",
            "first_purchase",
            "last_purchase",
            "occasions",
            F.col("total_revenue").cast("double").alias("total_revenue"),
            "p_alive",
            "expected_purchases",
            "expected_average_value",
            "clv",
            "extrapolated",
        ).toPandas()
    )


def _backtests(spark: SparkSession, settings: Settings, run: Row) -> pd.DataFrame:
    """The run's own backtest (empty: it had no holdout to test on)."""
    rows = spark.read.format("delta").load(GOLD_CLV_BACKTESTS.path(settings))
    return pd.DataFrame(rows.where(F.col("run_id") == run["run_id"]).orderBy("model").toPandas())


def collect_report_data(
    spark: SparkSession, settings: Settings, run_id: str, top_customers: int
) -> ReportData:
    run = run_row(spark, settings, run_id)
    snapshot = _snapshot(spark, settings, run)
    bin_width, histogram = _histogram(snapshot)
    return ReportData(
        run.asDict(),
        bin_width,
        histogram,
        _segments(snapshot),
        _top(snapshot, top_customers),
        _backtests(spark, settings, run),
    )
