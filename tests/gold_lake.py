"""A gold lake written as the streaming application writes it (delta-rs, the catalogue's schemas), from
events generated or made by hand, for the dashboard's tests."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
from deltalake import write_deltalake

from salesinsights.catalog import (
    AUDIT_STREAM_BATCHES,
    GOLD_PRODUCT_SALES,
    GOLD_PRODUCT_SALES_DAILY,
    SILVER_EVENTS,
    Table,
)
from salesinsights.generator import generate_lines
from salesinsights.lake import arrow_schema
from salesinsights.schema import CSV_COLUMNS, EVENT_TIME_FORMAT
from salesinsights.settings import Settings

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
        rows = [silver_row(event, f"{self.batches}-{index}") for index, event in enumerate(events)]
        self._append(SILVER_EVENTS, rows)
        self._append(AUDIT_STREAM_BATCHES, [audit_row(events, self.batches, updated_at)])
        self.batches += 1


def silver_row(event: Event, event_id: str) -> dict[str, object]:
    """The event's row in silver.events, the columns the tests read (the others null)."""
    return {
        "event_id": event_id,
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
