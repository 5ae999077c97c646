"""The live query's transformation and record format on small fixtures, and how the dashboard takes its
records and lays them over the Delta windows."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest
from pyspark.sql import DataFrame, SparkSession

from salesinsights.dashboard.live import window_row
from salesinsights.dashboard.reader import overlay_live
from salesinsights.spark.events import parse_records
from salesinsights.spark.live import live_window_totals, window_records
from tests.spark_fixtures import csv_row, kafka_records, raw_value


def line(time: str, event_type: str, product: int, price: str, user: int) -> str:
    return f"2019-10-01 {time} UTC,{event_type},{product},1487580005134238553,,brand,{price},{user},s{user}"


def parsed(spark: SparkSession, lines: list[str], source: str = "a.csv", first_offset: int = 0) -> DataFrame:
    values = [raw_value(csv_row(text), source, number) for number, text in enumerate(lines, start=2)]
    return parse_records(kafka_records(spark, values, first_offset=first_offset))


def test_totals_count_each_valid_purchase_once_per_window(spark: SparkSession) -> None:
    day = [
        line("10:00:05", "purchase", 1, "2.50", 7),
        line("10:00:05", "purchase", 1, "2.50", 7),  # the same row on another line: a second unit
        line("10:00:59", "purchase", 1, "1.25", 8),
        line("10:01:00", "purchase", 1, "4.00", 7),
        line("10:00:10", "view", 1, "2.50", 9),
        line("10:00:20", "purchase", 2, "-1.00", 9),  # quarantined: not a sale
    ]
    first = parsed(spark, day)
    replayed = parsed(spark, day, first_offset=100)  # the same file produced again: the same event ids
    rows = live_window_totals(first.unionByName(replayed), "60 seconds", "10 minutes").collect()

    by_window = {(row["product_id"], row["window_start"].strftime("%H:%M")): row for row in rows}
    assert set(by_window) == {(1, "10:00"), (1, "10:01")}
    ten = by_window[(1, "10:00")]
    assert (ten["revenue"], ten["units"], ten["buyer_ids"], ten["distinct_buyers"]) == (
        Decimal("6.25"),
        3,
        [7, 8],
        2,
    )
    assert ten["window_end"].strftime("%H:%M") == "10:01"


def test_records_are_keyed_by_product_and_window_and_read_back_by_the_dashboard(spark: SparkSession) -> None:
    totals = live_window_totals(
        parsed(spark, [line("10:00:05", "purchase", 5881589, "12.34", 7)]), "60 seconds", "10 minutes"
    )
    record = window_records(totals).collect()[0]

    assert record["key"] == "5881589|2019-10-01T10:00:00Z"
    value = json.loads(record["value"])
    assert (value["revenue"], value["units"], value["buyer_ids"]) == ("12.34", 1, [7])
    row = window_row(record["value"].encode())
    assert (row["product_id"], row["revenue_cents"], row["units"], row["window_date"]) == (
        5881589,
        1234,
        1,
        date(2019, 10, 1),
    )
    assert row["window_start"] == datetime(2019, 10, 1, 10, tzinfo=UTC)
    assert row["window_end"] == datetime(2019, 10, 1, 10, 1, tzinfo=UTC)


@pytest.mark.parametrize("value", [b"", b"not json", b'{"product_id": 1}', b'{"revenue": "x"}'])
def test_a_value_that_is_no_window_record_is_refused(value: bytes) -> None:
    with pytest.raises((ValueError, KeyError, TypeError)):
        window_row(value)


def window(product: int, minute: int, cents: int, units: int, updated: int) -> dict[str, object]:
    start = pd.Timestamp(2019, 10, 1, 10, minute, tz="UTC")
    return {
        "product_id": product,
        "window_start": start,
        "window_end": start + pd.Timedelta(minutes=1),
        "window_date": date(2019, 10, 1),
        "revenue_cents": cents,
        "units": units,
        "buyer_ids": [7],
        "updated_at": pd.Timestamp(2026, 1, 1, 0, 0, updated, tz="UTC"),
    }


def test_overlay_keeps_the_further_total_of_each_window_and_delta_on_a_tie() -> None:
    stored = pd.DataFrame([window(1, 0, 250, 1, 30), window(2, 0, 100, 2, 30), window(3, 0, 100, 1, 30)])
    live = pd.DataFrame([window(1, 0, 500, 2, 20), window(2, 0, 50, 1, 10), window(3, 0, 100, 1, 40)])
    live = pd.concat([live, pd.DataFrame([window(4, 1, 999, 1, 40)])], ignore_index=True)

    merged = overlay_live(stored, live).set_index("product_id")

    assert merged["units"].to_dict() == {1: 2, 2: 2, 3: 1, 4: 1}
    assert merged["revenue_cents"].to_dict() == {1: 500, 2: 100, 3: 100, 4: 999}
    # Product 3 is tied: the stored row (updated at second 30) stays.
    assert merged.loc[3, "updated_at"].second == 30
    assert overlay_live(stored, live.iloc[0:0]) is stored
    assert len(overlay_live(stored.iloc[0:0], live)) == 4


def test_overlay_of_delta_rows_and_topic_records_keeps_timestamps_usable() -> None:
    """Delta's frame (through Arrow) and the topic's rows name UTC differently; the merged frame must still
    hold timestamps, which the figures use (.dt)."""
    row = window(1, 0, 250, 1, 30)
    arrow_types = {"window_start": pa.timestamp("us", tz="UTC"), "window_end": pa.timestamp("us", tz="UTC")}
    stored = pa.Table.from_pylist(
        [row | {"window_start": datetime(2019, 10, 1, 10, tzinfo=UTC), "updated_at": None}]
    )
    for name, arrow_type in arrow_types.items():
        stored = stored.set_column(stored.schema.get_field_index(name), name, stored[name].cast(arrow_type))
    record = json.dumps(
        {
            "product_id": 2,
            "window_start": "2019-10-01T10:01:00Z",
            "window_end": "2019-10-01T10:02:00Z",
            "revenue": "1.00",
            "units": 1,
            "buyer_ids": [7],
            "updated_at": "2026-01-01T00:00:00.000Z",
        }
    ).encode()
    delta = stored.to_pandas()
    live = pd.DataFrame([window_row(record)], columns=delta.columns)

    merged = overlay_live(delta, live)

    assert merged["window_start"].dt.minute.tolist() == [0, 1]
    assert merged["window_end"].dt.minute.tolist() == [1, 2]
