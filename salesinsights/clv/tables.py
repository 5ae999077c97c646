"""The CLV tables in gold: published snapshots, staged runs awaiting their audit, and the model runs."""

from __future__ import annotations

from pyspark.sql import types as T

from salesinsights.spark.tables import MONEY, Table


def _fields(*pairs: tuple[str, T.DataType]) -> list[T.StructField]:
    return [T.StructField(name, data_type) for name, data_type in pairs]


SNAPSHOT_SCHEMA = T.StructType(
    _fields(
        ("as_of_date", T.DateType()),
        ("run_id", T.StringType()),
        ("user_id", T.LongType()),
        ("first_purchase", T.DateType()),
        ("last_purchase", T.DateType()),
        ("occasions", T.LongType()),
        ("units", T.LongType()),
        ("frequency", T.LongType()),
        ("recency", T.DoubleType()),
        ("age", T.DoubleType()),
        ("monetary_value", T.DoubleType()),
        ("total_revenue", MONEY),
        ("days_since_last_purchase", T.IntegerType()),
        ("r_score", T.IntegerType()),
        ("f_score", T.IntegerType()),
        ("m_score", T.IntegerType()),
        ("rfm_segment", T.StringType()),
        ("p_alive", T.DoubleType()),
        ("expected_purchases", T.DoubleType()),
        ("expected_average_value", T.DoubleType()),
        ("clv", T.DoubleType()),
    )
)

_SNAPSHOT_COLUMNS = (
    "One row per customer with a purchase up to as_of_date: occasions (a customer's purchases of one day), "
    "frequency (repeat occasions), recency and age (first purchase to last purchase, and to as_of_date, in "
    "clv_model_runs.time_unit), monetary_value (mean value of the repeat occasions, 0 without any), "
    "total_revenue, RFM scores (1-5) and segment, P(alive), expected purchases and discounted CLV over "
    "clv_model_runs.horizon_months."
)

GOLD_CUSTOMER_LIFETIME_VALUE = Table(
    "gold",
    "customer_lifetime_value",
    SNAPSHOT_SCHEMA,
    ("as_of_date",),
    "Published nightly CLV snapshots, one per as_of_date (a re-run replaces it). " + _SNAPSHOT_COLUMNS,
)

# Write-audit-publish: a run writes here first, under its own run_id; only an audited run is published.
GOLD_CLV_STAGED = Table(
    "gold",
    "customer_lifetime_value_staged",
    SNAPSHOT_SCHEMA,
    ("run_id",),
    "CLV runs written but not (yet) published: the audit reads them here. " + _SNAPSHOT_COLUMNS,
)

GOLD_CLV_MODEL_RUNS = Table(
    "gold",
    "clv_model_runs",
    T.StructType(
        _fields(
            ("run_id", T.StringType()),
            ("as_of_date", T.DateType()),
            # staged -> published (or rejected by the audit); a published run becomes superseded when a
            # later run of the same as_of_date is published.
            ("status", T.StringType()),
            ("staged_at", T.TimestampType()),
            ("published_at", T.TimestampType()),
            ("time_unit", T.StringType()),
            ("horizon_months", T.IntegerType()),
            ("monthly_discount_rate", T.DoubleType()),
            ("customers", T.LongType()),
            ("repeat_customers", T.LongType()),
            ("occasions", T.LongType()),
            ("units", T.LongType()),
            ("total_revenue", MONEY),
            ("bgnbd_r", T.DoubleType()),
            ("bgnbd_alpha", T.DoubleType()),
            ("bgnbd_a", T.DoubleType()),
            ("bgnbd_b", T.DoubleType()),
            ("bgnbd_log_likelihood", T.DoubleType()),
            ("bgnbd_converged", T.BooleanType()),
            ("bgnbd_iterations", T.IntegerType()),
            ("gg_p", T.DoubleType()),
            ("gg_q", T.DoubleType()),
            ("gg_gamma", T.DoubleType()),
            ("gg_log_likelihood", T.DoubleType()),
            ("gg_converged", T.BooleanType()),
            ("gg_iterations", T.IntegerType()),
            # Gamma-Gamma assumes spend independent of frequency; near 0 is what it needs.
            ("spend_frequency_correlation", T.DoubleType()),
            # JSON [{"repeat_purchases": "0".."7+", "actual": n, "expected": e}]: the in-sample fit check.
            ("calibration", T.StringType()),
            ("fit_seconds", T.DoubleType()),
            # JSON [{"check": name, "passed": bool, "detail": text}] of the audit before publishing.
            ("audit", T.StringType()),
        )
    ),
    (),
    "One row per CLV run: its parameters, the fitted BG/NBD and Gamma-Gamma parameters with their fit "
    "diagnostics, the audit's results and whether (and when) the run was published.",
)

CLV_TABLES: tuple[Table, ...] = (GOLD_CUSTOMER_LIFETIME_VALUE, GOLD_CLV_STAGED, GOLD_CLV_MODEL_RUNS)
