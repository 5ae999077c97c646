"""The JSON API: FastAPI routes over one shared gold snapshot (see reader.py).

"Now" in a replayed data set is event time, not the wall clock: the latest windows are the newest ones in
gold, and the day is gold's newest event date. Requests that name a span or a day that gold does not hold
get empty answers; malformed or contradictory parameters get a 4xx saying what is wrong.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.dependencies.utils import get_flat_dependant
from pydantic import NonNegativeInt

from salesinsights.dashboard import figures
from salesinsights.dashboard.brands import BrandCatalogue
from salesinsights.dashboard.carts import cart_abandonment
from salesinsights.dashboard.clv import clv_status
from salesinsights.dashboard.models import (
    CartAbandonment,
    ClvStatus,
    FunnelResponse,
    Health,
    HealthStatus,
    InvalidRequest,
    Overview,
    Problem,
    ProductSeriesResponse,
    RankBy,
    SalesResponse,
    SortKey,
    TimelineResponse,
    TopResponse,
)
from salesinsights.dashboard.quality import QualityWatch
from salesinsights.dashboard.reader import GoldReader, GoldSnapshot

# A span of windows is read on demand when it is not cached; this bounds what one request may read.
MAX_SPAN = timedelta(days=2)
# Gold older than this while the stream runs means the dashboard is behind.
STALE_AFTER = timedelta(minutes=2)


def reject_unknown_parameters(request: Request) -> None:
    """A misspelt parameter is an error, not silently the default."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known = {param.alias for param in get_flat_dependant(dependant).query_params}
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        expected = ", ".join(sorted(known)) or "none"
        raise HTTPException(
            400, f"unknown query parameter(s) {', '.join(unknown)}; this endpoint takes: {expected}"
        )


router = APIRouter(
    prefix="/api",
    dependencies=[Depends(reject_unknown_parameters)],
    responses={
        400: {"model": Problem, "description": "Unknown or contradictory parameters"},
        422: {"model": InvalidRequest, "description": "Parameters that do not parse or are out of range"},
    },
)


@dataclass(frozen=True)
class View:
    """What one request sees: the shared snapshot and the brand map of the moment."""

    reader: GoldReader
    snapshot: GoldSnapshot
    catalogue: BrandCatalogue
    quality: QualityWatch

    @property
    def brands(self) -> pd.Series:
        return self.catalogue.brands

    @property
    def newest_day(self) -> date | None:
        """Gold's newest event date: "today" in a replayed data set."""
        days = self.snapshot.days
        return days[-1] if days else None

    def day_or_newest(self, day: date | None) -> date | None:
        return day or self.newest_day

    def windows_of_day(self, day: date | None) -> pd.DataFrame:
        return (
            self.snapshot.windows.iloc[0:0] if day is None else self.reader.windows_on(self.snapshot, [day])
        )

    def daily_of_day(self, day: date | None) -> pd.DataFrame:
        return self.snapshot.daily.iloc[0:0] if day is None else self.reader.daily_on(self.snapshot, day)


def current_view(request: Request) -> View:
    state = request.app.state
    return View(state.reader, state.reader.snapshot(), state.catalogue, state.quality)


ViewDep = Annotated[View, Depends(current_view)]
DayParam = Annotated[
    date | None, Query(description="Event date (YYYY-MM-DD); default: the newest date in gold.")
]


def resolve_span(view: View, window_start: datetime | None, windows: int) -> figures.Span | None:
    """The span of `windows` windows ending with the one starting at `window_start` (default: the newest)."""
    newest = figures.newest_window(view.snapshot.windows)
    if newest is None:
        return None
    length = newest[1] - newest[0]
    if window_start is None:
        last = newest[0]
    else:
        last = (window_start if window_start.tzinfo else window_start.replace(tzinfo=UTC)).astimezone(UTC)
        if not figures.is_window_start(last, length):
            aligned = last - (last - figures.EPOCH) % length
            raise HTTPException(
                400,
                f"window_start {last.isoformat()} is not the start of a window: windows are "
                f"{int(length.total_seconds())} s long, e.g. {aligned.isoformat()}",
            )
    if windows * length > MAX_SPAN:
        raise HTTPException(
            400,
            f"{windows} windows of {int(length.total_seconds())} s span more than {MAX_SPAN}; ask for fewer",
        )
    return figures.Span(last, length, windows)


@router.get("/sales", response_model=SalesResponse, summary="Per-product sales over the latest windows")
def sales(
    view: ViewDep,
    window_start: Annotated[
        datetime | None,
        Query(
            description="Event time (ISO 8601, UTC when no offset) of the span's last window; default: newest"
        ),
    ] = None,
    windows: Annotated[int, Query(ge=1, le=1440, description="How many consecutive windows")] = 1,
    product_id: Annotated[
        list[NonNegativeInt], Query(max_length=500, description="Only these products")
    ] = [],  # noqa: B006
    sort: SortKey = SortKey.revenue,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> SalesResponse:
    span = resolve_span(view, window_start, windows)
    frame = view.reader.windows_on(view.snapshot, span.days) if span else view.snapshot.windows
    return figures.product_sales(frame, span, view.brands, sort, limit, product_id)


@router.get("/top", response_model=TopResponse, summary="Top products or brands of a day")
def top(
    view: ViewDep,
    by: RankBy = RankBy.product,
    n: Annotated[int, Query(ge=1, le=100)] = 10,
    day: DayParam = None,
) -> TopResponse:
    day = view.day_or_newest(day)
    daily = view.daily_of_day(day)
    if by is RankBy.brand:
        return figures.top_brands(daily, day, view.brands, n)
    return figures.top_products(daily, day, view.brands, n)


@router.get(
    "/products/{product_id}/series", response_model=ProductSeriesResponse, summary="A product's windows"
)
def product_series(
    view: ViewDep, product_id: Annotated[int, PathParam(ge=0)], day: DayParam = None
) -> ProductSeriesResponse:
    day = view.day_or_newest(day)
    daily = view.daily_of_day(day)
    return ProductSeriesResponse(
        product_id=product_id,
        brand=figures.brand_of(view.brands, product_id),
        day=day,
        points=figures.product_series(view.windows_of_day(day), product_id),
        day_totals=figures.day_totals(daily[daily["product_id"] == product_id]),
    )


def bucket_of(view: View, bucket_minutes: int) -> timedelta:
    bucket = timedelta(minutes=bucket_minutes)
    length = figures.window_length(view.snapshot.windows)
    if length is not None and bucket % length:
        raise HTTPException(
            400,
            f"bucket_minutes={bucket_minutes} is not a whole number of windows "
            f"({int(length.total_seconds())} s each)",
        )
    return bucket


BucketParam = Annotated[int, Query(ge=1, le=1440, description="Minutes per point; whole windows")]


@router.get("/timeline", response_model=TimelineResponse, summary="Revenue over a day")
def timeline(view: ViewDep, day: DayParam = None, bucket_minutes: BucketParam = 15) -> TimelineResponse:
    day = view.day_or_newest(day)
    return figures.timeline(view.windows_of_day(day), day, bucket_of(view, bucket_minutes))


@router.get("/funnel", response_model=FunnelResponse, summary="View → cart → purchase over a day")
def funnel(view: ViewDep, day: DayParam = None) -> FunnelResponse:
    day = view.day_or_newest(day)
    return figures.funnel(view.daily_of_day(day), day)


@router.get("/clv", response_model=ClvStatus, summary="The newest published CLV snapshot and its trust")
def clv(request: Request) -> ClvStatus:
    return clv_status(request.app.state.settings)


@router.get(
    "/carts",
    response_model=CartAbandonment,
    summary="A day's abandoned carts: rate, value at stake, recovered value",
)
def carts(
    request: Request,
    day: Annotated[
        date | None,
        Query(description="Event date (YYYY-MM-DD); default: the newest day of gold.cart_abandonment_daily."),
    ] = None,
    n: Annotated[int, Query(ge=1, le=100, description="How many top products and brands")] = 5,
) -> CartAbandonment:
    return cart_abandonment(request.app.state.settings, day, n)


@router.get("/health", response_model=Health, summary="Service health and data freshness")
def health(view: ViewDep) -> Health:
    snapshot, now = view.snapshot, datetime.now(UTC)
    fresh = figures.freshness(snapshot.windows, snapshot.daily, snapshot.batches, now)
    status: HealthStatus
    if not snapshot.ready:
        status, message = "waiting_for_gold", "gold has no rows yet: is the streaming job running?"
    elif fresh.gold_age_seconds is not None and fresh.gold_age_seconds > STALE_AFTER.total_seconds():
        status, message = "stale", f"gold last changed {fresh.gold_age_seconds:.0f} s ago"
    else:
        status, message = "ok", "serving gold"
    length = figures.window_length(snapshot.windows)
    return Health(
        status=status,
        message=message,
        server_time=now,
        table_versions=snapshot.versions,
        days_cached=snapshot.days,
        window_seconds=int(length.total_seconds()) if length else None,
        brands_known=len(view.brands),
        brands_refreshed_at=view.catalogue.refreshed_at,
        freshness=fresh,
        stream=figures.stream_status(snapshot.batches),
        input_quality=view.quality.current,
    )


class OverviewCache:
    """Overviews by parameters and data: every open page asks each second, the data changes at most that
    often, so they share one computation. Entries of older data are dropped as new ones come."""

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._entries: dict[Hashable, Overview] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], Overview]) -> Overview:
        with self._lock:
            found = self._entries.get(key)
        if found is None:
            found = build()
            with self._lock:
                if len(self._entries) >= self.size:
                    self._entries.clear()
                self._entries[key] = found
        return found


def build_overview(view: View, windows: int, top_n: int, bucket_minutes: int) -> Overview:
    snapshot, day = view.snapshot, view.newest_day
    daily, windows_day = view.daily_of_day(day), view.windows_of_day(day)
    span, latest = resolve_span(view, None, windows), resolve_span(view, None, 1)
    recent_windows = view.reader.windows_on(snapshot, span.days) if span else snapshot.windows
    return Overview(
        server_time=snapshot.read_at,
        day=day,
        freshness=figures.freshness(snapshot.windows, snapshot.daily, snapshot.batches, snapshot.read_at),
        stream=figures.stream_status(snapshot.batches),
        input_quality=view.quality.current,
        recent=figures.product_sales(recent_windows, span, view.brands, limit=12),
        latest_window=figures.product_sales(snapshot.windows, latest, view.brands),
        top_products=figures.top_products(daily, day, view.brands, top_n),
        top_brands=figures.top_brands(daily, day, view.brands, top_n),
        timeline=figures.timeline(windows_day, day, bucket_of(view, bucket_minutes)),
        funnel=figures.funnel(daily, day),
        day_totals=figures.day_totals(daily),
    )


@router.get("/overview", response_model=Overview, summary="Everything the page shows, in one call")
def overview(
    request: Request,
    view: ViewDep,
    windows: Annotated[int, Query(ge=1, le=1440, description="Windows in the per-product view")] = 60,
    top_n: Annotated[int, Query(ge=1, le=50)] = 10,
    bucket_minutes: BucketParam = 15,
) -> Overview:
    key = (
        view.snapshot.key,
        view.catalogue.refreshed_at,
        view.quality.current.refreshed_at,
        windows,
        top_n,
        bucket_minutes,
    )
    cache: OverviewCache = request.app.state.overviews
    cached = cache.get(key, lambda: build_overview(view, windows, top_n, bucket_minutes))
    now = datetime.now(UTC)
    return cached.model_copy(update={"server_time": now, "freshness": figures.aged(cached.freshness, now)})
