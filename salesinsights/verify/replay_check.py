"""The medallion against the landed files at any scale: check_lake's question (is every event there once, and
is gold what the files say?) asked without holding every event in Python, for the five months' 20.7 M.

The files' truth is taken a file at a time (the Python rulebook, as check_lake takes it) and kept as each
file's fingerprint of valid lines — how many, the sum of their numbers and of their squares — and gold's
totals; the lake is fingerprinted the same way per file by DuckDB over the Delta tables' current versions,
with every silver row's event id checked to be its file and line's hash. Equal fingerprints mean the same
set of lines but by a coincidence of sums that a lost and an added line would have to arrange; the committed
Kafka records and bronze are compared per partition the same way (count and sum of offsets)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from numbers import Integral
from typing import Any

import pandas as pd

from salesinsights.catalog import (
    BRONZE_EVENTS,
    GOLD_PRODUCT_SALES,
    GOLD_PRODUCT_SALES_DAILY,
    SILVER_EVENTS,
    SILVER_QUARANTINE,
)
from salesinsights.kafka_io import topic_records
from salesinsights.schema import EVENT_ID, SOURCE_FILE, SOURCE_LINE
from salesinsights.settings import Settings
from salesinsights.sql_client import Runner, in_process
from salesinsights.verify.ground_truth import file_truths, purchase_totals
from salesinsights.verify.lake_check import (
    DUPLICATION,
    LOSS,
    LakeCheck,
    dead_letter_repeats,
    live_topic_totals,
    totals_differences,
)

Totals = dict[Any, tuple[Decimal, int]]
# Reading a topic of 20 M records takes minutes, not the seconds a test's topic does.
TOPIC_READ_TIMEOUT_S = 1800


@dataclass(frozen=True)
class Fingerprint:
    """A set of numbers (a file's lines, a partition's offsets), by count, sum and sum of squares."""

    count: int = 0
    total: int = 0
    squares: int = 0

    @classmethod
    def of(cls, numbers: Iterable[int]) -> Fingerprint:
        values = [int(number) for number in numbers]
        return cls(len(values), sum(values), sum(value * value for value in values))


class FileTotals:
    """The landed files' truth, folded a file at a time: each file's valid lines (fingerprinted), gold's
    totals."""

    def __init__(self, settings: Settings) -> None:
        self.valid: dict[str, Fingerprint] = {}
        daily: list[pd.DataFrame] = []
        windows: list[pd.DataFrame] = []
        paths = sorted(settings.produced_dir.iterdir())
        for truth in file_truths(paths, settings.producer.event_time_lead):
            self.valid[truth.path.name] = Fingerprint.of(truth.valid[SOURCE_LINE])
            file_daily, file_windows = purchase_totals(truth.valid)
            daily.append(file_daily)
            windows.append(file_windows)
        self.daily = _fold(daily, ["event_date", "product_id"])
        self.windows = _fold(windows, ["product_id", "window_start"])


def _fold(frames: list[pd.DataFrame], keys: list[str]) -> Totals:
    """Per-file totals summed per key (a day or a minute can span two files)."""
    if not frames:
        return {}
    summed = pd.concat(frames, ignore_index=True).groupby(keys).agg({"revenue": "sum", "units": "sum"})
    return {
        tuple(int(part) if isinstance(part, Integral) else part for part in key): (
            Decimal(revenue),
            int(units),
        )
        for key, revenue, units in zip(summed.index, summed["revenue"], summed["units"], strict=True)
    }


def committed_offsets(settings: Settings) -> dict[int, Fingerprint]:
    """Per partition of the raw topic, its committed records' offsets (read, not held)."""
    counts: dict[int, list[int]] = {}
    for message in topic_records(settings.kafka, settings.kafka.raw_topic, TOPIC_READ_TIMEOUT_S):
        partition, offset = message.partition(), message.offset()
        assert partition is not None and offset is not None  # a record read has both
        figures = counts.setdefault(partition, [0, 0, 0])
        figures[0] += 1
        figures[1] += offset
        figures[2] += offset * offset
    return {partition: Fingerprint(*figures) for partition, figures in counts.items()}


@dataclass(frozen=True)
class LakeCounts:
    silver_lines: dict[str, Fingerprint]  # per source file, over silver's distinct lines
    silver_rows: int
    silver_ids: int  # distinct
    wrong_ids: int  # silver rows whose event id is not their file and line's hash
    quarantine_rows: int
    quarantine_keys: int  # distinct event ids, all rows without one counting as one key (as check_lake)
    sorted_keys: int  # distinct keys over silver and the quarantine together
    in_both: int
    bronze_rows: int
    bronze_offsets: dict[int, Fingerprint]  # per partition, distinct offsets
    daily: Totals
    windows: Totals


def _fingerprints(run: Runner, table: str, group: str, number: str) -> dict[Any, Fingerprint]:
    """Per value of `group`, the fingerprint of the distinct values of `number` in the table."""
    answer = run(
        f"SELECT {group}, count(*), sum(n), sum(n::HUGEINT * n) "
        f"FROM (SELECT DISTINCT {group}, {number} AS n FROM {table}) GROUP BY {group}"
    )
    return {row[0]: Fingerprint(int(row[1]), int(row[2] or 0), int(row[3] or 0)) for row in answer.rows}


def _count(run: Runner, query: str) -> int:
    return int(run(query).rows[0][0] or 0)


def lake_counts(run: Runner) -> LakeCounts:
    silver, quarantine = SILVER_EVENTS.qualified_name, SILVER_QUARANTINE.qualified_name
    bronze = BRONZE_EVENTS.qualified_name
    key = f"coalesce({EVENT_ID}, '(none)')"
    return LakeCounts(
        silver_lines=_fingerprints(run, silver, SOURCE_FILE, SOURCE_LINE),
        silver_rows=_count(run, f"SELECT count(*) FROM {silver}"),
        silver_ids=_count(run, f"SELECT count(DISTINCT {EVENT_ID}) FROM {silver}"),
        wrong_ids=_count(
            run,
            f"SELECT count(*) FROM {silver} WHERE {EVENT_ID} IS DISTINCT FROM "
            f"left(sha256({SOURCE_FILE} || chr(10) || {SOURCE_LINE}::VARCHAR), 32)",
        ),
        quarantine_rows=_count(run, f"SELECT count(*) FROM {quarantine}"),
        quarantine_keys=_count(run, f"SELECT count(DISTINCT {key}) FROM {quarantine}"),
        sorted_keys=_count(
            run,
            f"SELECT count(DISTINCT k) FROM (SELECT {key} AS k FROM {silver} "
            f"UNION ALL SELECT {key} AS k FROM {quarantine})",
        ),
        in_both=_count(
            run,
            f"SELECT count(DISTINCT {EVENT_ID}) FROM {silver} WHERE {EVENT_ID} IN "
            f"(SELECT {EVENT_ID} FROM {quarantine})",
        ),
        bronze_rows=_count(run, f"SELECT count(*) FROM {bronze}"),
        bronze_offsets=_fingerprints(run, bronze, "kafka_partition", "kafka_offset"),
        daily=_totals(
            run,
            "SELECT strftime(event_date, '%Y-%m-%d'), product_id, revenue, units "
            f"FROM {GOLD_PRODUCT_SALES_DAILY.qualified_name} WHERE units > 0",
        ),
        windows=_totals(
            run,
            "SELECT product_id, strftime(window_start AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ'), revenue, "
            f"units FROM {GOLD_PRODUCT_SALES.qualified_name}",
        ),
    )


def _totals(run: Runner, query: str) -> Totals:
    return {(row[0], row[1]): (Decimal(row[2]), int(row[3])) for row in run(query).rows}


@dataclass(frozen=True)
class Difference:
    key: Any
    missing: int  # how many numbers the lake lacks, at least (0 when it has as many or more)
    extra: int  # how many it has beyond the truth's, at least


def _differing(truth: dict[Any, Fingerprint], lake: dict[Any, Fingerprint]) -> list[Difference]:
    """The keys whose fingerprints differ."""
    differences = []
    for key in sorted(truth.keys() | lake.keys(), key=str):
        expected, actual = truth.get(key, Fingerprint()), lake.get(key, Fingerprint())
        if expected != actual:
            shortfall = expected.count - actual.count
            differences.append(Difference(key, max(shortfall, 0), max(-shortfall, 0)))
    return differences


def check_replay(settings: Settings) -> LakeCheck:
    """What check_lake counts, by fingerprint: events lost or repeated anywhere in the medallion, and gold
    (daily, windows, the gold topic's newest totals) against the files' totals."""
    truth = FileTotals(settings)
    committed = committed_offsets(settings)
    with in_process(settings) as run:
        lake = lake_counts(run)
    files = _differing(truth.valid, lake.silver_lines)
    partitions = _differing(committed, lake.bronze_offsets)
    bronze_records = sum(fingerprint.count for fingerprint in lake.bronze_offsets.values())
    unsorted = bronze_records - lake.sorted_keys
    counts = {
        "valid events missing from silver": sum(file.missing for file in files),
        "committed Kafka records missing from bronze": sum(partition.missing for partition in partitions),
        "silver rows repeated": lake.silver_rows - lake.silver_ids,
        "silver rows that no file holds as a valid event": sum(file.extra for file in files),
        "silver rows whose event id is not their file and line": lake.wrong_ids,
        "bronze records repeated": lake.bronze_rows - bronze_records,
        "quarantine rows repeated": lake.quarantine_rows - lake.quarantine_keys,
        "events both in silver and in the quarantine": lake.in_both,
        "dead letters repeated": dead_letter_repeats(settings, TOPIC_READ_TIMEOUT_S),
        "bronze records in neither silver nor the quarantine": max(unsorted, 0),
    }
    problems = [f"{what}: {count}" for what, count in counts.items() if count]
    problems += [f"silver's lines of {file.key} differ from the file's valid lines" for file in files]
    problems += [
        f"bronze's offsets of partition {part.key} differ from those committed" for part in partitions
    ]
    problems += totals_differences(
        {
            "gold.product_sales_daily": (lake.daily, truth.daily),
            "gold.product_sales": (lake.windows, truth.windows),
            "the gold topic's newest totals": (
                live_topic_totals(settings, TOPIC_READ_TIMEOUT_S),
                truth.windows,
            ),
        }
    )
    lost = sum(counts[what] for what in LOSS)
    return LakeCheck(lost, sum(counts[what] for what in DUPLICATION), problems)
