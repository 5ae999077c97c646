"""The event-time watermark of a partitioned source, as stream processors such as Flink keep it: each Kafka
partition is in time order on its own, so the stream as a whole has reached the *smallest* of the
partitions' high-water marks. Taking the largest instead would declare late every event of a partition that
is read a little behind the others (a backlog split across partitions)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class PartitionWatermark:
    def __init__(self, lateness: timedelta, high_marks: Mapping[int, datetime] | None = None) -> None:
        self.lateness = lateness
        self.high_marks: dict[int, datetime] = {}
        if high_marks:
            self.advance(high_marks)

    @classmethod
    def from_history(
        cls, lateness: timedelta, batches: Iterable[Mapping[int, datetime]]
    ) -> PartitionWatermark:
        """The watermark after the given batches' per-partition high marks."""
        watermark = cls(lateness)
        for batch in batches:
            watermark.advance(batch)
        return watermark

    def current(self) -> datetime | None:
        """Events older than this are late; None until some partition has been seen."""
        if not self.high_marks:
            return None
        return min(self.high_marks.values()) - self.lateness

    def advance(self, batch_high_marks: Mapping[int, datetime]) -> None:
        for partition, moment in batch_high_marks.items():
            moment = _aware(moment)
            if partition not in self.high_marks or moment > self.high_marks[partition]:
                self.high_marks[partition] = moment
