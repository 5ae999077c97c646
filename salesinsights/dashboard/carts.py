"""A day's abandoned carts for the dashboard's panel: the daily figures and the products and brands most often
left behind, read with delta-rs when asked (two small tables, one partition each; the cart sessions query
rewrites a day every few seconds while it is current)."""

from __future__ import annotations

from datetime import date

import pandas as pd
from deltalake import DeltaTable

from salesinsights.catalog import GOLD_CART_ABANDONED_PRODUCTS, GOLD_CART_ABANDONMENT_DAILY, Table
from salesinsights.dashboard.models import AbandonedBrand, AbandonedProduct, CartAbandonment
from salesinsights.settings import Settings


def _partition(settings: Settings, table: Table, day: date) -> pd.DataFrame:
    path = table.path(settings)
    if not DeltaTable.is_deltatable(path):
        return pd.DataFrame(columns=table.column_names)
    delta = DeltaTable(path)
    if {"event_date": day.isoformat()} not in delta.partitions():
        return pd.DataFrame(columns=table.column_names)
    return delta.to_pandas(partitions=[("event_date", "=", day.isoformat())])


def newest_cart_day(settings: Settings) -> date | None:
    path = GOLD_CART_ABANDONMENT_DAILY.path(settings)
    if not DeltaTable.is_deltatable(path):
        return None
    days = [date.fromisoformat(part["event_date"]) for part in DeltaTable(path).partitions()]
    return max(days, default=None)


def cart_abandonment(settings: Settings, day: date | None, top: int) -> CartAbandonment:
    """The day's figures (the newest day the query has written when `day` is None), with its `top` products
    and brands by value at stake; zeros for a day without any cart."""
    day = day or newest_cart_day(settings)
    idle_gap_minutes = settings.carts.idle_gap.total_seconds() / 60
    if day is None:
        return CartAbandonment(
            day=None,
            idle_gap_minutes=idle_gap_minutes,
            carting_sessions=0,
            abandoned_sessions=0,
            abandonment_rate=None,
            value_at_stake=0,
            recovered_sessions=0,
            recovered_value=0,
            top_products=[],
            top_brands=[],
        )
    daily = _partition(settings, GOLD_CART_ABANDONMENT_DAILY, day)
    figures = daily.iloc[0] if len(daily) else None

    def figure(name: str) -> int:
        return 0 if figures is None else int(figures[name])

    def money(name: str) -> float:
        return 0.0 if figures is None else float(figures[name])

    rate = (
        None
        if figures is None or pd.isna(figures["abandonment_rate"])
        else float(figures["abandonment_rate"])
    )
    products = _partition(settings, GOLD_CART_ABANDONED_PRODUCTS, day)
    products = products[products["abandonments"] > 0].assign(value=products["abandoned_value"].astype(float))
    ranked = products.sort_values(["value", "product_id"], ascending=[False, True]).head(top)
    brands = (
        products.dropna(subset=["brand"])
        .groupby("brand", as_index=False)
        .agg(abandonments=("abandonments", "sum"), units=("abandoned_units", "sum"), value=("value", "sum"))
        .sort_values(["value", "brand"], ascending=[False, True])
        .head(top)
    )
    return CartAbandonment(
        day=day,
        idle_gap_minutes=idle_gap_minutes,
        carting_sessions=figure("carting_sessions"),
        abandoned_sessions=figure("abandoned_sessions"),
        abandonment_rate=rate,
        value_at_stake=money("value_at_stake"),
        recovered_sessions=figure("recovered_sessions"),
        recovered_value=money("recovered_value"),
        top_products=[
            AbandonedProduct(
                product_id=int(row.product_id),
                brand=row.brand if isinstance(row.brand, str) else None,
                abandonments=int(row.abandonments),
                units=int(row.abandoned_units),
                value=round(float(row.value), 2),
            )
            for row in ranked.itertuples()
        ],
        top_brands=[
            AbandonedBrand(
                brand=str(row.brand),
                abandonments=int(row.abandonments),
                units=int(row.units),
                value=round(float(row.value), 2),
            )
            for row in brands.itertuples()
        ],
    )
