"""The per-customer RFM summary from silver purchases, in Spark: pure transforms, no I/O."""

from __future__ import annotations

from datetime import date

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from salesinsights.spark.tables import SPARK_MONEY

# The backtest's cohort, per customer, as clv.backtest reads it.
COHORT_COLUMNS = ("frequency", "recency", "age", "monetary_value", "holdout_purchases", "holdout_spend")


def purchases_until(silver_events: DataFrame, as_of: date) -> DataFrame:
    """Purchase rows (one per unit) up to and including the as-of day; the date filter prunes partitions."""
    return silver_events.where(
        (F.col("event_type") == "purchase") & (F.col("event_date") <= F.lit(as_of))
    ).select("user_id", "event_date", "price")


def purchase_occasions(purchases: DataFrame) -> DataFrame:
    """A customer's purchases of one day are one occasion, as in the literature (and in CDNOW's summary)."""
    return purchases.groupBy("user_id", "event_date").agg(
        F.sum("price").alias("value"), F.count(F.lit(1)).alias("units")
    )


def customer_summary(occasions: DataFrame, as_of: date, unit_days: float) -> DataFrame:
    """One row per customer: first and last purchase, occasions, frequency (repeat occasions), recency
    (first to last occasion) and age T (first occasion to the as-of day) in the time unit, monetary value
    (mean value of the repeat occasions; 0 without any, the models' convention) and total revenue."""
    per_customer = occasions.groupBy("user_id").agg(
        F.min("event_date").alias("first_purchase"),
        F.max("event_date").alias("last_purchase"),
        F.count(F.lit(1)).alias("occasions"),
        F.sum("units").alias("units"),
        F.sum("value").alias("total_revenue"),
        # One occasion per day, so the first day's occasion is unique.
        F.min_by("value", "event_date").alias("first_value"),
    )
    frequency = F.col("occasions") - 1
    return per_customer.select(
        "user_id",
        "first_purchase",
        "last_purchase",
        "occasions",
        "units",
        frequency.alias("frequency"),
        (F.datediff("last_purchase", "first_purchase") / F.lit(unit_days)).alias("recency"),
        (F.datediff(F.lit(as_of), "first_purchase") / F.lit(unit_days)).alias("age"),
        F.when(frequency > 0, ((F.col("total_revenue") - F.col("first_value")) / frequency).cast("double"))
        .otherwise(F.lit(0.0))
        .alias("monetary_value"),
        F.col("total_revenue").cast(SPARK_MONEY).alias("total_revenue"),
        F.datediff(F.lit(as_of), "last_purchase").alias("days_since_last_purchase"),
    )


def backtest_cohort(occasions: DataFrame, calibration_end: date, as_of: date, unit_days: float) -> DataFrame:
    """The backtest's cohort: the summary of every customer with an occasion up to `calibration_end`, as of
    that day, with holdout_purchases and holdout_spend, their occasions and value after it up to `as_of`."""
    calibration = customer_summary(
        occasions.where(F.col("event_date") <= F.lit(calibration_end)), calibration_end, unit_days
    )
    holdout = (
        occasions.where(
            (F.col("event_date") > F.lit(calibration_end)) & (F.col("event_date") <= F.lit(as_of))
        )
        .groupBy("user_id")
        .agg(
            F.count(F.lit(1)).alias("holdout_purchases"),
            F.sum("value").cast("double").alias("holdout_spend"),
        )
    )
    return (
        calibration.join(holdout, "user_id", "left")
        .fillna({"holdout_purchases": 0, "holdout_spend": 0.0})
        .select("user_id", *COHORT_COLUMNS)
    )
