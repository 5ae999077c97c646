"""Expected medallion contents computed independently of Spark: straight from the landing files, with
pandas and the Python rule interpreter, in the order the producer took them."""

from __future__ import annotations

import csv
import gzip
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
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


COLUMNS = [*CSV_COLUMNS, EVENT_ID, SOURCE_FILE, SOURCE_LINE]


@dataclass(frozen=True)
class FileTruth:
    """One landed file's valid rows (as text, with their event id, source file and line) and how many of
    its rows were invalid."""

    path: Path
    valid: pd.DataFrame
    invalid: int


def file_truths(paths: Iterable[Path], lead: timedelta | None = None) -> Iterator[FileTruth]:
    """Each file's truth, in the order the producer took them (their names' order, as it lists the landing
    folder): the event-time limit of a file's records depends on the files before it, and on the producer's
    event-time `lead` (its default unless given). A file that cannot be read to its end (a corrupt gzip)
    counts up to where the producer's reading stops."""
    stream_reference = None
    lead = lead or ProducerSettings().event_time_lead
    for path in paths:
        # The producer's event-time limit for the file's records, from the files before it and its own.
        reference = file_reference(event_times(path), lead)
        limit = event_time_limit(stream_reference, reference, lead)
        stream_reference = newest_reference((stream_reference, reference))
        valid: list[dict[str, object]] = []
        invalid = 0
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
            pass
        yield FileTruth(path, pd.DataFrame(valid, columns=COLUMNS), invalid)


def valid_events_from_files(paths: Iterable[Path]) -> tuple[pd.DataFrame, int]:
    """The valid rows of every file (see file_truths), and how many rows were invalid."""
    truths = list(file_truths(paths))
    frames = [truth.valid for truth in truths if not truth.valid.empty]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    return frame, sum(truth.invalid for truth in truths)


def purchase_totals(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Revenue and units of the valid rows' purchases per event date and product (daily), and per product
    and one-minute window (windows)."""
    purchases = frame[frame["event_type"] == "purchase"].copy()
    purchases["event_date"] = purchases["event_time"].str[:10]
    purchases["product_id"] = purchases["product_id"].astype("int64")
    purchases["price"] = [Decimal(text).quantize(CENT, ROUND_HALF_UP) for text in purchases["price"]]
    # "2019-10-02 10:17:45 UTC" -> "2019-10-02T10:17:00Z"
    purchases["window_start"] = (
        purchases["event_time"].str[:10] + "T" + purchases["event_time"].str[11:16] + ":00Z"
    )
    daily = _totals(purchases, ["event_date", "product_id"])
    return daily, _totals(purchases, ["product_id", "window_start"])


def _totals(purchases: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return (
        purchases.groupby(keys)
        .agg(revenue=("price", lambda prices: sum(prices, Decimal(0))), units=("price", "size"))
        .reset_index()
    )


def expected_from_files(paths: Iterable[Path]) -> Expected:
    """The medallion's expected contents from the files in the order the producer took them."""
    frame, invalid = valid_events_from_files(paths)
    daily, windows = purchase_totals(frame)
    return Expected(frozenset(frame[EVENT_ID]), invalid, daily, windows)
