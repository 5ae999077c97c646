"""The medallion against the landed files at any scale: check_lake's question (is every event there once, and
is gold what the files say?) asked without holding every event in memory, for the five months' 20.7 M.

The files' truth is taken a file at a time (the Python rulebook, as check_lake takes it) and kept as per-file
counts and gold totals; the lake is counted per file by DuckDB over the Delta tables' current versions. An
event id is its file and line, so a file whose silver rows have distinct ids, as many as the file has valid
rows, holds exactly its valid events: the same rows check_lake compares id by id."""

from __future__ import annotations

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
from salesinsights.schema import EVENT_ID, SOURCE_FILE
from salesinsights.settings import Settings
from salesinsights.sql_client import Runner, in_process
from salesinsights.verify.ground_truth import file_truths, purchase_totals
from salesinsights.verify.lake_check import LakeCheck, dead_letter_repeats, live_topic_totals

Totals = dict[Any, tuple[Decimal, int]]
# Reading a topic of 20 M records takes minutes, not the seconds a test's topic does.
TOPIC_READ_TIMEOUT_S = 1800


class FileTotals:
    """The landed files' truth, folded a file at a time: valid and invalid rows per file, gold's totals."""

    def __init__(self, settings: Settings) -> None:
        self.valid: dict[str, int] = {}
        self.invalid: dict[str, int] = {}
        daily: list[pd.DataFrame] = []
        windows: list[pd.DataFrame] = []
        for truth in file_truths(sorted(settings.produced_dir.iterdir())):
            self.valid[truth.path.name] = len(truth.valid)
            self.invalid[truth.path.name] = truth.invalid
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


def _per_file(run: Runner, table: str) -> dict[str | None, tuple[int, int]]:
    """Rows and distinct event ids per source file."""
    answer = run(
        f"SELECT {SOURCE_FILE}, count(*), count(DISTINCT {EVENT_ID}) FROM {table} GROUP BY {SOURCE_FILE}"
    )
    return {row[0]: (int(row[1]), int(row[2])) for row in answer.rows}


def _lake_totals(run: Runner, query: str) -> Totals:
    return {(row[0], row[1]): (Decimal(row[2]), int(row[3])) for row in run(query).rows}


def check_replay(settings: Settings) -> LakeCheck:
    """What check_lake counts, by file and by total: events lost or repeated anywhere in the medallion, and
    gold (daily, windows, the gold topic's newest totals) against the files' totals."""
    truth = FileTotals(settings)
    committed = sum(1 for _ in topic_records(settings.kafka, settings.kafka.raw_topic, TOPIC_READ_TIMEOUT_S))
    with in_process(settings) as run:
        silver = _per_file(run, SILVER_EVENTS.qualified_name)
        quarantine = _per_file(run, SILVER_QUARANTINE.qualified_name)
        bronze_rows, bronze_records = run(
            "SELECT count(*), count(DISTINCT (kafka_partition, kafka_offset)) "
            f"FROM {BRONZE_EVENTS.qualified_name}"
        ).rows[0]
        (in_both,) = run(
            f"SELECT count(*) FROM {SILVER_EVENTS.qualified_name} "
            f"JOIN {SILVER_QUARANTINE.qualified_name} USING ({EVENT_ID})"
        ).rows[0]
        daily = _lake_totals(
            run,
            "SELECT strftime(event_date, '%Y-%m-%d'), product_id, revenue, units "
            f"FROM {GOLD_PRODUCT_SALES_DAILY.qualified_name} WHERE units > 0",
        )
        windows = _lake_totals(
            run,
            "SELECT product_id, strftime(window_start AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ'), revenue, "
            f"units FROM {GOLD_PRODUCT_SALES.qualified_name}",
        )
    silver_rows = sum(rows for rows, _ in silver.values())
    quarantine_rows = sum(rows for rows, _ in quarantine.values())
    lost_events = sum(max(valid - silver.get(name, (0, 0))[1], 0) for name, valid in truth.valid.items())
    unsorted = bronze_records - silver_rows - quarantine_rows
    counts = {
        "valid events missing from silver": lost_events,
        "committed Kafka records missing from bronze": max(committed - bronze_records, 0),
        "silver rows repeated": sum(rows - ids for rows, ids in silver.values()),
        "silver rows that no file holds as a valid event": sum(
            max(ids - truth.valid.get(name or "", 0), 0) for name, (_, ids) in silver.items()
        ),
        "bronze records repeated": bronze_rows - bronze_records,
        "quarantine rows repeated": sum(rows - ids for rows, ids in quarantine.values()),
        "events both in silver and in the quarantine": in_both,
        "dead letters repeated": dead_letter_repeats(settings, TOPIC_READ_TIMEOUT_S),
        "bronze records in neither silver nor the quarantine": max(unsorted, 0),
    }
    problems = [f"{what}: {count}" for what, count in counts.items() if count]
    for name, actual, expected in (
        ("gold.product_sales_daily", daily, truth.daily),
        ("gold.product_sales", windows, truth.windows),
        ("the gold topic's newest totals", live_topic_totals(settings, TOPIC_READ_TIMEOUT_S), truth.windows),
    ):
        if actual != expected:
            wrong = sum(1 for key in actual.keys() | expected.keys() if actual.get(key) != expected.get(key))
            problems.append(f"{name}: {wrong} keys differ from the files' totals")
    lost = lost_events + counts["committed Kafka records missing from bronze"] + max(unsorted, 0)
    duplicated = sum(
        count for what, count in counts.items() if "repeated" in what or "no file" in what or "both" in what
    )
    return LakeCheck(lost, duplicated, problems)
