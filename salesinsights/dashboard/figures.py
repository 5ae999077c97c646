"""The dashboard's figures as pure functions of gold frames (money in whole cents, see reader.py): no I/O,
so each is tested on small frames. Ties rank by product id or brand name, so answers are deterministic."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pandas as pd

from salesinsights.catalog import DAILY_MEASURES
from salesinsights.dashboard.models import (
    DayTotals,
    Freshness,
    FunnelResponse,
    ProductSales,
    RankBy,
    SalesResponse,
    SeriesPoint,
    SortKey,
    StreamStatus,
    TimelinePoint,
    TimelineResponse,
    TopEntry,
    TopResponse,
    WindowSpan,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def money(cents: int) -> float:
    """Cents to currency units; the float's shortest form is the exact decimal (12345 → 123.45)."""
    return int(cents) / 100


def _timestamp(value: object) -> datetime | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).to_pydatetime()


@dataclass(frozen=True)
class Span:
    """Consecutive event-time windows: `count` of them, the last one starting at `last_start`."""

    last_start: datetime
    length: timedelta
    count: int

    @property
    def first_start(self) -> datetime:
        return self.last_start - (self.count - 1) * self.length

    @property
    def days(self) -> set[date]:
        first, last = self.first_start.date(), self.last_start.date()
        return {first + timedelta(days=offset) for offset in range((last - first).days + 1)}

    def describe(self) -> WindowSpan:
        return WindowSpan(
            first_window_start=self.first_start,
            last_window_start=self.last_start,
            end=self.last_start + self.length,
            windows=self.count,
            window_seconds=int(self.length.total_seconds()),
        )


def is_window_start(moment: datetime, length: timedelta) -> bool:
    """Spark's tumbling windows start at whole multiples of their length since the epoch."""
    return (moment - EPOCH) % length == timedelta(0)


def newest_window(windows: pd.DataFrame) -> tuple[datetime, datetime] | None:
    if windows.empty:
        return None
    newest = windows.loc[windows["window_start"].idxmax()]
    return _timestamp(newest["window_start"]), _timestamp(newest["window_end"])  # type: ignore[return-value]


def window_length(windows: pd.DataFrame) -> timedelta | None:
    newest = newest_window(windows)
    return None if newest is None else newest[1] - newest[0]


def product_sales(
    windows: pd.DataFrame,
    span: Span | None,
    brands: pd.Series,
    sort: SortKey = SortKey.revenue,
    limit: int = 50,
    product_ids: Collection[int] = (),
) -> SalesResponse:
    if span is None:
        return SalesResponse(span=None, revenue=0, units=0, products_total=0, products=[])
    in_span = windows["window_start"].between(span.first_start, span.last_start)
    rows = windows[in_span]
    if product_ids:
        rows = rows[rows["product_id"].isin(product_ids)]
    per_product = rows.groupby("product_id").agg(
        revenue_cents=("revenue_cents", "sum"), units=("units", "sum"), windows=("window_start", "nunique")
    )
    buyers = rows[["product_id", "buyer_ids"]].explode("buyer_ids").dropna()
    per_product["buyers"] = buyers.groupby("product_id")["buyer_ids"].nunique()
    sort_column = "revenue_cents" if sort is SortKey.revenue else "units"
    ranked = per_product.reset_index().sort_values(
        [sort_column, "product_id"], ascending=[False, True], kind="stable"
    )
    return SalesResponse(
        span=span.describe(),
        revenue=money(rows["revenue_cents"].sum()),
        units=int(rows["units"].sum()),
        products_total=len(ranked),
        products=[
            ProductSales(
                product_id=row.product_id,
                brand=brand_of(brands, row.product_id),
                revenue=money(row.revenue_cents),
                units=row.units,
                buyers=0 if pd.isna(row.buyers) else int(row.buyers),
                windows=row.windows,
            )
            for row in ranked.head(limit).itertuples()
        ],
    )


def brand_of(brands: pd.Series, product_id: int) -> str | None:
    brand = brands.get(product_id)
    return None if brand is None or pd.isna(brand) else str(brand)


def _sold(daily_day: pd.DataFrame) -> pd.DataFrame:
    return daily_day[daily_day["units"] > 0]


def top_products(daily_day: pd.DataFrame, day: date | None, brands: pd.Series, n: int) -> TopResponse:
    ranked = _sold(daily_day).sort_values(
        ["revenue_cents", "units", "product_id"], ascending=[False, False, True], kind="stable"
    )
    entries = [
        TopEntry(
            rank=rank,
            key=str(row.product_id),
            product_id=row.product_id,
            brand=brand_of(brands, row.product_id),
            revenue=money(row.revenue_cents),
            units=row.units,
        )
        for rank, row in enumerate(ranked.head(n).itertuples(), start=1)
    ]
    return TopResponse(by=RankBy.product, day=day, entries=entries)


def top_brands(daily_day: pd.DataFrame, day: date | None, brands: pd.Series, n: int) -> TopResponse:
    sold = _sold(daily_day).assign(brand=lambda frame: frame["product_id"].map(brands))
    unbranded = sold[sold["brand"].isna()]
    per_brand = (
        sold.dropna(subset=["brand"])
        .groupby("brand")
        .agg(
            revenue_cents=("revenue_cents", "sum"), units=("units", "sum"), products=("product_id", "nunique")
        )
        .reset_index()
        .sort_values(["revenue_cents", "units", "brand"], ascending=[False, False, True], kind="stable")
    )
    entries = [
        TopEntry(
            rank=rank,
            key=row.brand,
            brand=row.brand,
            revenue=money(row.revenue_cents),
            units=row.units,
            products=row.products,
        )
        for rank, row in enumerate(per_brand.head(n).itertuples(), start=1)
    ]
    return TopResponse(
        by=RankBy.brand, day=day, entries=entries, unbranded_revenue=money(unbranded["revenue_cents"].sum())
    )


def day_totals(daily_day: pd.DataFrame) -> DayTotals | None:
    if daily_day.empty:
        return None
    counts = [measure for measure in DAILY_MEASURES if measure != "revenue"]
    sums = daily_day[["revenue_cents", *counts]].sum()
    return DayTotals(
        revenue=money(sums["revenue_cents"]), **{measure: int(sums[measure]) for measure in counts}
    )


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def funnel(daily_day: pd.DataFrame, day: date | None) -> FunnelResponse:
    totals = day_totals(daily_day) or DayTotals(**dict.fromkeys(DAILY_MEASURES, 0))
    return FunnelResponse(
        day=day,
        views=totals.views,
        carts=totals.carts,
        removals=totals.removals,
        purchases=totals.purchases,
        view_to_cart=_ratio(totals.carts, totals.views),
        cart_to_purchase=_ratio(totals.purchases, totals.carts),
        view_to_purchase=_ratio(totals.purchases, totals.views),
    )


def timeline(windows_day: pd.DataFrame, day: date | None, bucket: timedelta) -> TimelineResponse:
    """Revenue per bucket of the day's windows, from midnight to the newest bucket with sales (empty buckets
    in between are zeros: no purchase is a figure too)."""
    minutes = int(bucket.total_seconds() // 60)
    if day is None or windows_day.empty:
        return TimelineResponse(day=day, bucket_minutes=minutes, revenue=0, points=[])
    starts = windows_day["window_start"].dt.floor(bucket)
    per_bucket = windows_day.groupby(starts).agg(
        revenue_cents=("revenue_cents", "sum"), units=("units", "sum")
    )
    midnight = pd.Timestamp(day, tz=UTC)
    every_bucket = pd.date_range(midnight, per_bucket.index.max(), freq=bucket, name="start")
    filled = per_bucket.reindex(every_bucket, fill_value=0)
    return TimelineResponse(
        day=day,
        bucket_minutes=minutes,
        revenue=money(filled["revenue_cents"].sum()),
        points=[
            TimelinePoint(start=start.to_pydatetime(), revenue=money(row.revenue_cents), units=row.units)
            for start, row in zip(filled.index, filled.itertuples(), strict=True)
        ],
    )


def product_series(windows_day: pd.DataFrame, product_id: int) -> list[SeriesPoint]:
    rows = windows_day[windows_day["product_id"] == product_id].sort_values("window_start")
    return [
        SeriesPoint(
            window_start=row.window_start.to_pydatetime(),
            window_end=row.window_end.to_pydatetime(),
            revenue=money(row.revenue_cents),
            units=row.units,
            buyers=len(row.buyer_ids) if row.buyer_ids is not None else 0,
        )
        for row in rows.itertuples()
    ]


def freshness(windows: pd.DataFrame, daily: pd.DataFrame, batches: pd.DataFrame, now: datetime) -> Freshness:
    updates = [frame["updated_at"].max() for frame in (windows, daily) if not frame.empty]
    updated_at = _timestamp(max(updates)) if updates else None
    newest = newest_window(windows)
    last = batches.iloc[-1] if not batches.empty else None
    fresh = Freshness(
        gold_updated_at=updated_at,
        gold_age_seconds=None,
        newest_window_start=newest[0] if newest else None,
        newest_window_end=newest[1] if newest else None,
        newest_event_time=_timestamp(batches["max_event_time"].max()) if last is not None else None,
        watermark=_timestamp(last["watermark"]) if last is not None else None,
    )
    return aged(fresh, now)


def aged(fresh: Freshness, now: datetime) -> Freshness:
    """The same freshness, its age taken at `now`."""
    updated_at = fresh.gold_updated_at
    age = round((now - updated_at).total_seconds(), 3) if updated_at else None
    return fresh.model_copy(update={"gold_age_seconds": age})


def stream_status(batches: pd.DataFrame) -> StreamStatus:
    """The last batch and the minute before it (the reader keeps one minute of batches)."""
    if batches.empty:
        return StreamStatus(
            last_batch_id=None,
            last_batch_finished_at=None,
            records_per_second=None,
            late_events_last_minute=0,
            quarantined_last_minute=0,
        )
    last = batches.iloc[-1]
    elapsed = (batches["finished_at"].max() - batches["finished_at"].min()).total_seconds()
    return StreamStatus(
        last_batch_id=int(last["batch_id"]),
        last_batch_finished_at=_timestamp(last["finished_at"]),
        # The first batch's records arrived before the minute began: they do not count towards the rate.
        records_per_second=round(batches["kafka_records"].iloc[1:].sum() / elapsed, 1) if elapsed else None,
        late_events_last_minute=int(batches["late_events"].sum()),
        quarantined_last_minute=int(batches["quarantined"].sum()),
    )
