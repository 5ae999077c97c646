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


@dataclass(frozen=True)
class CartOutcomes:
    """What the carting sessions of a contiguous block do, counting only sessions whole inside it (first
    event 30 minutes after its start, last 30 minutes before its end: the samples cut sessions at their
    edges). Shares of carting sessions, by the cart at the session's end (README's rules)."""

    carting_sessions: int
    events_per_session: float
    carting_share: float  # of sessions
    bought_everything: float  # bought, nothing left in the cart
    emptied_by_removals: float  # bought nothing, nothing left
    bought_and_left_units: float
    abandoned: float  # bought nothing, units left


EDGE_MARGIN = pd.Timedelta("30min")


def cart_outcomes(events: pd.DataFrame, margin: pd.Timedelta = EDGE_MARGIN) -> CartOutcomes:
    times = pd.to_datetime(events["event_time"], format="%Y-%m-%d %H:%M:%S UTC")
    events = events.assign(t=times).sort_values("t", kind="stable")
    spans = events.groupby("user_session")["t"].agg(["min", "max"])
    whole = spans.index[(spans["min"] > times.min() + margin) & (spans["max"] < times.max() - margin)]
    inside = events[events["user_session"].isin(whole) & (events["user_session"] != "")]
    ends = {"bought_everything": 0, "emptied_by_removals": 0, "bought_and_left_units": 0, "abandoned": 0}
    for _, rows in inside.groupby("user_session"):
        cart: dict[str, int] = {}
        bought = started = False
        for kind, product in zip(rows["event_type"], rows["product_id"], strict=True):
            started |= kind == "cart"
            if kind == "cart":
                cart[product] = cart.get(product, 0) + 1
            elif started and kind == "remove_from_cart" and cart.get(product):
                cart[product] -= 1
            elif started and kind == "purchase":
                bought = True
                cart.pop(product, None)
        if started:
            left = sum(cart.values()) > 0
            key = (
                ("bought_and_left_units" if left else "bought_everything")
                if bought
                else ("abandoned" if left else "emptied_by_removals")
            )
            ends[key] += 1
    carting = sum(ends.values())
    sessions = inside["user_session"].nunique()
    return CartOutcomes(
        carting_sessions=carting,
        events_per_session=len(inside) / sessions,
        carting_share=carting / sessions,
        **{key: count / carting for key, count in ends.items()},
    )


IDLE_GAP = pd.Timedelta("30min")


def idle_gap_share(events: pd.DataFrame, idle: pd.Timedelta = IDLE_GAP) -> float:
    """The share of a session's non-zero gaps between consecutive events that are longer than `idle`."""
    named = events[events["user_session"] != ""]
    times = pd.to_datetime(named["event_time"], format="%Y-%m-%d %H:%M:%S UTC")
    ordered = named.assign(t=times).sort_values(["user_session", "t"], kind="stable")
    gaps = ordered.groupby("user_session")["t"].diff().dropna()
    gaps = gaps[gaps > pd.Timedelta(0)]
    return float((gaps > idle).mean())
