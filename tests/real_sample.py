"""The real cosmetics-shop samples in shared/data/real_sample, and the figures generated data is held to."""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from salesinsights.schema import CSV_HEADER, EVENT_TYPES

REAL_SAMPLE_DIR = Path(__file__).resolve().parents[1].parent / "shared/data/real_sample"
# Cosmetics shop, 2019-10-01 00:00-07:10 + the end of October + 2019-12-01 00:00-08:13 + the end of December.
MAIN_SAMPLE = "events_sample.csv.gz"
# Cosmetics shop, 2019-11-01 00:00-07:37 and a few rows of 2019-11-24.
NOVEMBER_SAMPLE = "events_sample_3.csv.gz"
# Rows of the sample's first block, 2019-10-01 00:00:00-07:10:56 (SOURCE.md).
FIRST_BLOCK_ROWS = 20_000


def real_sample(name: str) -> Path:
    path = REAL_SAMPLE_DIR / name
    if not path.is_file():
        pytest.skip(f"real sample {path} is absent (it lives in the shared folder beside the repository)")
    return path


def data_lines(path: Path) -> list[str]:
    """A CSV file's lines without the header, as text."""
    with gzip.open(path, "rt") if path.suffix == ".gz" else path.open() as stream:
        return stream.read().splitlines()[1:]


def events_frame(lines: list[str]) -> pd.DataFrame:
    """Every column as text, empty fields as ''."""
    text = "\n".join([CSV_HEADER, *lines]) + "\n"
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


@dataclass(frozen=True)
class Figures:
    event_mix: dict[str, float]
    category_code_null: float
    brand_null: float
    price_p50: float
    price_p95: float
    price_max: float
    duplicate_share: float
    purchases_per_buyer_mean: float
    purchases_per_buyer_median: float


def figures(events: pd.DataFrame) -> Figures:
    mix = events["event_type"].value_counts(normalize=True)
    prices = events["price"].astype(float)
    purchases_per_buyer = events[events["event_type"] == "purchase"].groupby("user_id").size()
    return Figures(
        event_mix={kind: float(mix.get(kind, 0.0)) for kind in EVENT_TYPES},
        category_code_null=float((events["category_code"] == "").mean()),
        brand_null=float((events["brand"] == "").mean()),
        price_p50=float(prices.quantile(0.5)),
        price_p95=float(prices.quantile(0.95)),
        price_max=float(prices.max()),
        duplicate_share=float(events.duplicated().mean()),
        purchases_per_buyer_mean=float(purchases_per_buyer.mean()),
        purchases_per_buyer_median=float(purchases_per_buyer.median()),
    )
