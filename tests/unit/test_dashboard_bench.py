"""The freshness benchmark's mechanics, without Kafka or Spark: its landing files are events the producer
accepts (probes included, at the event clock's time), and a whole run against the real dashboard, with a
stand-in for the stream that turns landing files into gold, counts every probe and prints one line of
figures."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path

import pytest
import uvicorn

from salesinsights.bench.freshness import nearest_rank, parse_args, run
from salesinsights.bench.load import PROBE_PRODUCT_BASE, EventClock, LoadWriter
from salesinsights.dashboard.app import create_app
from salesinsights.landing import SourceSlice, drop_slice, drops_held
from salesinsights.producer.reader import FileCounts, RawEvent, read_landing_file
from salesinsights.schema import EVENT_TIME_FORMAT
from salesinsights.settings import Settings, SourceSettings
from tests.gold_lake import Event, GoldLake, purchase
from tests.support import free_port

START = datetime(2019, 11, 15, 17, 0, tzinfo=UTC)


def read_events(path: Path) -> tuple[list[Event], FileCounts]:
    counts = FileCounts()
    events = []
    for item in read_landing_file(path, counts):
        assert isinstance(item, RawEvent), item
        row = json.loads(item.value)
        events.append(
            Event(
                datetime.strptime(row["event_time"], EVENT_TIME_FORMAT).replace(tzinfo=UTC),
                row["event_type"],
                int(row["product_id"]),
                row["brand"],
                Decimal(row["price"]),
                int(row["user_id"]),
            )
        )
    return events, counts


def test_landing_files_hold_events_the_producer_accepts_with_the_probes(tmp_path: Path) -> None:
    writer = LoadWriter(
        tmp_path, EventClock(START), rate=500, probes_per_file=3, source_day=date(2019, 10, 1), seed=1
    )

    probes = writer.write_file(with_probes=True)

    (landed,) = tmp_path.iterdir()  # under its final name, nothing left behind
    events, counts = read_events(landed)
    assert counts.events == 500 and counts.dead_letters == 0
    assert {event.event_time for event in events} == {probes[0].event_time}
    assert abs(probes[0].event_time - START) < timedelta(seconds=5)
    bought = {(event.product_id, event.price) for event in events if event.product_id >= PROBE_PRODUCT_BASE}
    assert bought == {(probe.product_id, probe.price) for probe in probes}
    assert all(probe.landed_at > 0 for probe in probes)
    assert writer.write_file(with_probes=False) == [] and writer.events == 1000


def test_event_clock_jumps_forward_when_gold_gets_ahead_but_never_back() -> None:
    clock = EventClock(START)
    clock.catch_up(START - timedelta(hours=1))
    assert clock.now() - START < timedelta(seconds=5)
    clock.catch_up(START + timedelta(days=1))
    assert clock.now() - (START + timedelta(days=1)) < timedelta(seconds=5)


def test_probes_follow_a_replay_ahead_of_gold_once_its_files_are_produced(tmp_path: Path) -> None:
    """A replay (the file drop) landing a day a minute moves the stream's watermark a day ahead of gold each
    minute: a probe stamped by gold's clock would be behind it and never counted. Stamped at the replay's
    newest time while a day of it waits to be produced, the probe (produced first: its name sorts first)
    would put that day behind the watermark: it waits until the day is produced."""
    settings = Settings(data_dir=tmp_path / "data", source=SourceSettings(scale=0.001))
    day = SourceSlice(START + timedelta(days=2), START + timedelta(days=3))
    drop_slice(settings, day)
    (replayed,) = settings.landing_dir.glob("events_*")
    produced_at: list[float] = []

    def produce_it() -> None:
        time.sleep(0.5)
        settings.produced_dir.mkdir(parents=True)
        replayed.rename(settings.produced_dir / replayed.name)
        produced_at.append(time.time())

    producer = threading.Thread(target=produce_it)
    producer.start()
    writer = LoadWriter(
        settings.landing_dir,
        EventClock(START),
        rate=10,
        probes_per_file=1,
        source_day=date(2019, 10, 1),
        seed=1,
        drops_held=partial(drops_held, settings),
    )

    (probe,) = writer.write_file(with_probes=True)

    producer.join()
    assert day.end <= probe.event_time < day.end + timedelta(seconds=5)
    assert produced_at[0] <= probe.landed_at


def test_percentiles_are_nearest_rank() -> None:
    values = [float(value) for value in range(1, 21)]
    assert (nearest_rank(values, 0.5), nearest_rank(values, 0.95), nearest_rank(values, 1.0)) == (10, 19, 20)


class StandInStream(threading.Thread):
    """Does what producer + streaming job do, in one step: landing file → gold (no Kafka, no Spark)."""

    def __init__(self, lake: GoldLake) -> None:
        super().__init__(daemon=True)
        self.lake = lake
        self.stopping = threading.Event()

    def run(self) -> None:
        landing = self.lake.settings.landing_dir
        while not self.stopping.wait(0.2):
            for path in sorted(landing.glob("[!.]*.csv")):
                self.lake.add(read_events(path)[0])
                path.unlink()


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[tuple[Settings, str]]:
    settings = Settings(data_dir=tmp_path / "data")
    lake = GoldLake(settings)
    lake.add([purchase(START, 1, "1.00")])  # gold's newest event time: where the benchmark's clock starts
    server = uvicorn.Server(uvicorn.Config(create_app(settings), port=free_port(), log_level="warning"))
    serving = threading.Thread(target=server.run, daemon=True)
    stream = StandInStream(lake)
    serving.start()
    stream.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield settings, f"http://127.0.0.1:{server.config.port}"
    finally:
        stream.stopping.set()
        server.should_exit = True
        stream.join(10)
        serving.join(10)


def test_a_run_counts_every_probe_of_both_phases_and_prints_one_line_of_figures(
    platform: tuple[Settings, str], capsys: pytest.CaptureFixture[str]
) -> None:
    settings, url = platform
    options = parse_args(
        ["--rate", "300", "--duration", "4", "--warmup", "1", "--timeout", "20", "--url", url]
    )
    settle_checks: list[int] = []

    def settled() -> bool:
        """The stand-in stream has taken every landed file (no Airflow here: nothing to pause)."""
        settle_checks.append(1)
        return not list(settings.landing_dir.glob("[!.]*.csv"))

    status = run(settings, options, settled)

    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 1
    figures = dict(pair.split("=") for pair in printed[0].split())
    assert re.fullmatch(r"(\w+=\S+ )+\w+=\S+", printed[0])
    assert figures["replay_running"] == "false"  # no Airflow, no file drop
    assert settle_checks and int(figures["quiet_settle_s"]) >= 0
    for phase in ("replay", "quiet"):
        assert (figures[f"{phase}_freshness_count"], figures[f"{phase}_missing"]) == ("4", "0")
        assert figures[f"{phase}_wrong"] == "0"
        p50, worst = (float(figures[f"{phase}_freshness_{q}_s"]) for q in ("p50", "max"))
        assert 0 < p50 <= worst < 20
        assert int(figures[f"{phase}_input_eps"]) > 0  # a rate, not a timed target: the machine is shared
        assert int(figures[f"{phase}_processed_eps"]) > 0
    assert status == (0 if figures["target_met"] == "true" else 1)
