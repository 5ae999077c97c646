"""One event day of the lake, read with delta-rs (batch reads of the Delta tables, not the stream) into the
frames the suites validate.

Which rows belong to day D:
- silver and gold: their partition of D (event_date, window_date); the CLV snapshot published as of D;
- bronze and the quarantine, partitioned by the date they arrived: the records whose event_time text is on D,
  read from the arrival dates of D's silver events and D itself;
- a record without a usable event time belongs to the day it arrived, as do the producer's dead letters and
  the stream's micro-batches.
So every record is validated on exactly one day.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from math import ceil, floor

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from confluent_kafka import KafkaException
from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError

from salesinsights.catalog import (
    AUDIT_STREAM_BATCHES,
    BRONZE_EVENTS,
    GOLD_CART_ABANDONMENT,
    GOLD_CART_ABANDONMENT_DAILY,
    GOLD_CUSTOMER_LIFETIME_VALUE,
    GOLD_PRODUCT_SALES,
    GOLD_PRODUCT_SALES_DAILY,
    SILVER_EVENTS,
    SILVER_QUARANTINE,
    Table,
)
from salesinsights.kafka_io import read_topic
from salesinsights.quality import frames
from salesinsights.quality import suites as S
from salesinsights.quality.from_rules import LATEST_EVENT_TIME
from salesinsights.rules import FUTURE_TOLERANCE
from salesinsights.settings import Settings

# The event date in a raw record's JSON, as the producer writes it: "event_time":"2019-10-01 00:00:07 UTC".
_EVENT_DAY_IN_JSON = r'"event_time":\s*"(?P<day>\d{4}-\d{2}-\d{2})'
_DEAD_LETTER_READ_TIMEOUT_S = 60


@dataclass
class DayFrames:
    """The frames of one day by suite name, the parameters of the suites that have any, and the suites that
    could not be validated, with why."""

    day: date
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    parameters: dict[str, dict[str, object]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def open_table(settings: Settings, table: Table) -> DeltaTable | None:
    try:
        return DeltaTable(table.path(settings))
    except TableNotFoundError:
        return None


def empty_frame(table: Table) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype="object") for name in table.column_names})


def partition_frame(delta: DeltaTable | None, table: Table, column: str, value: str) -> pd.DataFrame:
    """One partition of a table (empty when the table or the partition does not exist)."""
    if delta is None or not has_partition(delta, column, value):
        return empty_frame(table)
    return delta.to_pandas(partitions=[(column, "=", value)])


def has_partition(delta: DeltaTable, column: str, value: str) -> bool:
    return {column: value} in delta.partitions()


def _row_count_bounds(delta: DeltaTable | None, column: str, day: date) -> dict[str, object]:
    """MIN_ROWS/MAX_ROWS around the previous day's row count; open when there is no previous day."""
    previous = day - timedelta(days=1)
    if delta is None or not has_partition(delta, column, previous.isoformat()):
        return {S.MIN_ROWS: 0, S.MAX_ROWS: None}
    rows = delta.to_pyarrow_dataset(partitions=[(column, "=", previous.isoformat())]).count_rows()
    low, high = S.ROW_COUNT_CHANGE
    return {S.MIN_ROWS: floor(rows * low), S.MAX_ROWS: ceil(rows * high)}


def delta_fields(delta: DeltaTable) -> list[dict[str, object]]:
    fields: list[dict[str, object]] = json.loads(delta.schema().to_json())["fields"]
    return fields


class _DayReader:
    def __init__(self, settings: Settings, day: date, now: datetime) -> None:
        self.settings = settings
        self.day = day
        self.now = now

    def table(self, table: Table) -> DeltaTable | None:
        return open_table(self.settings, table)

    @cached_property
    def silver(self) -> pd.DataFrame:
        return partition_frame(self.table(SILVER_EVENTS), SILVER_EVENTS, "event_date", self.day.isoformat())

    @cached_property
    def gold_daily(self) -> pd.DataFrame:
        return partition_frame(
            self.table(GOLD_PRODUCT_SALES_DAILY), GOLD_PRODUCT_SALES_DAILY, "event_date", self.day.isoformat()
        )

    @cached_property
    def gold_windows(self) -> pd.DataFrame:
        return partition_frame(
            self.table(GOLD_PRODUCT_SALES), GOLD_PRODUCT_SALES, "window_date", self.day.isoformat()
        )

    @cached_property
    def arrival_dates(self) -> list[date]:
        return sorted({self.day, *pd.to_datetime(self.silver["ingested_at"], utc=True).dt.date})

    def _arrived(self, table: Table, value_column: str) -> pd.DataFrame:
        """The day's records of a table partitioned by arrival (ingest_date)."""
        delta = self.table(table)
        if delta is None:
            return empty_frame(table)
        arrived = pc.field("ingest_date").isin(pa.array(self.arrival_dates, pa.date32()))
        dataset = delta.to_pyarrow_dataset()
        kept = [self._own(batch, value_column) for batch in dataset.to_batches(filter=arrived)]
        return pa.Table.from_batches(kept, dataset.schema).to_pandas()

    def _own(self, batch: pa.RecordBatch, value_column: str) -> pa.RecordBatch:
        matched = pc.extract_regex(batch[value_column], _EVENT_DAY_IN_JSON)
        event_day = pc.struct_field(matched, "day").cast(pa.string())
        on_day = pc.fill_null(pc.equal(event_day, self.day.isoformat()), False)
        arrived_today = pc.equal(batch["ingest_date"], pa.scalar(self.day, pa.date32()))
        return batch.filter(pc.or_(on_day, pc.and_(pc.is_null(event_day), arrived_today)))

    @cached_property
    def bronze(self) -> pd.DataFrame:
        return self._arrived(BRONZE_EVENTS, "value")

    @cached_property
    def quarantine(self) -> pd.DataFrame:
        return self._arrived(SILVER_QUARANTINE, "raw_value")

    def stream_batches(self) -> pd.DataFrame:
        delta = self.table(AUDIT_STREAM_BATCHES)
        if delta is None:
            return empty_frame(AUDIT_STREAM_BATCHES)
        start = pa.scalar(midnight(self.day), pa.timestamp("us", "UTC"))
        end = pa.scalar(midnight(self.day + timedelta(days=1)), pa.timestamp("us", "UTC"))
        ran_that_day = (pc.field("started_at") >= start) & (pc.field("started_at") < end)
        return delta.to_pyarrow_dataset().to_table(filter=ran_that_day).to_pandas()

    def dead_letters(self) -> pd.DataFrame:
        kafka = self.settings.kafka
        letters = [
            message.value()
            for message in read_topic(kafka, kafka.dead_letter_topic, _DEAD_LETTER_READ_TIMEOUT_S)
            if datetime.fromtimestamp(message.timestamp()[1] / 1000, UTC).date() == self.day
        ]
        return frames.dead_letter_frame(letter for letter in letters if letter is not None)

    def clv(self) -> pd.DataFrame:
        return partition_frame(
            self.table(GOLD_CUSTOMER_LIFETIME_VALUE),
            GOLD_CUSTOMER_LIFETIME_VALUE,
            "as_of_date",
            self.day.isoformat(),
        )

    def day_partition(self, table: Table) -> pd.DataFrame:
        """The day's rows of a table partitioned by event_date (none when the table does not exist)."""
        return partition_frame(self.table(table), table, "event_date", self.day.isoformat())

    def event_time_parameters(self) -> dict[str, object]:
        return {
            LATEST_EVENT_TIME: self.now + FUTURE_TOLERANCE,
            S.DATASET_START: midnight(self.settings.source.start),
            S.DATASET_END: midnight(self.settings.source.end),
        }

    def frame(self, suite: str) -> pd.DataFrame:
        builders: dict[str, Callable[[], pd.DataFrame]] = {
            S.BRONZE: lambda: frames.raw_event_frame(self.bronze["value"]),
            S.SILVER: lambda: frames.silver_frame(self.silver),
            S.QUARANTINE: lambda: frames.quarantine_frame(self.quarantine),
            S.QUARANTINE_SHARE: lambda: frames.quarantine_share_frame(
                len(self.silver), self.quarantine["reason"]
            ),
            S.DEAD_LETTERS: self.dead_letters,
            S.GOLD_DAILY: lambda: self.gold_daily,
            S.GOLD_WINDOWS: lambda: self.gold_windows,
            S.RECONCILIATION: lambda: frames.reconciliation_frame(
                self.silver, self.gold_daily, self.gold_windows
            ),
            S.STREAM_BATCHES: lambda: frames.stream_batches_frame(self.stream_batches()),
            S.CLV: self.clv,
            S.CARTS: lambda: self.day_partition(GOLD_CART_ABANDONMENT),
            S.CARTS_DAILY: lambda: self.day_partition(GOLD_CART_ABANDONMENT_DAILY),
        }
        if suite in builders:
            return builders[suite]()
        table = next(table for table in S.SCHEMA_TABLES if S.schema_suite_name(table) == suite)
        delta = self.table(table)
        return frames.schema_frame(table, None if delta is None else delta_fields(delta))

    def parameters(self, suite: str) -> dict[str, object]:
        if suite == S.BRONZE:
            return {LATEST_EVENT_TIME: self.now + FUTURE_TOLERANCE}
        if suite == S.SILVER:
            return self.event_time_parameters() | _row_count_bounds(
                self.table(SILVER_EVENTS), "event_date", self.day
            )
        if suite == S.GOLD_DAILY:
            return _row_count_bounds(self.table(GOLD_PRODUCT_SALES_DAILY), "event_date", self.day)
        return {}

    def skip_reason(self, suite: str) -> str | None:
        """Why a suite has nothing to validate: the CLV table exists only after the first CLV run."""
        if suite not in (S.CLV, S.schema_suite_name(GOLD_CUSTOMER_LIFETIME_VALUE)):
            return None
        clv = self.table(GOLD_CUSTOMER_LIFETIME_VALUE)
        if clv is None:
            return f"no {GOLD_CUSTOMER_LIFETIME_VALUE.qualified_name} table yet"
        if suite == S.CLV and not has_partition(clv, "as_of_date", self.day.isoformat()):
            return f"no CLV snapshot as of {self.day}"
        return None


def read_day(
    settings: Settings, day: date, suites: Collection[str], now: datetime | None = None
) -> DayFrames:
    """The frames of the given suites for `day`. Missing medallion tables give empty frames (their schema
    suites fail, naming every column missing); a missing CLV snapshot or an unreachable dead-letter topic
    skips that suite."""
    reader = _DayReader(settings, day, now or datetime.now(UTC))
    result = DayFrames(day)
    for suite in suites:
        reason = reader.skip_reason(suite)
        if reason is not None:
            result.skipped[suite] = reason
            continue
        try:
            result.frames[suite] = reader.frame(suite)
        except (KafkaException, TimeoutError) as error:
            result.skipped[suite] = f"could not be read: {error}"
            continue
        result.parameters[suite] = reader.parameters(suite)
    return result


def event_days(settings: Settings) -> list[date]:
    """Silver's event dates, oldest first."""
    delta = open_table(settings, SILVER_EVENTS)
    return sorted(date.fromisoformat(part["event_date"]) for part in (delta.partitions() if delta else []))


def complete_days(settings: Settings) -> list[date]:
    """Silver's event dates but the newest, which is still filling."""
    return event_days(settings)[:-1]


def newest_complete_day(settings: Settings) -> date:
    """Yesterday in event time: the day before the newest event date in silver (that one is still filling)."""
    days = event_days(settings)
    if not days:
        raise LookupError(f"silver holds no events yet ({SILVER_EVENTS.path(settings)})")
    return days[-1] - timedelta(days=1)
