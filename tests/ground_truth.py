"""Expected medallion contents computed independently of Spark: straight from the landing files, with
pandas and the Python rule interpreter."""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd

from salesinsights.kafka_io import read_topic
from salesinsights.lake import read_table as table
from salesinsights.producer.event_time import event_time_limit, file_reference, newest_reference
from salesinsights.producer.reader import event_times
from salesinsights.rules import Stage, violations
from salesinsights.schema import CSV_COLUMNS, CSV_HEADER, EVENT_TIME_LIMIT
from salesinsights.settings import ProducerSettings, Settings
from salesinsights.spark.tables import (
    AUDIT_STREAM_BATCHES,
    GOLD_PRODUCT_SALES,
    GOLD_PRODUCT_SALES_DAILY,
    SILVER_EVENTS,
)
from tests.support import wait_until

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Expected:
    valid_rows: int
    invalid_rows: int
    daily: pd.DataFrame  # event_date (str), product_id, revenue (Decimal), units
    windows: (
        pd.DataFrame
    )  # product_id, window_start (ISO text, UTC), revenue (Decimal), units: 1-minute windows


def expected_from_files(paths: Iterable[Path]) -> Expected:
    """The files in the order the producer took them (their names' order, as it lists the landing folder)."""
    valid: list[dict[str, str | None]] = []
    invalid = 0
    stream_reference = None
    for path in paths:
        # The producer's event-time limit for the file's records, from the files before it and its own.
        lead = ProducerSettings().event_time_lead
        reference = file_reference(event_times(path), lead)
        limit = event_time_limit(stream_reference, reference, lead)
        stream_reference = newest_reference((stream_reference, reference))
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8", newline="") as stream:
            for number, fields in enumerate(csv.reader(stream), start=1):
                if number == 1 and ",".join(fields) == CSV_HEADER:
                    continue
                row = {column: (value or None) for column, value in zip(CSV_COLUMNS, fields, strict=True)}
                if violations(row | {EVENT_TIME_LIMIT: limit}, frozenset(Stage)):
                    invalid += 1
                    continue
                valid.append(row)
    frame = pd.DataFrame(valid, columns=list(CSV_COLUMNS))
    purchases = frame[frame["event_type"] == "purchase"].copy()
    purchases["event_date"] = purchases["event_time"].str[:10]
    purchases["product_id"] = purchases["product_id"].astype("int64")
    purchases["price"] = [Decimal(text).quantize(CENT, ROUND_HALF_UP) for text in purchases["price"]]
    daily = (
        purchases.groupby(["event_date", "product_id"])
        .agg(revenue=("price", lambda prices: sum(prices, Decimal(0))), units=("price", "size"))
        .reset_index()
    )
    # "2019-10-02 10:17:45 UTC" -> "2019-10-02T10:17:00Z"
    purchases["window_start"] = (
        purchases["event_time"].str[:10] + "T" + purchases["event_time"].str[11:16] + ":00Z"
    )
    windows = (
        purchases.groupby(["product_id", "window_start"])
        .agg(revenue=("price", lambda prices: sum(prices, Decimal(0))), units=("price", "size"))
        .reset_index()
    )
    return Expected(len(valid), invalid, daily, windows)


def live_windows(settings: Settings) -> dict[tuple[int, str], tuple[Decimal, int]]:
    """The gold topic's newest totals per product and window (a key's records share one partition)."""
    newest = {}
    for message in read_topic(settings.kafka, settings.kafka.gold_sales_topic):
        record = json.loads(message.value() or b"")
        newest[(record["product_id"], record["window_start"])] = (Decimal(record["revenue"]), record["units"])
    return newest


def expected_windows(settings: Settings) -> dict[tuple[int, str], tuple[Decimal, int]]:
    expected = expected_from_files(sorted(settings.archive_dir.iterdir()))
    return {
        (int(row.product_id), row.window_start): (row.revenue, int(row.units))
        for row in expected.windows.itertuples()
    }


def assert_live_windows_match_files(settings: Settings) -> None:
    """The live query's totals on the gold topic equal the windows computed from the files, and so do
    gold.product_sales's (the archive's) once it has caught up."""
    truth = expected_windows(settings)
    wait_until(lambda: live_windows(settings) == truth, 300, "the live query's totals")
    windows = table(settings, GOLD_PRODUCT_SALES)
    stored = {
        (int(row.product_id), row.window_start.strftime("%Y-%m-%dT%H:%M:%SZ")): (
            Decimal(str(row.revenue)),
            int(row.units),
        )
        for row in windows.itertuples()
    }
    assert stored == truth


def assert_gold_matches_files(settings: Settings) -> None:
    expected = expected_from_files(sorted(settings.archive_dir.iterdir()))
    daily = table(settings, GOLD_PRODUCT_SALES_DAILY)
    sold = daily[daily["units"] > 0]
    actual = {
        (str(row.event_date), int(row.product_id)): (Decimal(str(row.revenue)), int(row.units))
        for row in sold.itertuples()
    }
    truth = {
        (row.event_date, int(row.product_id)): (row.revenue, int(row.units))
        for row in expected.daily.itertuples()
    }
    assert actual == truth
    silver = table(settings, SILVER_EVENTS)
    assert len(silver) == expected.valid_rows
    assert silver["event_id"].is_unique
    audit = table(settings, AUDIT_STREAM_BATCHES)
    assert audit["kafka_records"].sum() == (
        audit["silver_new"].sum() + audit["quarantined"].sum() + audit["replays_collapsed"].sum()
    )
    assert audit["silver_new"].sum() == expected.valid_rows
