"""The medallion compared with the ground truth of the archived landing files: every valid event once in
silver, every committed Kafka record once in bronze and in exactly one of silver and the quarantine, every
dead letter once, and gold (daily, windows, the gold topic's newest totals) equal to the files' totals."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from salesinsights.catalog import (
    BRONZE_EVENTS,
    GOLD_PRODUCT_SALES,
    GOLD_PRODUCT_SALES_DAILY,
    SILVER_EVENTS,
    SILVER_QUARANTINE,
)
from salesinsights.kafka_io import read_topic, topic_records
from salesinsights.lake import read_table
from salesinsights.schema import SOURCE_FILE, SOURCE_LINE
from salesinsights.settings import Settings
from salesinsights.verify.ground_truth import Expected, expected_from_files

WindowTotals = dict[tuple[int, str], tuple[Decimal, int]]


def live_topic_totals(settings: Settings, timeout_s: float = 30) -> WindowTotals:
    """The gold topic's newest totals per product and window (a key's records share one partition)."""
    newest = {}
    for message in topic_records(settings.kafka, settings.kafka.gold_sales_topic, timeout_s):
        record = json.loads(message.value() or b"")
        newest[(record["product_id"], record["window_start"])] = (Decimal(record["revenue"]), record["units"])
    return newest


def gold_window_totals(settings: Settings) -> WindowTotals:
    return {
        (int(row.product_id), row.window_start.strftime("%Y-%m-%dT%H:%M:%SZ")): (
            Decimal(str(row.revenue)),
            int(row.units),
        )
        for row in read_table(settings, GOLD_PRODUCT_SALES).itertuples()
    }


def gold_daily_totals(settings: Settings) -> dict[tuple[str, int], tuple[Decimal, int]]:
    daily = read_table(settings, GOLD_PRODUCT_SALES_DAILY)
    return {
        (str(row.event_date), int(row.product_id)): (Decimal(str(row.revenue)), int(row.units))
        for row in daily[daily["units"] > 0].itertuples()
    }


def produced_truth(settings: Settings) -> Expected:
    return expected_from_files(sorted(settings.produced_dir.iterdir()))


@dataclass(frozen=True)
class LakeCheck:
    lost: int
    duplicated: int
    problems: list[str] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return not self.problems


# Which of the counts below are events lost, and which are repeats (or events that should not be there).
LOSS = (
    "valid events missing from silver",
    "committed Kafka records missing from bronze",
    "bronze records in neither silver nor the quarantine",
)
DUPLICATION = (
    "silver rows repeated",
    "silver rows that no file holds as a valid event",
    "bronze records repeated",
    "quarantine rows repeated",
    "events both in silver and in the quarantine",
    "dead letters repeated",
)


def _repeats(counts: Counter[Any]) -> int:
    return sum(count - 1 for count in counts.values() if count > 1)


def dead_letter_repeats(settings: Settings, timeout_s: float = 30) -> int:
    """Dead letters of one line (or one file) for one reason beyond the first."""
    letters = Counter(
        (letter.get(SOURCE_FILE), letter.get(SOURCE_LINE), letter.get("reason"))
        for letter in (
            json.loads(message.value() or b"{}")
            for message in topic_records(settings.kafka, settings.kafka.dead_letter_topic, timeout_s)
        )
    )
    return _repeats(letters)


def check_lake(settings: Settings) -> LakeCheck:
    """Counts what is lost and what is repeated anywhere in the medallion, and names every difference."""
    expected = produced_truth(settings)
    committed = {(m.partition(), m.offset()) for m in read_topic(settings.kafka, settings.kafka.raw_topic)}
    bronze = read_table(settings, BRONZE_EVENTS)
    silver = read_table(settings, SILVER_EVENTS)
    quarantine = read_table(settings, SILVER_QUARANTINE)
    bronze_offsets = Counter(zip(bronze["kafka_partition"], bronze["kafka_offset"], strict=True))
    silver_ids = Counter(silver["event_id"])
    quarantined = Counter(quarantine["event_id"])
    lost_events = expected.valid_ids - silver_ids.keys()
    extra_events = silver_ids.keys() - expected.valid_ids
    lost_records = committed - bronze_offsets.keys()
    unsorted = len(bronze_offsets) - len(silver_ids.keys() | quarantined.keys())
    counts = {
        "valid events missing from silver": len(lost_events),
        "committed Kafka records missing from bronze": len(lost_records),
        "silver rows repeated": _repeats(silver_ids),
        "silver rows that no file holds as a valid event": len(extra_events),
        "bronze records repeated": _repeats(bronze_offsets),
        "quarantine rows repeated": _repeats(quarantined),
        "events both in silver and in the quarantine": len(silver_ids.keys() & quarantined.keys()),
        "dead letters repeated": dead_letter_repeats(settings),
        "bronze records in neither silver nor the quarantine": max(unsorted, 0),
    }
    problems = [f"{what}: {count}" for what, count in counts.items() if count]
    problems += totals_differences(
        {
            "gold.product_sales_daily": (gold_daily_totals(settings), expected.daily_totals()),
            "gold.product_sales": (gold_window_totals(settings), expected.window_totals()),
            "the gold topic's newest totals": (live_topic_totals(settings), expected.window_totals()),
        }
    )
    return LakeCheck(sum(counts[what] for what in LOSS), sum(counts[what] for what in DUPLICATION), problems)


def totals_differences(truths: dict[str, tuple[dict[Any, Any], dict[Any, Any]]]) -> list[str]:
    """For each named (actual, truth) pair of totals that differ: how many keys do."""
    problems = []
    for name, (actual, truth) in truths.items():
        if actual != truth:
            wrong = sum(1 for key in actual.keys() | truth.keys() if actual.get(key) != truth.get(key))
            problems.append(f"{name}: {wrong} keys differ from the files' totals")
    return problems
