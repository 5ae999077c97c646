"""The producer service under the faults an operator meets: poison files, a file copied in place, a second
instance, and a broker that goes away mid-file. Each time it goes on, and every row is produced once."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from salesinsights.kafka_admin import ensure_topics
from salesinsights.kafka_io import read_topic
from salesinsights.platform.kafka_server import ForegroundBroker
from salesinsights.producer.reader import event_id
from salesinsights.producer.service import STATUS_FILE
from salesinsights.schema import CSV_HEADER
from salesinsights.settings import KafkaSettings, Settings
from tests.support import REAL_SAMPLE_DIR, free_port, platform_env, wait_until

REAL_SAMPLE = REAL_SAMPLE_DIR / "events_sample.csv.gz"


def sample_rows() -> list[str]:
    with gzip.open(REAL_SAMPLE, "rt") as sample:
        return sample.read().splitlines()[1:]


def start_producer(settings: Settings, **extra: str) -> subprocess.Popen[bytes]:
    env = platform_env(settings.data, settings.kafka, **extra)
    log = (settings.data / "producer.log").open("ab")
    return subprocess.Popen([sys.executable, "-m", "salesinsights.producer"], env=env, stdout=log, stderr=log)


def stop(producer: subprocess.Popen[bytes]) -> None:
    producer.terminate()
    assert producer.wait(120) == 0


def status(settings: Settings) -> dict[str, object]:
    try:
        return dict(json.loads((settings.run_dir / STATUS_FILE).read_text()))
    except (OSError, ValueError):
        return {}


def event_counts(settings: Settings) -> Counter[str]:
    return Counter(
        json.loads(message.value() or b"{}")["event_id"]
        for message in read_topic(settings.kafka, settings.kafka.raw_topic)
    )


def test_poison_files_are_rejected_a_file_copied_in_place_waits_and_a_second_producer_is_refused(
    platform: Settings,
) -> None:
    landing = platform.landing_dir
    landing.mkdir(parents=True)
    rows = sample_rows()[:2000]
    producer = start_producer(platform, SALESINSIGHTS_PRODUCER__SETTLE="PT2S")
    try:
        wait_until(lambda: bool(status(platform)), 60, "the producer to report")
        second = start_producer(platform)
        assert second.wait(60) == 75, "a second producer on the same data folder must be refused"

        (landing / os.fsdecode(b"bad\xffname.csv")).write_text(f"{CSV_HEADER}\n{rows[0]}\n")
        # Copied in place, slowly: the producer must wait until the writer is done.
        with (landing / "copied.csv").open("w") as copy:
            copy.write("\n".join([CSV_HEADER, *rows[:1000]]) + "\n")
            copy.flush()
            time.sleep(1)
            copy.write("\n".join(rows[1000:]) + "\n")
        (landing / "after.csv").write_text(f"{CSV_HEADER}\n{rows[0]}\n")
        wait_until(lambda: (platform.produced_dir / "after.csv").exists(), 60, "the next file to be produced")
        assert producer.poll() is None, "the producer stopped"
    finally:
        stop(producer)

    ids = event_counts(platform)
    expected = {event_id("copied.csv", line) for line in range(2, len(rows) + 2)} | {event_id("after.csv", 2)}
    assert set(ids) == expected and max(ids.values()) == 1
    letters = [
        json.loads(m.value() or b"{}") for m in read_topic(platform.kafka, platform.kafka.dead_letter_topic)
    ]
    assert [(letter["source_file"], letter["reason"]) for letter in letters] == [
        ("bad\\xffname.csv", "undecodable_name")
    ]
    assert [os.fsencode(path.name) for path in platform.rejected_dir.iterdir()] == [b"bad\xffname.csv"]


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[ForegroundBroker]:
    """A broker of the test's own, to stop and start."""
    kafka = KafkaSettings(bootstrap_servers=f"127.0.0.1:{free_port()}", controller_port=free_port())
    settings = Settings(data_dir=tmp_path / "broker", kafka=kafka)
    with ForegroundBroker(settings, settings.log_dir / "kafka.log") as broker:
        yield broker


def test_files_whose_transaction_the_broker_lost_are_produced_again_at_start(
    own_broker: ForegroundBroker, tmp_path: Path
) -> None:
    """A power loss loses the broker's unflushed writes: here the broker's data folder is restored from a copy
    taken before the last file was produced, as a lost page cache would leave it."""
    kafka = own_broker.settings.kafka
    settings = Settings(data_dir=tmp_path / "data", kafka=kafka)
    ensure_topics(kafka)
    settings.landing_dir.mkdir(parents=True)
    rows = sample_rows()[:500]
    broker_data = tmp_path / "broker" / "kafka"

    def produce_one(name: str) -> None:
        (settings.landing_dir / name).write_text("\n".join([CSV_HEADER, *rows]) + "\n")
        producer = start_producer(settings, SALESINSIGHTS_PRODUCER__SETTLE="PT0S")
        try:
            wait_until(lambda: (settings.produced_dir / name).exists(), 120, f"{name} to be archived")
        finally:
            stop(producer)

    produce_one("events_kept.csv")
    own_broker.stop()
    shutil.copytree(broker_data, tmp_path / "broker-copy")
    own_broker.start()
    produce_one("events_lost.csv")
    own_broker.stop()
    shutil.rmtree(broker_data)
    shutil.copytree(tmp_path / "broker-copy", broker_data)
    own_broker.start()
    assert not any(
        json.loads(message.value() or b"{}")["source_file"] == "events_lost.csv"
        for message in read_topic(kafka, kafka.raw_topic)
    ), "the restored broker should have lost the last file"

    (settings.run_dir / STATUS_FILE).unlink()
    producer = start_producer(settings)
    try:
        wait_until(
            lambda: status(settings).get("files_produced_since_start") == 1,
            120,
            "the lost file to be produced",
        )
    finally:
        stop(producer)
    ids = event_counts(settings)
    names = ("events_kept.csv", "events_lost.csv")
    assert set(ids) == {event_id(name, line) for name in names for line in range(2, len(rows) + 2)}
    assert max(ids.values()) == 1
    assert sorted(path.name for path in settings.produced_dir.iterdir()) == sorted(names)
