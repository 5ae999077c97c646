"""The CDNOW sample of Fader, Hardie & Lee (2005), as shipped inside the `lifetimes` package (a test-only
dependency): 2,357 customers' raw transactions, and the published summary of their first 39 weeks.

Read through importlib.resources: `lifetimes.datasets` itself needs pkg_resources, which new setuptools
no longer provides."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from importlib import resources
from importlib.resources.abc import Traversable

import pandas as pd
import pytest

from salesinsights.clv.bgnbd import BgNbdParams
from salesinsights.clv.gamma_gamma import GammaGammaParams
from salesinsights.clv.pareto_nbd import ParetoNbdParams

CALIBRATION_END = date(1997, 9, 30)
CUSTOMERS = 2357
REPEAT_CUSTOMERS = 946
# The published fits on that summary (Fader, Hardie & Lee 2005; Fader & Hardie's Gamma-Gamma note).
PUBLISHED_BGNBD = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
PUBLISHED_GAMMA_GAMMA = GammaGammaParams(p=6.25, q=3.74, gamma=15.44)
# Fader, Hardie & Lee (2005), "A note on implementing the Pareto/NBD model in MATLAB".
PUBLISHED_PARETO_NBD = ParetoNbdParams(r=0.55, alpha=10.58, s=0.61, beta=11.67)
HOLDOUT_END = date(1998, 6, 30)
HOLDOUT_WEEKS = 39
# Repeat purchase occasions of the 2,357 customers in the 39 holdout weeks (1,959 transactions, by day).
HOLDOUT_PURCHASES = 1882


def assert_within_one_percent(fitted: object, published: object) -> None:
    for name, value in vars(published).items():
        assert getattr(fitted, name) == pytest.approx(value, rel=0.01), name


def _dataset(name: str) -> Traversable:
    return resources.files("lifetimes") / "datasets" / name


def transactions() -> pd.DataFrame:
    """One row per transaction (over the whole 78 weeks): user_id, event_date, price (the dollar value)."""
    with _dataset("CDNOW_sample.txt").open() as stream:
        raw = pd.read_csv(
            stream,
            sep=r"\s+",
            header=None,
            names=["master_id", "user_id", "date", "cds", "value"],
            dtype={"date": str, "value": str},
        )
    return pd.DataFrame(
        {
            "user_id": raw["user_id"].astype("int64"),
            "event_date": pd.to_datetime(raw["date"], format="%Y%m%d").dt.date,
            "price": [Decimal(value) for value in raw["value"]],
        }
    )


def published_summary() -> pd.DataFrame:
    """ID, x (frequency), t_x (recency), T and zbar (mean repeat spend) in weeks, rounded to two decimals
    (cdnow_customers_summary.csv holds the same ID, frequency, recency, T)."""
    with _dataset("cdnow_customers_summary_with_transactions.csv").open() as stream:
        with_spend = pd.read_csv(stream)
    with _dataset("cdnow_customers_summary.csv").open() as stream:
        plain = pd.read_csv(stream)
    assert plain.rename(columns={"frequency": "x", "recency": "t_x"}).equals(
        with_spend[["ID", "x", "t_x", "T"]]
    ), "the two published summaries disagree"
    return with_spend


def backtest_cohort() -> pd.DataFrame:
    """The backtest's cohort computed with pandas from the raw transactions, independently of the Spark
    summary: the 2,357 customers as of the calibration end, with their occasions and spend in the 39 holdout
    weeks. Occasions are days with a purchase, their value the day's total."""
    raw = transactions()
    occasions = (
        raw.assign(price=raw["price"].astype(float))
        .groupby(["user_id", "event_date"], as_index=False)["price"]
        .sum()
    )
    calibration = occasions[occasions["event_date"] <= CALIBRATION_END].sort_values("event_date")
    holdout = occasions[occasions["event_date"] > CALIBRATION_END]
    customers = calibration.groupby("user_id")
    first, last = customers["event_date"].min(), customers["event_date"].max()
    count, total = customers.size(), customers["price"].sum()

    def weeks(days: pd.Series) -> pd.Series:
        return days.map(lambda delta: delta.days) / 7.0

    cohort = pd.DataFrame(
        {
            "frequency": count - 1,
            "recency": weeks(last - first),
            "age": weeks(pd.Series(CALIBRATION_END, index=first.index) - first),
            "monetary_value": ((total - customers["price"].first()) / (count - 1).clip(lower=1)).where(
                count > 1, 0.0
            ),
        }
    )
    spent = holdout.groupby("user_id")["price"].agg(holdout_purchases="size", holdout_spend="sum")
    return cohort.join(spent).fillna({"holdout_purchases": 0, "holdout_spend": 0.0}).reset_index()
