from __future__ import annotations

from datetime import UTC, datetime, timedelta

from salesinsights.spark.watermark import PartitionWatermark

LATENESS = timedelta(minutes=10)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2019, 10, 2, hour, minute, tzinfo=UTC)


def test_watermark_follows_the_slowest_partition() -> None:
    watermark = PartitionWatermark(LATENESS)
    assert watermark.current() is None
    watermark.advance({0: at(10, 45), 1: at(10, 20), 2: at(10, 30)})
    assert watermark.current() == at(10, 10)
    watermark.advance({1: at(11)})
    assert watermark.current() == at(10, 20)
    # A partition never goes back: an older batch high mark changes nothing.
    watermark.advance({2: at(9)})
    assert watermark.current() == at(10, 20)


def test_history_replays_to_the_same_watermark_and_naive_times_are_utc() -> None:
    batches = [{0: datetime(2019, 10, 2, 10, 45)}, {0: at(11), 1: at(10, 50)}]
    assert PartitionWatermark.from_history(LATENESS, batches).current() == at(10, 40)
