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

from salesinsights.clv.models import BgNbdParams, GammaGammaParams

CALIBRATION_END = date(1997, 9, 30)
CUSTOMERS = 2357
REPEAT_CUSTOMERS = 946
# The published fits on that summary (Fader, Hardie & Lee 2005; Fader & Hardie's Gamma-Gamma note).
PUBLISHED_BGNBD = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
PUBLISHED_GAMMA_GAMMA = GammaGammaParams(p=6.25, q=3.74, gamma=15.44)


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
