"""Stopping streaming queries between micro-batches in bounded time, on real Spark queries whose batches are
held open by the test: a query busy batch after batch stops once its batch in flight ends, and one whose
batch outlasts the grace period is cut short (its job cancelled)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.streaming import StreamingQuery

from salesinsights.spark.shutdown import QueryStopper


def _hold_until(released: Path) -> None:
    deadline = time.monotonic() + 120
    while not released.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


class HeldBatches:
    """A foreachBatch function whose batches each run a Spark job that waits until the test releases it
    (a file, as the job's tasks run in Python workers of their own): a batch at work, as the archive's are."""

    def __init__(self, released: Path) -> None:
        self.released = released
        self.begun: list[int] = []
        self.ended: list[int] = []

    def release(self) -> None:
        self.released.touch()

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        self.begun.append(batch_id)
        released = self.released
        batch.sparkSession.range(1).foreach(lambda _: _hold_until(released))
        self.ended.append(batch_id)


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 120
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture
def held(spark: SparkSession, tmp_path: Path) -> Iterator[tuple[StreamingQuery, HeldBatches]]:
    batches = HeldBatches(tmp_path / "released")
    query = (
        spark.readStream.format("rate")
        .option("rowsPerSecond", 100)
        .load()
        .writeStream.foreachBatch(batches)
        # No pause between batches: a query working off a backlog is never idle.
        .trigger(processingTime="0 seconds")
        .option("checkpointLocation", str(tmp_path / "checkpoint"))
        .start()
    )
    wait_for(lambda: bool(batches.begun), "the first batch")
    try:
        yield query, batches
    finally:
        batches.release()
        query.stop()


def test_a_query_busy_batch_after_batch_stops_when_its_batch_in_flight_ends(
    held: tuple[StreamingQuery, HeldBatches],
) -> None:
    query, batches = held
    stopper = QueryStopper({"held": query}, grace_s=3600)
    stopper.request()
    stopper.stop_those_between_batches()
    assert query.isActive and not batches.ended  # the batch in flight is left to finish

    batches.release()
    wait_for(stopper.stop_those_between_batches, "the query to stop")
    assert batches.ended[0] == batches.begun[0]
    assert query.exception() is None


def test_a_batch_that_outlasts_the_grace_period_is_cut_short(
    held: tuple[StreamingQuery, HeldBatches],
) -> None:
    query, batches = held
    now = [0.0]
    stopper = QueryStopper({"held": query}, grace_s=60, clock=lambda: now[0])
    stopper.request()
    now[0] = 59
    stopper.stop_those_between_batches()
    assert query.isActive

    now[0] = 60
    assert stopper.stop_those_between_batches()
    assert not query.isActive
    assert not batches.ended  # stopped while its batch was still held open


def test_nothing_is_stopped_before_a_request(held: tuple[StreamingQuery, HeldBatches]) -> None:
    query, batches = held
    stopper = QueryStopper({"held": query}, grace_s=0)
    batches.release()
    wait_for(lambda: len(batches.ended) >= 2, "two batches")
    assert not stopper.stop_those_between_batches()
    assert query.isActive and not stopper.requested
