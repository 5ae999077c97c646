"""Gold, silver and audit tables as the streaming job lays them out (schemas from salesinsights.spark.tables,
written with delta-rs), built from plain events for the dashboard's tests; and the tests of the dashboard's
reader on them: newest partitions only, new versions picked up, money exact to the cent."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import write_deltalake
from pyspark.sql import types as T

from salesinsights.catalog import (
    AUDIT_STREAM_BATCHES,
    DAILY_MEASURES,
    GOLD_PRODUCT_SALES,
    GOLD_PRODUCT_SALES_DAILY,
    SILVER_EVENTS,
    Table,
)
from salesinsights.dashboard.brands import BrandCatalogue
from salesinsights.dashboard.models import DayTotals
from salesinsights.dashboard.reader import (
    BATCH_COLUMNS,
    DAILY_COLUMNS,
    WINDOW_COLUMNS,
    GoldReader,
)
from salesinsights.generator import generate_lines
from salesinsights.lake import arrow_schema
from salesinsights.schema import CSV_COLUMNS, EVENT_TIME_FORMAT
from salesinsights.settings import Settings
from salesinsights.spark.tables import spark_schema

WINDOW = timedelta(minutes=1)


@dataclass(frozen=True)
class Event:
    event_time: datetime
    event_type: str
    product_id: int
    brand: str | None
    price: Decimal
    user_id: int

    @property
    def window_start(self) -> datetime:
        return self.event_time.replace(second=0, microsecond=0)


def generated_events(day: date, scale: float = 0.03, seed: int = 7) -> list[Event]:
    """A realistic day of the shop from the project's generator."""
    events = []
    for fields in csv.reader(generate_lines(day, seed, scale)):
        row = dict(zip(CSV_COLUMNS, fields, strict=True))
        events.append(
            Event(
                event_time=datetime.strptime(row["event_time"], EVENT_TIME_FORMAT).replace(tzinfo=UTC),
                event_type=row["event_type"],
                product_id=int(row["product_id"]),
                brand=row["brand"] or None,
                price=Decimal(row["price"]),
                user_id=int(row["user_id"]),
            )
        )
    return events


def purchase(
    moment: datetime, product_id: int, price: str, user_id: int = 1, brand: str | None = None
) -> Event:
    return Event(moment, "purchase", product_id, brand, Decimal(price), user_id)


def window_rows(events: Iterable[Event]) -> list[dict[str, object]]:
    """gold.product_sales rows of the events (without the bookkeeping columns)."""
    windows: dict[tuple[int, datetime], list[Event]] = defaultdict(list)
    for event in events:
        if event.event_type == "purchase":
            windows[(event.product_id, event.window_start)].append(event)
    rows = []
    for (product_id, start), bought in windows.items():
        buyers = sorted({event.user_id for event in bought})
        rows.append(
            {
                "product_id": product_id,
                "window_start": start,
                "window_end": start + WINDOW,
                "window_date": start.date(),
                "revenue": sum((event.price for event in bought), Decimal(0)),
                "units": len(bought),
                "buyer_ids": buyers,
                "distinct_buyers": len(buyers),
            }
        )
    return rows


def daily_rows(events: Iterable[Event]) -> list[dict[str, object]]:
    """gold.product_sales_daily rows of the events (without the bookkeeping columns)."""
    days: dict[tuple[date, int], list[Event]] = defaultdict(list)
    for event in events:
        days[(event.event_time.date(), event.product_id)].append(event)
    rows = []
    for (day, product_id), seen in days.items():
        bought = [event for event in seen if event.event_type == "purchase"]
        rows.append(
            {
                "event_date": day,
                "product_id": product_id,
                "revenue": sum((event.price for event in bought), Decimal(0)),
                "units": len(bought),
                "views": sum(event.event_type == "view" for event in seen),
                "carts": sum(event.event_type == "cart" for event in seen),
                "removals": sum(event.event_type == "remove_from_cart" for event in seen),
                "purchases": len(bought),
            }
        )
    return rows


def audit_row(events: list[Event], batch_id: int, finished_at: datetime) -> dict[str, object]:
    newest = max(event.event_time for event in events)
    return {
        "query_id": "test",
        "batch_id": batch_id,
        "started_at": finished_at - timedelta(milliseconds=800),
        "finished_at": finished_at,
        "kafka_records": len(events),
        "silver_new": len(events),
        "replays_collapsed": 0,
        "quarantined": 0,
        "late_events": 0,
        "max_event_time": newest,
        "partition_high_marks": {0: newest},
        "watermark": newest - timedelta(minutes=10),
    }


class GoldLake:
    """Appends to the tables as one micro-batch of the streaming job would: each call adds rows for keys
    (product, window) and (product, day) that are not in the tables yet."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.batches = 0

    def _append(self, table: Table, rows: list[dict[str, object]]) -> None:
        frame = pa.Table.from_pylist(rows, schema=arrow_schema(table))
        write_deltalake(
            table.path(self.settings), frame, mode="append", partition_by=list(table.partition_by) or None
        )

    def add(self, events: Iterable[Event], updated_at: datetime | None = None) -> None:
        events = list(events)
        updated_at = updated_at or datetime.now(UTC)
        bookkeeping = {"updated_at": updated_at, "last_batch": f"test:{self.batches}"}
        self._append(GOLD_PRODUCT_SALES, [row | bookkeeping for row in window_rows(events)])
        self._append(GOLD_PRODUCT_SALES_DAILY, [row | bookkeeping for row in daily_rows(events)])
        self._append(SILVER_EVENTS, [self._silver_row(event, index) for index, event in enumerate(events)])
        self._append(AUDIT_STREAM_BATCHES, [audit_row(events, self.batches, updated_at)])
        self.batches += 1

    def _silver_row(self, event: Event, index: int) -> dict[str, object]:
        return {
            "event_id": f"{self.batches}-{index}",
            "event_time": event.event_time,
            "event_type": event.event_type,
            "product_id": event.product_id,
            "brand": event.brand,
            "price": event.price,
            "user_id": event.user_id,
            "event_date": event.event_time.date(),
        }


def lake_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def test_the_reader_reads_columns_of_the_catalogue() -> None:
    for table, columns in (
        (GOLD_PRODUCT_SALES, WINDOW_COLUMNS),
        (GOLD_PRODUCT_SALES_DAILY, DAILY_COLUMNS),
        (AUDIT_STREAM_BATCHES, BATCH_COLUMNS),
    ):
        assert set(columns) <= set(table.column_names), table.qualified_name
    # The API's day totals are the daily table's measures.
    assert tuple(DayTotals.model_fields) == GOLD_PRODUCT_SALES_DAILY.measures == DAILY_MEASURES


def test_reader_waits_for_tables_then_reads_the_newest_two_days_in_cents(tmp_path: Path) -> None:
    settings = lake_settings(tmp_path)
    reader = GoldReader(settings, min_interval=0)
    assert not reader.snapshot().ready

    lake = GoldLake(settings)
    start = datetime(2019, 10, 5, 23, 58, tzinfo=UTC)
    lake.add(
        [
            purchase(datetime(2019, 10, 3, 12, 0, 5, tzinfo=UTC), 1, "9.99"),
            purchase(start, 1, "0.10"),
            purchase(start + timedelta(seconds=30), 1, "0.20", user_id=2),
            purchase(start + timedelta(minutes=3), 2, "1234567.89"),
        ]
    )
    snapshot = reader.snapshot()
    assert list(snapshot.windows_by_day) == [date(2019, 10, 5), date(2019, 10, 6)]
    assert sorted(snapshot.windows["revenue_cents"]) == [30, 123456789]
    assert snapshot.daily["event_date"].min() == date(2019, 10, 5)
    # Older days are read on demand, with a partition filter.
    older = reader.windows_on(snapshot, [date(2019, 10, 3)])
    assert older["revenue_cents"].tolist() == [999]


def test_reader_follows_new_versions_and_shares_a_snapshot_between_them(tmp_path: Path) -> None:
    settings = lake_settings(tmp_path)
    lake = GoldLake(settings)
    moment = datetime(2019, 10, 5, 12, 0, tzinfo=UTC)
    lake.add([purchase(moment, 1, "1.00")])
    reader = GoldReader(settings, min_interval=3600)
    first = reader.snapshot()
    lake.add([purchase(moment + WINDOW, 2, "2.00")])
    assert reader.snapshot() is first  # within min_interval: no look at the tables

    reader.min_interval = 0
    second = reader.snapshot()
    assert second.key != first.key
    assert sorted(second.windows["product_id"]) == [1, 2]
    assert len(second.batches) == 2


def test_brand_catalogue_takes_each_products_latest_brand_and_reads_new_days_only(tmp_path: Path) -> None:
    settings = lake_settings(tmp_path)
    lake = GoldLake(settings)
    day = datetime(2019, 10, 5, 8, tzinfo=UTC)
    lake.add(
        [
            Event(day, "view", 1, "old", Decimal("1"), 1),
            Event(day + timedelta(hours=1), "view", 1, "new", Decimal("1"), 1),
            Event(day + timedelta(hours=2), "view", 1, None, Decimal("1"), 1),
            Event(day, "view", 2, None, Decimal("1"), 1),
        ]
    )
    catalogue = BrandCatalogue(SILVER_EVENTS.path(settings))
    catalogue.refresh()
    assert catalogue.brands.to_dict() == {1: "new"}

    lake.add([Event(day + timedelta(days=1), "cart", 2, "late-brand", Decimal("1"), 1)])
    catalogue.refresh()
    assert catalogue.brands.to_dict() == {1: "new", 2: "late-brand"}


@pytest.mark.parametrize("table", [GOLD_PRODUCT_SALES, GOLD_PRODUCT_SALES_DAILY, AUDIT_STREAM_BATCHES])
def test_arrow_and_spark_schemas_follow_the_catalogue(table: Table) -> None:
    assert arrow_schema(table).names == spark_schema(table).fieldNames() == table.column_names
    revenue = table.column("revenue") if "revenue" in table.column_names else None
    if revenue is not None:  # money is exact in both engines
        assert arrow_schema(table).field("revenue").type == pa.decimal128(18, 2)
        assert spark_schema(table)["revenue"].dataType == T.DecimalType(18, 2)


def test_a_refresh_that_fails_keeps_serving_the_last_rows(tmp_path: Path) -> None:
    settings = lake_settings(tmp_path)
    lake = GoldLake(settings)
    moment = datetime(2019, 10, 5, 12, 0, tzinfo=UTC)
    lake.add([purchase(moment, 1, "1.00")])
    reader = GoldReader(settings, min_interval=0)
    assert reader.snapshot().windows["product_id"].tolist() == [1]

    lake.add([purchase(moment + WINDOW, 2, "2.00")])
    table = GOLD_PRODUCT_SALES.path(settings)
    newest_file = max(Path(table).rglob("*.parquet"), key=lambda path: path.stat().st_mtime)
    newest_file.unlink()  # as if removed under the reader's feet

    assert reader.snapshot().windows["product_id"].tolist() == [1]
