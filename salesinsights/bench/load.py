"""The freshness benchmark's input: landing files at a steady event rate, each carrying probe purchases with
known product ids and prices.

Background events are the generator's lines, re-timed to the benchmark's event clock; probes use product ids
in a reserved range (9_000_000_000 and up) that no real product has, so each probe's gold row is its own.
Every file lands atomically (hidden temporary name, then rename), and the moment it lands is recorded.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import cycle
from pathlib import Path

from salesinsights.generator import generate_lines
from salesinsights.landing import TEMP_PREFIX
from salesinsights.schema import CSV_HEADER, EVENT_TIME_FORMAT

PROBE_PRODUCT_BASE = 9_000_000_000
FILE_PREFIX = "bench_"


@dataclass(frozen=True)
class Probe:
    product_id: int
    price: Decimal
    event_time: datetime
    file_name: str
    landed_at: float = 0.0  # wall clock (time.time()) once its file is in the landing folder

    def line(self) -> str:
        stamp = self.event_time.strftime(EVENT_TIME_FORMAT)
        return (
            f"{stamp},purchase,{self.product_id},0,,,{self.price},{self.product_id},bench-{self.product_id}"
        )


class EventClock:
    """Event time for what is written now: starts at gold's newest event time and moves with the wall clock.
    It jumps forward when the stream gets ahead of it (a replay running alongside), so no probe is late: a
    replay lands a day of events a minute, 1,440 times faster than they happened, and the stream's
    watermark follows the replayed event time, as it must for the replay's own windows."""

    def __init__(self, start: datetime) -> None:
        self._offset = start - datetime.now(UTC)

    def now(self) -> datetime:
        return (datetime.now(UTC) + self._offset).replace(microsecond=0)

    def catch_up(self, newest: datetime) -> None:
        ahead = newest - self.now()
        if ahead > timedelta(0):
            self._offset += ahead


class LoadWriter:
    """Writes one landing file per `interval` seconds with `rate * interval` events, probes included."""

    def __init__(
        self,
        landing_dir: Path,
        clock: EventClock,
        rate: int,
        probes_per_file: int,
        source_day: date,
        seed: int,
        interval: float = 1.0,
        drops_held: Callable[[], AbstractContextManager[datetime | None]] = lambda: nullcontext(None),
    ) -> None:
        self.landing_dir = landing_dir
        self.clock = clock
        self.drops_held = drops_held
        self.events_per_file = max(int(rate * interval), probes_per_file)
        self.probes_per_file = probes_per_file
        self.interval = interval
        self.run = int(time.time()) % 10_000
        self._background = self._retimable_lines(source_day, seed)
        self._random = random.Random(seed)
        self.files = 0
        self.events = 0

    @staticmethod
    def _retimable_lines(day: date, seed: int) -> Iterator[str]:
        """The generator's lines without their event time (everything after the first comma), endlessly."""
        lines = generate_lines(day, seed, scale=0.25)
        return cycle([line.split(",", 1)[1] for line in lines])

    def _probes(self, file_name: str, moment: datetime) -> list[Probe]:
        probes: list[Probe] = []
        for _ in range(self.probes_per_file):
            sequence = self.files * self.probes_per_file + len(probes)
            product_id = PROBE_PRODUCT_BASE + self.run * 100_000 + sequence
            price = Decimal(self._random.randint(100, 99_999)) / 100
            probes.append(Probe(product_id, price, moment, file_name))
        return probes

    def write_file(self, with_probes: bool) -> list[Probe]:
        """Lands one file, at the event time of the newest source time landed by a replay if that is ahead
        (no replay's file lands meanwhile); returns its probes with the moment they landed."""
        name = f"{FILE_PREFIX}{self.run:04d}_{self.files:06d}.csv"
        with self.drops_held() as replayed_until:
            if replayed_until is not None:
                self.clock.catch_up(replayed_until)
            moment = self.clock.now()
            probes = self._probes(name, moment) if with_probes else []
            stamp = moment.strftime(EVENT_TIME_FORMAT)
            lines = [f"{stamp},{next(self._background)}" for _ in range(self.events_per_file - len(probes))]
            for probe in probes:  # somewhere in the file, as a real purchase would be
                lines.insert(self._random.randint(0, len(lines)), probe.line())
            temporary = self.landing_dir / f"{TEMP_PREFIX}{name}"
            # No fsync: durability is not what is measured, and the producer reads the page cache.
            temporary.write_text(f"{CSV_HEADER}\n" + "\n".join(lines) + "\n")
            temporary.replace(self.landing_dir / name)
        landed_at = time.time()
        self.files += 1
        self.events += len(lines)
        return [
            Probe(probe.product_id, probe.price, probe.event_time, probe.file_name, landed_at)
            for probe in probes
        ]
