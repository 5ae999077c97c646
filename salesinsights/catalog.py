"""The catalogue of the lake's tables, each declared once in plain Python: its layer and name, its columns
(type, comment, nullability), partitioning, the columns that identify a row and its additive measures.

Everything else derives from it: the Spark schemas and table creation (`spark.tables`), the delta-rs
readers and Arrow schemas (`lake`), the Great Expectations schema suites, and the dashboard. It needs
neither Spark nor delta-rs to be read. Types are Delta's names: string, long, integer, double, boolean,
date, timestamp, binary, decimal(p,s), array<…>, map<…,…>, struct<name:type,…>.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, TypeVar

from salesinsights.schema import (
    EVENT_FIELDS,
    EVENT_ID,
    PRICE_PRECISION,
    PRICE_SCALE,
    SOURCE_FILE,
    SOURCE_LINE,
)
from salesinsights.schema import FieldKind as _Kind
from salesinsights.settings import Settings

Layer = Literal["bronze", "silver", "gold", "audit"]
MONEY = "decimal(18,2)"
# The delta type of each kind of event field in silver.
EVENT_FIELD_TYPES: dict[_Kind, str] = {
    _Kind.TIMESTAMP: "timestamp",
    _Kind.INTEGER: "long",
    _Kind.DECIMAL: f"decimal({PRICE_PRECISION},{PRICE_SCALE})",
    _Kind.TEXT: "string",
}
# A silver event that was behind the archive's watermark when it arrived: gold.product_sales leaves it out.
ARRIVED_LATE = "arrived_late"
# What gold.product_sales_daily sums per product and day, in this order wherever the day's totals are shown.
DAILY_MEASURES = ("revenue", "units", "views", "carts", "removals", "purchases")
# The event type each daily count counts (revenue and units are the purchases' price and count).
COUNTED_EVENT_TYPES = {
    "views": "view",
    "carts": "cart",
    "removals": "remove_from_cart",
    "purchases": "purchase",
}


EngineType = TypeVar("EngineType")
_DECIMAL = re.compile(r"decimal\((\d+),(\d+)\)")


def _split_top_level(text: str) -> list[str]:
    """`a,b<c,d>,decimal(p,s)` as ['a', 'b<c,d>', 'decimal(p,s)']: the commas outside any brackets."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += {"<": 1, "(": 1, ">": -1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    return [*parts, text[start:]]


def engine_type(
    delta_type: str,
    primitives: Mapping[str, EngineType],
    decimal: Callable[[int, int], EngineType],
    array: Callable[[EngineType], EngineType],
    map_: Callable[[EngineType, EngineType], EngineType],
    struct: Callable[[list[tuple[str, EngineType]]], EngineType],
) -> EngineType:
    """A catalogue type name as one engine's type (Spark's, Arrow's), made with that engine's constructors."""
    text = delta_type.replace(" ", "")

    def convert(inner: str) -> EngineType:
        return engine_type(inner, primitives, decimal, array, map_, struct)

    if text in primitives:
        return primitives[text]
    if match := _DECIMAL.fullmatch(text):
        return decimal(int(match.group(1)), int(match.group(2)))
    if text.startswith("array<") and text.endswith(">"):
        return array(convert(text[len("array<") : -1]))
    if text.startswith("map<") and text.endswith(">"):
        key, value = _split_top_level(text[len("map<") : -1])
        return map_(convert(key), convert(value))
    if text.startswith("struct<") and text.endswith(">"):
        fields = [part.split(":", 1) for part in _split_top_level(text[len("struct<") : -1])]
        return struct([(name, convert(inner)) for name, inner in fields])
    raise ValueError(f"not a catalogue type: {delta_type}")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    comment: str = ""
    nullable: bool = True


@dataclass(frozen=True)
class Table:
    layer: Layer
    name: str
    columns: tuple[Column, ...]
    description: str
    partition_by: tuple[str, ...] = ()
    # The columns that identify a row (a write keyed by them is idempotent); empty for an append-only log.
    keys: tuple[str, ...] = ()
    # Additive figures: sums over rows mean something.
    measures: tuple[str, ...] = ()

    @property
    def qualified_name(self) -> str:
        return f"{self.layer}.{self.name}"

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.qualified_name} has no column {name}")

    def path(self, settings: Settings) -> str:
        return settings.table_path(self.layer, self.name)


def _columns(*specs: tuple[str, str, str]) -> tuple[Column, ...]:
    return tuple(Column(name, type_, comment) for name, type_, comment in specs)


_KAFKA_PROVENANCE = _columns(
    ("kafka_partition", "integer", "Partition of the raw topic the record came from."),
    ("kafka_offset", "long", "Its offset in that partition."),
    ("kafka_timestamp", "timestamp", "The record's Kafka timestamp (when the producer wrote it)."),
    ("ingested_at", "timestamp", "When the streaming application read it."),
)
_SOURCE = _columns(
    (SOURCE_FILE, "string", "The landing file the event came from."),
    (SOURCE_LINE, "long", "Its line in that file (1 = the first event after the header)."),
)
# Which micro-batch last added to a gold row: a replayed batch finds its own mark and adds nothing again.
_GOLD_BOOKKEEPING = _columns(
    ("updated_at", "timestamp", "When the row last changed."),
    ("last_batch", "string", "The micro-batch (query id and batch id) that last changed it."),
)

BRONZE_EVENTS = Table(
    "bronze",
    "events_raw",
    (
        *_columns(
            ("key", "binary", "The record's key: the event id."),
            (
                "value",
                "binary",
                "The record's value as the producer wrote it (JSON of the line's fields).",
            ),
            ("topic", "string", "The raw topic."),
        ),
        *_KAFKA_PROVENANCE,
        *_columns(("ingest_date", "date", "The date of ingested_at (the partition).")),
    ),
    "Every Kafka record of the raw topic as received, once.",
    partition_by=("ingest_date",),
    keys=("kafka_partition", "kafka_offset"),
)

SILVER_EVENTS = Table(
    "silver",
    "events",
    (
        Column(EVENT_ID, "string", "The event's id: a hash of its source file and line.", nullable=False),
        *[
            Column(field.name, EVENT_FIELD_TYPES[field.kind], field.description, field.nullable)
            for field in EVENT_FIELDS
        ],
        Column("event_date", "date", "The date of event_time, UTC (the partition).", nullable=False),
        *_SOURCE,
        *_KAFKA_PROVENANCE,
        Column(ARRIVED_LATE, "boolean", "Behind the archive's watermark when it arrived."),
    ),
    "Typed, validated events, one row per event_id (its first arrival); arrived_late marks those that were "
    "behind the watermark when they arrived.",
    partition_by=("event_date",),
    keys=(EVENT_ID,),
)

SILVER_QUARANTINE = Table(
    "silver",
    "events_quarantine",
    (
        *_columns(
            (EVENT_ID, "string", "The record's event id, when it has one."),
            ("reason", "string", "The first rule the record broke."),
            ("reasons", "array<string>", "Every rule it broke."),
            ("raw_value", "string", "The record's value as received."),
        ),
        *_SOURCE,
        *_KAFKA_PROVENANCE,
        *_columns(("ingest_date", "date", "The date of ingested_at (the partition).")),
    ),
    "Records that broke a rule, with the first reason and all of them, and the raw value.",
    partition_by=("ingest_date",),
    keys=("kafka_partition", "kafka_offset"),
)

GOLD_PRODUCT_SALES = Table(
    "gold",
    "product_sales",
    (
        *_columns(
            ("product_id", "long", "The product."),
            ("window_start", "timestamp", "Start of the event-time window (inclusive)."),
            ("window_end", "timestamp", "End of the window (exclusive)."),
            ("window_date", "date", "The date of window_start (the partition)."),
            ("revenue", MONEY, "Sum of the window's purchase prices."),
            ("units", "long", "Purchases in the window (one unit each)."),
            ("buyer_ids", "array<long>", "The distinct buyers' user ids."),
            ("distinct_buyers", "integer", "How many distinct buyers."),
        ),
        *_GOLD_BOOKKEEPING,
    ),
    "Revenue, units and distinct buyers per product per event-time window; purchases later than the "
    "watermark are left out here (and counted in audit.stream_batches.late_events).",
    partition_by=("window_date",),
    keys=("product_id", "window_start"),
    measures=("revenue", "units"),
)

GOLD_PRODUCT_SALES_DAILY = Table(
    "gold",
    "product_sales_daily",
    (
        *_columns(
            ("event_date", "date", "The day, UTC (the partition)."),
            ("product_id", "long", "The product."),
            ("revenue", MONEY, "Sum of the day's purchase prices."),
            ("units", "long", "Units bought (one per purchase event)."),
            ("views", "long", "View events."),
            ("carts", "long", "Cart events."),
            ("removals", "long", "Remove-from-cart events."),
            ("purchases", "long", "Purchase events (equal to units)."),
        ),
        *_GOLD_BOOKKEEPING,
    ),
    "Per product and event date: revenue and units of every purchase (late or not), and the funnel "
    "counts (views, carts, removals, purchases; a purchase row is one unit, so purchases = units).",
    partition_by=("event_date",),
    keys=("event_date", "product_id"),
    measures=DAILY_MEASURES,
)

AUDIT_STREAM_BATCHES = Table(
    "audit",
    "stream_batches",
    _columns(
        ("query_id", "string", "The streaming query's id (new with every checkpoint)."),
        ("batch_id", "long", "The micro-batch's id within that query."),
        ("started_at", "timestamp", "When the batch began."),
        ("finished_at", "timestamp", "When it had written everything."),
        ("kafka_records", "long", "Records the batch read."),
        ("silver_new", "long", "Events it added to silver."),
        ("replays_collapsed", "long", "Events already in silver (a replay) that it left out."),
        ("quarantined", "long", "Records it put in the quarantine."),
        ("late_events", "long", "Events behind the watermark (kept in silver and the daily table)."),
        ("max_event_time", "timestamp", "The newest event time the batch saw."),
        (
            "partition_high_marks",
            "map<integer,timestamp>",
            "Newest event time per Kafka partition so far.",
        ),
        ("watermark", "timestamp", "The watermark the batch was held to."),
        ("offsets", "string", "JSON of the Kafka offsets the batch covered, per partition."),
    ),
    "One row per micro-batch: the conservation terms (kafka_records = silver_new + replays_collapsed + "
    "quarantined), late events, the newest event time per Kafka partition, the watermark the batch was "
    "held to (the oldest partition's newest event, less the allowed lateness), and the offsets it covered.",
    keys=("query_id", "batch_id"),
    measures=("kafka_records", "silver_new", "replays_collapsed", "quarantined", "late_events"),
)

_SNAPSHOT_COLUMNS = _columns(
    ("as_of_date", "date", "The day the snapshot describes (purchases up to and including it)."),
    ("run_id", "string", "The CLV run that computed it."),
    ("user_id", "long", "The customer."),
    ("first_purchase", "date", "The day of the first purchase."),
    ("last_purchase", "date", "The day of the last purchase up to as_of_date."),
    ("occasions", "long", "Purchase occasions (days with a purchase)."),
    ("units", "long", "Units bought."),
    ("frequency", "long", "Repeat occasions (occasions - 1)."),
    ("recency", "double", "First to last purchase, in clv_model_runs.time_unit."),
    ("age", "double", "First purchase to as_of_date, in clv_model_runs.time_unit."),
    ("monetary_value", "double", "Mean value of the repeat occasions (0 without any)."),
    ("total_revenue", MONEY, "Everything the customer spent."),
    ("days_since_last_purchase", "integer", "Days from the last purchase to as_of_date."),
    ("r_score", "integer", "Recency score, 1-5."),
    ("f_score", "integer", "Frequency score, 1-5."),
    ("m_score", "integer", "Monetary score, 1-5."),
    ("rfm_segment", "string", "The RFM segment."),
    ("p_alive", "double", "Probability that the customer is still active (the run's purchase model)."),
    ("expected_purchases", "double", "Expected purchases over clv_model_runs.horizon_months."),
    ("expected_average_value", "double", "Expected value per purchase (Gamma-Gamma)."),
    ("clv", "double", "Discounted customer lifetime value over the horizon."),
    (
        "extrapolated",
        "boolean",
        "Expected purchases above one and above the extrapolation factor (settings) times the customer's "
        "own rate (occasions over at least the horizon's length): a forecast the history does not support.",
    ),
    (
        "provisional",
        "boolean",
        "The run's figures are provisional: see clv_model_runs.provisional_reasons.",
    ),
)
_SNAPSHOT_DESCRIPTION = (
    "One row per customer with a purchase up to as_of_date: occasions (a customer's purchases of one day), "
    "frequency (repeat occasions), recency and age (first purchase to last purchase, and to as_of_date, in "
    "clv_model_runs.time_unit), monetary_value (mean value of the repeat occasions, 0 without any), "
    "total_revenue, RFM scores (1-5) and segment, P(alive), expected purchases and discounted CLV over "
    "clv_model_runs.horizon_months, from the purchase model that won the run's backtest."
)

GOLD_CUSTOMER_LIFETIME_VALUE = Table(
    "gold",
    "customer_lifetime_value",
    _SNAPSHOT_COLUMNS,
    "Published nightly CLV snapshots, one per as_of_date (a re-run replaces it). " + _SNAPSHOT_DESCRIPTION,
    partition_by=("as_of_date",),
    keys=("as_of_date", "user_id"),
)

# Write-audit-publish: a run writes here first, under its own run_id; only an audited run is published.
GOLD_CLV_STAGED = Table(
    "gold",
    "customer_lifetime_value_staged",
    _SNAPSHOT_COLUMNS,
    "CLV runs written but not (yet) published: the audit reads them here. " + _SNAPSHOT_DESCRIPTION,
    partition_by=("run_id",),
    keys=("run_id", "user_id"),
)

GOLD_CLV_MODEL_RUNS = Table(
    "gold",
    "clv_model_runs",
    _columns(
        ("run_id", "string", "The run."),
        ("as_of_date", "date", "The day it describes."),
        (
            "status",
            "string",
            "staged, then published or rejected by the audit; a published run becomes superseded when a "
            "later run of the same as_of_date is published.",
        ),
        ("staged_at", "timestamp", "When the run was written to the staged table."),
        ("published_at", "timestamp", "When it was published (null until then)."),
        ("time_unit", "string", "The unit of recency and age: day, week or month."),
        ("horizon_months", "integer", "The months CLV looks ahead."),
        ("monthly_discount_rate", "double", "The discount rate per month."),
        ("customers", "long", "Customers in the snapshot."),
        ("repeat_customers", "long", "Customers with a repeat occasion."),
        ("occasions", "long", "Purchase occasions."),
        ("units", "long", "Units bought."),
        ("total_revenue", MONEY, "Revenue up to as_of_date."),
        ("purchase_model", "string", "The purchase model published: bgnbd, mbgnbd or pareto_nbd."),
        ("purchase_params", "string", 'JSON {"name": value} of its fitted parameters.'),
        ("purchase_log_likelihood", "double", "Its log-likelihood at the fit."),
        ("purchase_converged", "boolean", "Whether its optimiser converged."),
        ("purchase_iterations", "integer", "Its iterations."),
        ("model_choice", "string", "Why the model was chosen: the holdout errors behind it, or why none."),
        ("calibration_end", "date", "The backtest's last calibration day (null: no backtest)."),
        ("holdout_error", "double", "The chosen model's (predicted - actual) / actual holdout purchases."),
        ("provisional", "boolean", "Whether the snapshot's figures are provisional."),
        (
            "provisional_reasons",
            "string",
            "JSON [text]: why (a history short for the horizon, no holdout to backtest on, a fit at a "
            "parameter boundary, a large holdout error or no purchase in the holdout); [] when not "
            "provisional.",
        ),
        ("extrapolated_customers", "long", "Customers whose forecast is flagged as extrapolated."),
        ("gg_p", "double", "Gamma-Gamma p."),
        ("gg_q", "double", "Gamma-Gamma q."),
        ("gg_gamma", "double", "Gamma-Gamma gamma."),
        ("gg_log_likelihood", "double", "Gamma-Gamma log-likelihood at the fit."),
        ("gg_converged", "boolean", "Whether the Gamma-Gamma optimiser converged."),
        ("gg_iterations", "integer", "Its iterations."),
        (
            "spend_frequency_correlation",
            "double",
            "Correlation of spend and frequency: Gamma-Gamma assumes independence, near 0 is what it needs.",
        ),
        (
            "calibration",
            "string",
            'JSON [{"repeat_purchases": "0".."7+", "actual": n, "expected": e}]: the in-sample fit check.',
        ),
        ("fit_seconds", "double", "Seconds the fits took."),
        ("audit", "string", 'JSON [{"check": name, "passed": bool, "detail": text}] of the audit.'),
    ),
    "One row per CLV run: its parameters, the purchase model chosen on the backtest and Gamma-Gamma with "
    "their fitted parameters and diagnostics, whether the figures are provisional and why, the audit's "
    "results and whether (and when) the run was published.",
    keys=("run_id",),
)

GOLD_CLV_BACKTESTS = Table(
    "gold",
    "clv_backtests",
    _columns(
        ("as_of_date", "date", "The as-of date of the run it belongs to."),
        ("run_id", "string", "The CLV run, or the backtest run by hand, that computed it."),
        ("model", "string", "The purchase model: bgnbd, mbgnbd or pareto_nbd."),
        ("chosen", "boolean", "Whether the run chose this model."),
        ("calibration_end", "date", "The last day of the calibration period."),
        ("holdout_days", "integer", "Days in the holdout, after calibration_end up to as_of_date."),
        ("time_unit", "string", "The unit of the model's time parameters."),
        ("parameters", "string", 'JSON {"name": value} of the fit on the calibration period.'),
        ("log_likelihood", "double", "Log-likelihood of that fit."),
        ("converged", "boolean", "Whether its optimiser converged."),
        ("customers", "long", "Customers with a purchase up to calibration_end (the cohort predicted)."),
        ("actual_purchases", "double", "Their repeat purchase occasions in the holdout."),
        ("predicted_purchases", "double", "The model's expectation of them."),
        ("purchases_mae", "double", "Per-customer mean absolute error of holdout purchases."),
        ("purchases_rmse", "double", "Per-customer root mean squared error of holdout purchases."),
        ("actual_spend", "double", "The cohort's spend in the holdout."),
        (
            "predicted_spend",
            "double",
            "Expected purchases times Gamma-Gamma's expected value (null: no fit).",
        ),
        ("spend_mae", "double", "Per-customer mean absolute error of holdout spend."),
        ("spend_rmse", "double", "Per-customer root mean squared error of holdout spend."),
        (
            "conditional_expectation",
            "string",
            'JSON [{"frequency": "0".."7+", "customers", "actual", "predicted"}]: mean holdout purchases by '
            "calibration frequency (Fader, Hardie & Lee 2005, figure 4).",
        ),
        (
            "p_alive_calibration",
            "string",
            'JSON [{"bucket", "customers", "mean_p_alive", "bought_again"}]: customers by P(alive) at '
            "calibration_end against the share who bought in the holdout.",
        ),
        ("computed_at", "timestamp", "When."),
    ),
    "One row per purchase model per CLV run (or backtest by hand): fitted on the history up to "
    "calibration_end, its predictions of the holdout that follows set beside what happened. Publishing a "
    "run removes the other runs' rows of its as_of_date: a published date has one backtest, its snapshot's.",
    keys=("run_id", "model"),
)

_PRICE = EVENT_FIELD_TYPES[_Kind.DECIMAL]
CART_LINE = f"struct<product_id:long,brand:string,units:integer,price:{_PRICE},value:{MONEY}>"

GOLD_CART_ABANDONMENT = Table(
    "gold",
    "cart_abandonment",
    _columns(
        ("record_id", "string", "A hash of the session, its start, the abandonment and the product bought."),
        ("kind", "string", "abandoned (the session went idle with a unit in its cart) or recovered."),
        ("user_session", "string", "The session."),
        ("user_id", "long", "Its user."),
        ("episode", "integer", "Which abandonment of the session (1 = its first) the record belongs to."),
        (
            "lines",
            f"array<{CART_LINE}>",
            "abandoned: the cart's lines (product, brand, units, price of its latest cart event, value); "
            "recovered: the abandoned line bought.",
        ),
        ("units", "integer", "Units in the lines."),
        ("value", MONEY, "Value of the lines (units times price)."),
        ("first_cart_time", "timestamp", "The session's first cart event (since its state began)."),
        ("last_event_time", "timestamp", "Its last event before the record."),
        (
            "event_time",
            "timestamp",
            "When it happened: abandoned, the last event plus the idle gap; recovered, the purchase.",
        ),
        ("event_date", "date", "The date of event_time (the partition)."),
        ("recorded_at", "timestamp", "When the streaming query wrote it."),
    ),
    "One row per abandoned cart (a session idle for the configured gap with a unit in its cart) and per "
    "recovery (a product of an abandoned cart bought after the session came back), under the README's "
    "abandoned-cart rules.",
    partition_by=("event_date",),
    keys=("record_id",),
    measures=("units", "value"),
)

GOLD_CART_SESSIONS = Table(
    "gold",
    "cart_sessions",
    _columns(
        ("record_id", "string", "A hash of the session and its first cart event."),
        ("user_session", "string", "The session."),
        ("user_id", "long", "Its user."),
        ("first_cart_time", "timestamp", "Its first cart event (since its state began)."),
        ("event_date", "date", "The date of first_cart_time (the partition)."),
        ("recorded_at", "timestamp", "When the streaming query wrote it."),
    ),
    "One row per session with a cart event (per start of its state: a session back after its state has "
    "gone starts again): the abandonment rate's denominator.",
    partition_by=("event_date",),
    keys=("record_id",),
)

# What the abandonment aggregates count, per hour or day: the cohort of sessions that began carting in the
# period and how many of them were abandoned (so the rate is a share), units and value by when they happened.
_CART_MEASURES = (
    *_columns(
        ("carting_sessions", "long", "Sessions whose first cart event falls in the period."),
        ("abandoned_sessions", "long", "Of those, the sessions abandoned (then or later)."),
        (
            "abandonment_rate",
            "double",
            "abandoned_sessions / carting_sessions: the period's cohort's share (null without a carting "
            "session).",
        ),
        ("abandoned_units", "long", "Units in the carts abandoned."),
        (
            "value_at_stake",
            MONEY,
            "Value of the carts abandoned in the period (each abandonment: a cart abandoned again counts "
            "again).",
        ),
        ("recovered_sessions", "long", "Sessions that bought back a product of their abandoned cart."),
        ("recovered_units", "long", "Units of abandoned lines bought back."),
        ("recovered_value", MONEY, "Value of the abandoned lines bought back (as abandoned)."),
    ),
    *_GOLD_BOOKKEEPING,
)
CART_MEASURE_NAMES = (
    "carting_sessions",
    "abandoned_sessions",
    "abandoned_units",
    "value_at_stake",
    "recovered_sessions",
    "recovered_units",
    "recovered_value",
)

GOLD_CART_ABANDONMENT_DAILY = Table(
    "gold",
    "cart_abandonment_daily",
    (Column("event_date", "date", "The day, UTC (the partition).", nullable=False), *_CART_MEASURES),
    "Per day: sessions with a cart event, abandoned and recovered sessions, the abandonment rate, the value "
    "at stake and the value recovered.",
    partition_by=("event_date",),
    keys=("event_date",),
    measures=CART_MEASURE_NAMES,
)

GOLD_CART_ABANDONMENT_HOURLY = Table(
    "gold",
    "cart_abandonment_hourly",
    (
        Column("hour_start", "timestamp", "The hour, UTC.", nullable=False),
        Column("event_date", "date", "The date of hour_start (the partition).", nullable=False),
        *_CART_MEASURES,
    ),
    "Per hour: the figures of gold.cart_abandonment_daily.",
    partition_by=("event_date",),
    keys=("hour_start",),
    measures=CART_MEASURE_NAMES,
)

GOLD_CART_ABANDONED_PRODUCTS = Table(
    "gold",
    "cart_abandoned_products",
    (
        *_columns(
            ("event_date", "date", "The day, UTC (the partition)."),
            ("product_id", "long", "The product."),
            ("brand", "string", "Its brand in the day's lines (the greatest, should they differ)."),
            ("abandonments", "long", "Abandoned carts that held it."),
            ("abandoned_units", "long", "Its units in them."),
            ("abandoned_value", MONEY, "Their value."),
            ("recoveries", "long", "Abandoned lines of it bought back."),
            ("recovered_units", "long", "Their units."),
            ("recovered_value", MONEY, "Their value (as abandoned)."),
        ),
        *_GOLD_BOOKKEEPING,
    ),
    "Per day and product: how often it was left in an abandoned cart (units, value) and bought back; the "
    "top abandoned products and, summed by brand, brands.",
    partition_by=("event_date",),
    keys=("event_date", "product_id"),
    measures=(
        "abandonments",
        "abandoned_units",
        "abandoned_value",
        "recoveries",
        "recovered_units",
        "recovered_value",
    ),
)

AUDIT_DQ_RESULTS = Table(
    "audit",
    "dq_results",
    _columns(
        ("run_id", "string", "The validation run (an Airflow run id, or one given to make dq)."),
        ("day", "date", "The event day validated."),
        ("suite", "string", "The expectation suite."),
        ("table", "string", "The table it guards."),
        ("expectation_type", "string", "The Great Expectations expectation."),
        ("column", "string", "The column it checks, if one."),
        ("success", "boolean", "Whether it held."),
        ("severity", "string", "critical, warning or info."),
        ("rule", "string", "The rule or check it stands for."),
        ("description", "string", "What it checks, in words."),
        ("observed_value", "string", "What it saw."),
        ("unexpected_count", "long", "Rows that broke it."),
        ("element_count", "long", "Rows it checked."),
        ("validated_at", "timestamp", "When."),
    ),
    "One row per expectation per validation run; a repeated run replaces its own rows, suite by suite.",
)

MEDALLION_TABLES: tuple[Table, ...] = (
    BRONZE_EVENTS,
    SILVER_EVENTS,
    SILVER_QUARANTINE,
    GOLD_PRODUCT_SALES,
    GOLD_PRODUCT_SALES_DAILY,
    AUDIT_STREAM_BATCHES,
)
CLV_TABLES: tuple[Table, ...] = (
    GOLD_CUSTOMER_LIFETIME_VALUE,
    GOLD_CLV_STAGED,
    GOLD_CLV_MODEL_RUNS,
    GOLD_CLV_BACKTESTS,
)
CART_TABLES: tuple[Table, ...] = (
    GOLD_CART_ABANDONMENT,
    GOLD_CART_SESSIONS,
    GOLD_CART_ABANDONMENT_DAILY,
    GOLD_CART_ABANDONMENT_HOURLY,
    GOLD_CART_ABANDONED_PRODUCTS,
)
TABLES: tuple[Table, ...] = (*MEDALLION_TABLES, *CLV_TABLES, *CART_TABLES, AUDIT_DQ_RESULTS)
