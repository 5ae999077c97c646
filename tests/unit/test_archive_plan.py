"""The archive query's plan apart from Spark: which gold window dates a batch replaces and which silver days
it reads for them, and the audit row it records."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from salesinsights.catalog import AUDIT_STREAM_BATCHES
from salesinsights.spark.archive_plan import BatchStats, audit_row, window_dates

DAYS = [date(2019, 10, 5), date(2019, 10, 7)]


def test_windows_that_divide_the_day_stay_on_the_batch_dates() -> None:
    assert window_dates(DAYS, timedelta(minutes=1)) == (DAYS, DAYS)
    assert window_dates(DAYS, timedelta(hours=6)) == (DAYS, DAYS)


def test_a_window_across_midnight_replaces_the_day_before_and_reads_the_days_around() -> None:
    replaced, read = window_dates(DAYS, timedelta(hours=7))
    assert replaced == [date(2019, 10, 4), date(2019, 10, 5), date(2019, 10, 6), date(2019, 10, 7)]
    assert read == [date(2019, 10, day) for day in range(4, 9)]


def test_the_audit_row_fills_every_column_and_counts_the_collapsed_replays() -> None:
    at = datetime(2026, 12, 2, tzinfo=UTC)
    stats = BatchStats(
        kafka_records=100,
        silver_new=90,
        quarantined=4,
        late_events=2,
        max_event_time=at,
        partition_high_marks={0: at},
        watermark=None,
        step_seconds={"parse": 1.0},
    )
    row = audit_row("q", 7, at, at + timedelta(seconds=3), stats, {1: (10, 19), 0: (0, 9)})
    assert set(row) == {column.name for column in AUDIT_STREAM_BATCHES.columns}
    assert row["replays_collapsed"] == 6
    assert json.loads(row["offsets"]) == {"0": [0, 9], "1": [10, 19]}
