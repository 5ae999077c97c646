"""The tests' assertions that the lake equals the ground truth computed from the landing files
(salesinsights.verify)."""

from __future__ import annotations

from decimal import Decimal

from salesinsights.catalog import AUDIT_STREAM_BATCHES, SILVER_EVENTS
from salesinsights.lake import read_table as table
from salesinsights.settings import Settings
from salesinsights.verify.lake_check import (
    gold_daily_totals,
    gold_window_totals,
    live_topic_totals,
    produced_truth,
)
from tests.support import wait_until


def expected_windows(settings: Settings) -> dict[tuple[int, str], tuple[Decimal, int]]:
    return produced_truth(settings).window_totals()


def assert_live_windows_match_files(settings: Settings) -> None:
    """The live query's totals on the gold topic equal the windows computed from the files, and so do
    gold.product_sales's (the archive's) once it has caught up."""
    truth = expected_windows(settings)
    wait_until(lambda: live_topic_totals(settings) == truth, 300, "the live query's totals")
    assert gold_window_totals(settings) == truth


def assert_gold_matches_files(settings: Settings) -> None:
    expected = produced_truth(settings)
    assert gold_daily_totals(settings) == expected.daily_totals()
    silver = table(settings, SILVER_EVENTS)
    assert len(silver) == expected.valid_rows
    assert silver["event_id"].is_unique
    audit = table(settings, AUDIT_STREAM_BATCHES)
    assert audit["kafka_records"].sum() == (
        audit["silver_new"].sum() + audit["quarantined"].sum() + audit["replays_collapsed"].sum()
    )
    assert audit["silver_new"].sum() == expected.valid_rows
