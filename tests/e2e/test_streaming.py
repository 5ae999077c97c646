"""The streaming medallion on a real broker, real Spark and real Delta tables: exact gold against ground
truth computed from the files, quarantine reasons and late events. (SIGKILLs at random moments, broker
restarts and a checkpoint reset after a SIGKILL mid-batch are faults of tests/e2e/test_chaos.py.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from deltalake import DeltaTable, write_deltalake
from fastapi.testclient import TestClient

from salesinsights.catalog import AUDIT_STREAM_BATCHES, GOLD_PRODUCT_SALES, SILVER_EVENTS, SILVER_QUARANTINE
from salesinsights.dashboard.app import create_app
from salesinsights.dashboard.live import LiveWindows
from salesinsights.kafka_io import read_topic
from salesinsights.lake import processed_records
from salesinsights.lake import read_table as table
from salesinsights.landing import SourceSlice, drop_slice
from salesinsights.schema import CSV_HEADER
from salesinsights.settings import Settings, SourceSettings
from salesinsights.verify.ground_truth import expected_from_files
from salesinsights.verify.lake_check import live_topic_totals
from salesinsights.verify.replay_check import check_replay
from tests.ground_truth import (
    assert_gold_matches_files,
    assert_live_windows_match_files,
)
from tests.support import produce, start_streaming, stop, wait_until


def assert_api_matches_files(settings: Settings, day: str) -> None:
    """The dashboard's API over the gold that the stream wrote (and the gold topic): a day's revenue and
    units per product, the whole day's span and the top products, equal to the files' ground truth."""
    expected = expected_from_files(sorted(settings.produced_dir.iterdir()))
    truth = expected.daily[expected.daily["event_date"] == day]
    by_product = {int(row.product_id): (row.revenue, int(row.units)) for row in truth.itertuples()}
    live = LiveWindows(settings.kafka, lookback=timedelta(hours=1))
    with TestClient(create_app(settings, live=live)) as client:
        wait_until(lambda: live.version > 0, 60, "the dashboard's live totals")
        last_window = f"{day}T23:59:00+00:00"
        span = client.get("/api/sales", params={"window_start": last_window, "windows": 1440, "limit": 1000})
        assert span.status_code == 200, span.text
        sales = span.json()
        assert Decimal(str(sales["revenue"])) == sum(revenue for revenue, _ in by_product.values())
        assert sales["units"] == sum(units for _, units in by_product.values())
        assert sales["products_total"] == len(by_product)
        for row in sales["products"]:
            assert (Decimal(str(row["revenue"])), row["units"]) == by_product[row["product_id"]]
        top = client.get("/api/top", params={"day": day, "n": 10}).json()["entries"]
        best = sorted(by_product.items(), key=lambda item: (-item[1][0], item[0]))[:10]
        assert [(entry["product_id"], Decimal(str(entry["revenue"]))) for entry in top] == [
            (product, revenue) for product, (revenue, _) in best
        ]


DAY = SourceSlice(datetime(2019, 10, 2, tzinfo=UTC), datetime(2019, 10, 3, tzinfo=UTC))
BAD_ROWS = {
    "2019-10-02 10:00:00 UTC,refund,5881589,1487580005134238553,,b,2.50,42,s": "unknown_event_type",
    "2019-10-02 10:00:01 UTC,purchase,5881589,1487580005134238553,,b,-2.50,42,s": "price_out_of_range",
    "2019-10-02 10:00:02 UTC,purchase,,1487580005134238553,,b,2.50,42,s": "missing_product_id",
    "2019-10-02 10:00:03 UTC,view,5881589,1487580005134238553,,b,2.50,,s": "missing_user_id",
    "2099-10-02 10:00:03 UTC,view,5881589,1487580005134238553,,b,2.50,42,s": "event_from_future",
    # Plausible, but years ahead of the replay: it must not move the watermarks or the dashboard's day.
    "2023-06-01 10:00:04 UTC,purchase,5881589,1487580005134238553,,b,2.50,42,s": "event_time_ahead_of_stream",
}


def test_gold_equals_ground_truth_bad_rows_are_quarantined_and_late_events_counted(
    platform: Settings,
) -> None:
    settings = platform.model_copy(update={"source": SourceSettings(scale=1.5)})
    drop_slice(settings, DAY)
    (settings.landing_dir / "events_crafted.csv").write_text("\n".join([CSV_HEADER, *BAD_ROWS]) + "\n")
    produce(settings)
    committed = len(read_topic(settings.kafka, settings.kafka.raw_topic, timeout_s=120))
    assert committed > 150_000

    streaming = start_streaming(settings)
    try:
        wait_until(lambda: processed_records(settings) >= committed, 900, "the stream to catch up")
        assert_gold_matches_files(settings)
        assert_live_windows_match_files(settings)
        assert_api_matches_files(settings, "2019-10-02")
        # The replay bench's check, which counts by file to scale to the five months, finds it exact too.
        check = check_replay(settings)
        assert (check.lost, check.duplicated, check.problems) == (0, 0, [])
        quarantine = table(settings, SILVER_QUARANTINE)
        times = [json.loads(raw)["event_time"] for raw in quarantine["raw_value"]]
        assert dict(zip(times, quarantine["reason"], strict=True)) == {
            row.split(",")[0]: reason for row, reason in BAD_ROWS.items()
        }

        late_before = table(settings, AUDIT_STREAM_BATCHES)["late_events"].sum()
        # A purchase a day older than the newest event: behind the 10-minute watermark.
        late_line = "2019-10-01 12:00:00 UTC,purchase,1,1487580005134238553,,b,7.00,42,late-session"
        (settings.landing_dir / "events_late.csv").write_text(f"{CSV_HEADER}\n{late_line}\n")
        produce(settings)
        wait_until(lambda: processed_records(settings) >= committed + 1, 300, "the late event")
        audit = table(settings, AUDIT_STREAM_BATCHES)
        assert audit["late_events"].sum() == late_before + 1
        silver = table(settings, SILVER_EVENTS)
        assert (silver["user_session"] == "late-session").sum() == 1
        windows = table(settings, GOLD_PRODUCT_SALES)
        assert not (windows["product_id"] == 1).any(), "a late purchase must stay out of closed windows"
        assert not any(product == 1 for product, _ in live_topic_totals(settings)), "nor in the live totals"
        assert_gold_matches_files(settings)  # the daily table counts it
    finally:
        stop(streaming)
    assert_replay_check_finds_a_lost_and_a_repeated_event(settings)


def assert_replay_check_finds_a_lost_and_a_repeated_event(settings: Settings) -> None:
    """One view taken out of silver and another written twice: the bench's check counts one lost and one
    repeated, and says where."""
    silver = DeltaTable(SILVER_EVENTS.path(settings))
    views = silver.to_pyarrow_table(filters=[("event_type", "=", "view")]).slice(0, 2)
    silver.delete(f"event_id = '{views['event_id'][0]}'")
    write_deltalake(SILVER_EVENTS.path(settings), views.slice(1, 1), mode="append")
    check = check_replay(settings)
    # Lost twice over, as check_lake counts it: the event from silver, and its Kafka record from both of
    # the tables a record must be in one of.
    assert (check.lost, check.duplicated) == (2, 1)
    for problem in (
        "valid events missing from silver: 1",
        "silver rows repeated: 1",
        "bronze records in neither silver nor the quarantine: 1",
    ):
        assert problem in check.problems
