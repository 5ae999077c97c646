"""Expected medallion contents computed independently of Spark: straight from the landing files, with
pandas and the Python rule interpreter, in the order the producer took them."""

from __future__ import annotations

import csv
import gzip
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd

from salesinsights.producer.event_time import event_time_limit, file_reference, newest_reference
from salesinsights.producer.reader import event_id, event_times
from salesinsights.rules import Stage, violations
from salesinsights.schema import CSV_COLUMNS, CSV_HEADER, EVENT_ID, EVENT_TIME_LIMIT, SOURCE_FILE, SOURCE_LINE
from salesinsights.settings import ProducerSettings

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Expected:
    valid_ids: frozenset[str]  # the event ids (file, line) of the valid events
    invalid_rows: int
    daily: pd.DataFrame  # event_date (str), product_id, revenue (Decimal), units
    windows: (
        pd.DataFrame
    )  # product_id, window_start (ISO text, UTC), revenue (Decimal), units: 1-minute windows

    @property
    def valid_rows(self) -> int:
        return len(self.valid_ids)

    def daily_totals(self) -> dict[tuple[str, int], tuple[Decimal, int]]:
        """(event date, product) -> (revenue, units)."""
        return {
            (row.event_date, int(row.product_id)): (row.revenue, int(row.units))
            for row in self.daily.itertuples()
        }

    def window_totals(self) -> dict[tuple[int, str], tuple[Decimal, int]]:
        """(product, window start as 2019-10-02T10:17:00Z) -> (revenue, units)."""
        return {
            (int(row.product_id), row.window_start): (row.revenue, int(row.units))
            for row in self.windows.itertuples()
        }


def valid_events_from_files(paths: Iterable[Path]) -> tuple[pd.DataFrame, int]:
    """The valid rows of the files, as text with their event id, source file and line, in the order the
    producer took them (their names' order, as it lists the landing folder), and how many rows were invalid.
    A file that cannot be read to its end (a corrupt gzip) counts up to where the producer's reading stops."""
    valid: list[dict[str, object]] = []
    invalid = 0
    stream_reference = None
    lead = ProducerSettings().event_time_lead
    for path in paths:
        # The producer's event-time limit for the file's records, from the files before it and its own.
        reference = file_reference(event_times(path), lead)
        limit = event_time_limit(stream_reference, reference, lead)
        stream_reference = newest_reference((stream_reference, reference))
        opener = gzip.open if path.name.endswith(".gz") else open
        try:
            with opener(path, "rt", encoding="utf-8", newline="") as stream:
                for number, fields in enumerate(csv.reader(stream), start=1):
                    if number == 1 and ",".join(fields) == CSV_HEADER:
                        continue
                    row = {column: (value or None) for column, value in zip(CSV_COLUMNS, fields, strict=True)}
                    if violations(row | {EVENT_TIME_LIMIT: limit}, frozenset(Stage)):
                        invalid += 1
                        continue
                    ids = {EVENT_ID: event_id(path.name, number), SOURCE_FILE: path.name, SOURCE_LINE: number}
                    valid.append(row | ids)
        except (OSError, EOFError, zlib.error):
            continue
    columns = [*CSV_COLUMNS, EVENT_ID, SOURCE_FILE, SOURCE_LINE]
    return pd.DataFrame(valid, columns=columns), invalid


def expected_from_files(paths: Iterable[Path]) -> Expected:
    """The medallion's expected contents from the files in the order the producer took them."""
    frame, invalid = valid_events_from_files(paths)
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
    return Expected(frozenset(frame[EVENT_ID]), invalid, daily, windows)
