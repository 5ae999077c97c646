"""Abandoned carts end to end, on a real broker, real Spark (transformWithState over RocksDB) and
real Delta: the real sample and a generated day through the producer and the streaming application give
gold.cart_abandonment equal to the rules applied with pandas to the landed files, the same records on the
topic sales.cart_abandoned, and a state that holds only the sessions still open — with the application
SIGKILLed three times at random moments on the way, and the backlog (the whole topic, for a new checkpoint)
cut into batches far smaller than a produced file, so that partitions are read unevenly far."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
from confluent_kafka import Message
from deltalake.exceptions import TableNotFoundError
from pyspark.sql import SparkSession

from salesinsights.catalog import (
    CART_MEASURE_NAMES,
    GOLD_CART_ABANDONED_PRODUCTS,
    GOLD_CART_ABANDONMENT,
    GOLD_CART_ABANDONMENT_DAILY,
    GOLD_CART_ABANDONMENT_HOURLY,
    GOLD_CART_SESSIONS,
)
from salesinsights.kafka_io import read_topic
from salesinsights.lake import processed_records
from salesinsights.lake import read_table as table
from salesinsights.landing import SourceSlice, drop_slice
from salesinsights.schema import EVENT_ID
from salesinsights.settings import Settings, SourceSettings
from salesinsights.spark.cart_sessions import CART_QUERY_NAME, stored_sessions
from salesinsights.spark.progress import STATUS_FILE
from tests.cart_truth import CartTruth, expected_records, landed_events, table_records
from tests.real_sample import MAIN_SAMPLE, real_sample
from tests.support import produce, start_streaming, stop, wait_until

# The cart sessions query's backlog (the whole topic: a new checkpoint) cut into 4 batches that end in each
# partition at event times up to an hour apart, and a lateness of a minute: the stream's watermark must be
# the oldest partition's (with one watermark for the topic, batches of 600 records dropped 274 events of a
# partition read less far in one batch of a run by hand; CI's time allows no such run).
LATENESS = timedelta(minutes=1)
CUT_BACKLOG = {
    "SALESINSIGHTS_CARTS__MAX_OFFSETS_PER_TRIGGER": "20000",
    "SALESINSIGHTS_SPARK__WATERMARK": f"PT{LATENESS.total_seconds():g}S",
}
# After the sample's last block (2019-12-31 23:59:57): the stream's event time only moves on.
DAY = SourceSlice(datetime(2020, 1, 1, tzinfo=UTC), datetime(2020, 1, 2, tzinfo=UTC))


def cart_health(settings: Settings) -> dict[str, object]:
    path = settings.run_dir / STATUS_FILE
    return json.loads(path.read_text())["queries"][CART_QUERY_NAME] if path.is_file() else {}


def land_sample_then_day(settings: Settings) -> list[Path]:
    settings.landing_dir.mkdir(parents=True, exist_ok=True)
    # Named to be produced first (the producer takes the folder in name order).
    shutil.copy(real_sample(MAIN_SAMPLE), settings.landing_dir / "events_20191001T0000_real_sample.csv.gz")
    drop_slice(settings, DAY)
    produce(settings)
    return sorted(settings.produced_dir.iterdir())


@dataclass(frozen=True)
class Truth:
    carts: CartTruth
    committed: int  # records on the raw topic


def truth_of_landed_files(settings: Settings) -> Truth:
    """The sample and the day (at 40 % of the real volume: enough sessions, in CI's time), landed and
    produced, and what the rules make of them."""
    files = land_sample_then_day(settings.model_copy(update={"source": SourceSettings(scale=0.4)}))
    events = landed_events(files)
    records = read_topic(settings.kafka, settings.kafka.raw_topic, timeout_s=120)
    carts = expected_records(
        events, settings.carts.idle_gap, settings.carts.recovery_window, final_watermark(events, records)
    )
    kinds = Counter(kind for kind, *_ in carts.records)
    assert kinds["abandoned"] > 500 and kinds["recovered"] > 10, kinds
    return Truth(carts, len(records))


def final_watermark(events: pd.DataFrame, records: list[Message]) -> int:
    """The stream's watermark once every record is read: the oldest partition's newest event less the
    lateness (each partition's watermark its own, the stream's the least)."""
    partition_of = {
        json.loads(record.value() or b"{}").get(EVENT_ID): record.partition() for record in records
    }
    newest = events.groupby(events[EVENT_ID].map(partition_of))["ms"].max()
    assert len(newest) > 1, newest
    return int(newest.min()) - int(LATENESS.total_seconds() * 1000)


def wait_for_the_sessions(settings: Settings, truth: Truth, timeout_s: float = 600) -> None:
    """Until the daily figures are the truth's (the last table a batch writes), or the time is up: the
    assertions that follow then say what differs."""
    wait_until(lambda: processed_records(settings) >= truth.committed, 900, "the archive to catch up")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and stored_daily(settings) != truth.carts.daily():
        time.sleep(2)


def assert_lake_topic_and_state_match(settings: Settings, spark: SparkSession, truth: Truth) -> None:
    """gold.cart_abandonment holds each expected record once, gold.cart_sessions each start of a session's
    state, the daily and hourly aggregates their figures, the topic each record (at least once), and the
    state exactly the sessions still open (read after the application has stopped)."""
    expected = truth.carts.records
    rows = table(settings, GOLD_CART_ABANDONMENT)
    stored = table_records(rows)
    assert len(rows) == len(stored) == rows["record_id"].nunique()
    assert stored == expected, (sorted(stored - expected)[:5], sorted(expected - stored)[:5])
    sessions_table = table(settings, GOLD_CART_SESSIONS)
    starts = {
        (row.user_session, int(pd.Timestamp(row.first_cart_time).value // 10**6))
        for row in sessions_table.itertuples()
    }
    assert len(sessions_table) == len(starts) and starts == truth.carts.starts
    assert_aggregates_match(settings, truth.carts)
    on_topic = {
        json.loads(message.value() or b"{}")["record_id"]
        for message in read_topic(settings.kafka, settings.kafka.cart_abandoned_topic, timeout_s=60)
    }
    assert on_topic == set(rows["record_id"])
    sessions, timers = stored_sessions(spark, settings)
    in_state = {row.user_session for row in sessions.collect()}
    still_open = truth.carts.still_open
    assert in_state == still_open, (len(in_state - still_open), len(still_open - in_state))
    assert {row.user_session for row in timers.collect()} == in_state
    print(f"{Counter(kind for kind, *_ in stored)}; {len(in_state)} sessions open at the end")


def stored_daily(settings: Settings) -> dict[str, tuple[int | Decimal, ...]]:
    try:
        daily = table(settings, GOLD_CART_ABANDONMENT_DAILY)
    except TableNotFoundError:
        return {}
    return {
        str(day): tuple(int(v) if isinstance(v, int | np.integer) else Decimal(v) for v in values)
        for day, values in zip(
            daily["event_date"], daily[list(CART_MEASURE_NAMES)].itertuples(index=False), strict=True
        )
    }


def assert_aggregates_match(settings: Settings, carts: CartTruth) -> None:
    assert stored_daily(settings) == carts.daily()
    daily = table(settings, GOLD_CART_ABANDONMENT_DAILY)
    carting = daily["carting_sessions"].where(daily["carting_sessions"] > 0)  # no carting session: null
    rate = daily["abandoned_sessions"] / carting
    assert np.allclose(daily["abandonment_rate"].astype(float), rate.astype(float), equal_nan=True)
    hourly = table(settings, GOLD_CART_ABANDONMENT_HOURLY)
    sums = hourly.groupby(hourly["event_date"].astype(str))[["abandoned_units", "value_at_stake"]].sum()
    assert {day: (int(units), Decimal(value)) for day, units, value in sums.itertuples()} == {
        day: (figures[2], figures[3]) for day, figures in carts.daily().items()
    }
    products = table(settings, GOLD_CART_ABANDONED_PRODUCTS)
    abandoned_value = sum((Decimal(v) for v in products["abandoned_value"]), Decimal(0))
    assert abandoned_value == sum(figures[3] for figures in carts.daily().values())


def test_the_records_equal_the_rules_applied_to_the_files_after_three_sigkills(
    platform: Settings, spark: SparkSession
) -> None:
    """The application SIGKILLed three times at random moments while it works through the files, then left
    to finish: every table as the rules say, nothing twice, and the state only the open sessions."""
    truth = truth_of_landed_files(platform)
    moments = random.Random().sample(range(15, 40), 3)
    print(f"SIGKILLs {moments} s after each start")
    for seconds in moments:
        streaming = start_streaming(platform, overrides=CUT_BACKLOG)
        time.sleep(seconds)
        os.killpg(streaming.pid, signal.SIGKILL)
        streaming.wait(60)
    streaming = start_streaming(platform, overrides=CUT_BACKLOG)
    try:
        wait_for_the_sessions(platform, truth)
        health = cart_health(platform)
        print(f"state: {health['state_rows']} rows, {health['state_memory_bytes']} bytes")
    finally:
        stop(streaming)
    assert_lake_topic_and_state_match(platform, spark, truth)
