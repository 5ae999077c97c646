"""The JSON API's response models (they make the OpenAPI document). Money is a number in the shop's currency,
exact to the cent; times are UTC. "Event time" is when the shop's event happened (2019–2020 in the replayed
data set); "wall clock" is when this platform did something."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field


class Problem(BaseModel):
    """400: parameters that are well-formed but contradictory or unknown."""

    detail: str


class ParameterProblem(BaseModel):
    parameter: str
    location: str = Field(description="query or path")
    message: str
    input: object = None


class InvalidRequest(BaseModel):
    """422: parameters that do not parse or are out of range; `detail` says it in one sentence."""

    detail: str
    problems: list[ParameterProblem]


class SortKey(StrEnum):
    revenue = "revenue"
    units = "units"


class RankBy(StrEnum):
    product = "product"
    brand = "brand"


class WindowSpan(BaseModel):
    first_window_start: datetime = Field(description="Event time: start of the span's first window.")
    last_window_start: datetime = Field(description="Event time: start of the span's last window.")
    end: datetime = Field(description="Event time: end of the span's last window.")
    windows: int
    window_seconds: int


class ProductSales(BaseModel):
    product_id: int
    brand: str | None
    revenue: float
    units: int
    buyers: int = Field(description="Distinct buyers over the span.")
    windows: int = Field(description="Windows of the span in which the product sold.")


class SalesResponse(BaseModel):
    span: WindowSpan | None = Field(description="None while gold has no window yet.")
    revenue: float = Field(description="All products of the span, not only those listed.")
    units: int
    products_total: int = Field(description="Products that sold in the span (before the limit).")
    products: list[ProductSales]


class TopEntry(BaseModel):
    rank: int
    key: str = Field(description="The product id or the brand.")
    product_id: int | None = None
    brand: str | None = None
    revenue: float
    units: int
    products: int = Field(default=1, description="Products behind the entry (a brand's products that sold).")


class TopResponse(BaseModel):
    by: RankBy
    day: date | None = Field(description="Event date ranked: all its purchases, late ones included.")
    entries: list[TopEntry]
    unbranded_revenue: float | None = Field(
        default=None, description="By brand: revenue of products whose brand is unknown (not ranked)."
    )


class SeriesPoint(BaseModel):
    window_start: datetime
    window_end: datetime
    revenue: float
    units: int
    buyers: int


class DayTotals(BaseModel):
    """A day's sums of catalog.DAILY_MEASURES, in their order."""

    revenue: float
    units: int
    views: int
    carts: int
    removals: int
    purchases: int


class ProductSeriesResponse(BaseModel):
    product_id: int
    brand: str | None
    day: date | None
    points: list[SeriesPoint] = Field(description="The product's windows of the day that have purchases.")
    day_totals: DayTotals | None = Field(
        description="From gold.product_sales_daily, late purchases included."
    )


class TimelinePoint(BaseModel):
    start: datetime
    revenue: float
    units: int


class TimelineResponse(BaseModel):
    day: date | None
    bucket_minutes: int
    revenue: float
    points: list[TimelinePoint]


class FunnelResponse(BaseModel):
    day: date | None
    views: int
    carts: int
    removals: int
    purchases: int
    view_to_cart: float | None = Field(description="carts / views")
    cart_to_purchase: float | None = Field(description="purchases / carts")
    view_to_purchase: float | None = Field(description="purchases / views")


class Freshness(BaseModel):
    gold_updated_at: datetime | None = Field(description="Wall clock: the newest gold update.")
    gold_age_seconds: float | None = Field(description="Wall clock: seconds since the newest gold update.")
    newest_window_start: datetime | None = Field(description="Event time: the newest purchase window.")
    newest_window_end: datetime | None
    newest_event_time: datetime | None = Field(description="Event time: the stream's newest event, any type.")
    watermark: datetime | None = Field(description="Event time: purchases before it count as late.")


class StreamStatus(BaseModel):
    last_batch_id: int | None
    last_batch_finished_at: datetime | None = Field(description="Wall clock.")
    records_per_second: float | None = Field(description="Kafka records processed per second, last minute.")
    late_events_last_minute: int
    quarantined_last_minute: int


class LastValidation(BaseModel):
    """The newest nightly data-quality run (audit.dq_results)."""

    run_id: str
    day: date = Field(description="Event date validated.")
    validated_at: datetime = Field(description="Wall clock.")
    expectations: int
    critical_failures: list[str] = Field(
        description="suite [rule]: expectation, for each failed critical one"
    )
    warnings: int


class InputQuality(BaseModel):
    """Bad input over the whole archive, refreshed in the background (see `refreshed_at`)."""

    refreshed_at: datetime | None = Field(description="Wall clock: when these counts were taken.")
    quarantined: int = Field(description="Rows in silver.events_quarantine.")
    quarantine_reasons: dict[str, int]
    dead_letters: int = Field(description="Records on the producer's dead-letter topic.")
    dead_letter_reasons: dict[str, int]
    dead_letters_readable: bool = Field(description="False when the dead-letter topic could not be read.")
    last_validation: LastValidation | None


class PublishedClv(BaseModel):
    """The newest published CLV snapshot: its model and how far to trust it."""

    as_of_date: date
    run_id: str
    published_at: datetime | None
    customers: int | None
    purchase_model: str | None = Field(description="bgnbd, mbgnbd or pareto_nbd: the backtest's winner.")
    model_choice: str | None = Field(description="Why: the holdout errors behind the choice, or why none.")
    holdout_error: float | None = Field(
        description="(predicted - actual) / actual holdout purchases of the model; null without a backtest "
        "or without holdout purchases to compare with."
    )
    provisional: bool | None = Field(description="Null for a run from before the guards existed.")
    provisional_reasons: list[str]
    extrapolated_customers: int | None
    report_url: str | None = Field(description="The run's HTML report, once written.")


class ClvStatus(BaseModel):
    latest: PublishedClv | None = Field(description="Null until a CLV run has been published.")


HealthStatus = Literal["ok", "waiting_for_gold", "stale"]


class Health(BaseModel):
    status: HealthStatus
    message: str
    server_time: datetime
    table_versions: dict[str, int | None]
    days_cached: list[date]
    window_seconds: int | None
    brands_known: int
    brands_refreshed_at: datetime | None
    freshness: Freshness
    stream: StreamStatus
    input_quality: InputQuality


class Overview(BaseModel):
    """Everything the page shows, in one response."""

    server_time: datetime
    day: date | None
    freshness: Freshness
    stream: StreamStatus
    input_quality: InputQuality
    recent: SalesResponse = Field(description="Per product over the newest windows.")
    latest_window: SalesResponse = Field(description="Per product in the newest window.")
    top_products: TopResponse
    top_brands: TopResponse
    timeline: TimelineResponse
    funnel: FunnelResponse
    day_totals: DayTotals | None


class AbandonedProduct(BaseModel):
    product_id: int
    brand: str | None
    abandonments: int = Field(description="Abandoned carts that held it.")
    units: int = Field(description="Its units in them.")
    value: float = Field(description="Their value (units times the price of its latest cart event).")


class AbandonedBrand(BaseModel):
    brand: str
    abandonments: int = Field(description="Abandoned cart lines of the brand's products.")
    units: int
    value: float


class CartAbandonment(BaseModel):
    """A day's abandoned carts (gold.cart_abandonment_daily and gold.cart_abandoned_products)."""

    day: date | None = Field(description="Event date; null until the cart sessions query has written a day.")
    idle_gap_minutes: float = Field(description="The idle gap after which a cart counts as abandoned.")
    carting_sessions: int = Field(description="Sessions whose first cart event fell on the day.")
    abandoned_sessions: int = Field(description="Of those, the sessions abandoned (then or later).")
    abandonment_rate: float | None = Field(
        description="abandoned / carting sessions: the day's cohort's share; null without any."
    )
    value_at_stake: float = Field(description="Value of the carts abandoned on the day.")
    recovered_sessions: int = Field(
        description="Sessions that bought back a product of their abandoned cart."
    )
    recovered_value: float = Field(description="Value of the abandoned lines bought back (as abandoned).")
    top_products: list[AbandonedProduct]
    top_brands: list[AbandonedBrand]
