"""The producer on a real broker: exact content, dead letters, idempotent re-drops, SIGKILL mid-file."""

from __future__ import annotations

import gzip
import json
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter

from confluent_kafka import Consumer, TopicPartition

from salesinsights.kafka_io import read_topic
from salesinsights.producer.reader import event_id
from salesinsights.producer.service import STATUS_FILE, LandingProducer
from salesinsights.schema import CSV_COLUMNS, CSV_HEADER
from salesinsights.settings import Settings
from tests.support import REAL_SAMPLE_DIR, platform_env

GOOD = "2019-10-01 00:00:07 UTC,cart,5881589,2151191071051219817,,lovely,13.48,429681830,49e8d843"
REAL_SAMPLE = REAL_SAMPLE_DIR / "events_sample.csv.gz"


def produce_pending(settings: Settings) -> LandingProducer:
    producer = LandingProducer(settings, transactional_id=f"test-{settings.kafka.raw_topic}")
    for path in producer.pending_files():
        producer.produce_file(path)
    return producer


def committed_values(settings: Settings, topic: str) -> list[dict[str, object]]:
    return [json.loads(message.value() or b"null") for message in read_topic(settings.kafka, topic)]


def test_valid_rows_reach_the_raw_topic_and_malformed_ones_the_dead_letter_topic(platform: Settings) -> None:
    platform.landing_dir.mkdir(parents=True)
    lines = [CSV_HEADER, GOOD, "2019-10-01 00:00:09 UTC,view,1", GOOD, GOOD.replace("13.48", "free"), GOOD]
    (platform.landing_dir / "crafted.csv").write_text("\n".join(lines) + "\n")

    produce_pending(platform)

    raw = committed_values(platform, platform.kafka.raw_topic)
    assert sorted(record["source_line"] for record in raw) == [2, 4, 6]  # type: ignore[type-var]
    expected_fields = dict(zip(CSV_COLUMNS, GOOD.split(","), strict=True)) | {"category_code": None}
    for record in raw:
        assert record["event_id"] == event_id("crafted.csv", record["source_line"])  # type: ignore[arg-type]
        assert {column: record[column] for column in CSV_COLUMNS} == expected_fields
    dead = committed_values(platform, platform.kafka.dead_letter_topic)
    assert sorted((str(letter["source_line"]), letter["reason"]) for letter in dead) == [
        ("3", "wrong_column_count"),
        ("5", "bad_price"),
    ]
    assert all(letter["source_file"] == "crafted.csv" for letter in dead)
    assert (platform.produced_dir / "crafted.csv").exists()
    assert not list(platform.landing_dir.iterdir())


def test_a_file_dropped_again_adds_nothing_even_after_a_restart(platform: Settings) -> None:
    platform.landing_dir.mkdir(parents=True)
    shutil.copy(REAL_SAMPLE, platform.landing_dir / "day.csv.gz")
    produce_pending(platform)
    first = len(read_topic(platform.kafka, platform.kafka.raw_topic))

    # The same file again, picked up by a fresh producer that must learn what is done from Kafka alone.
    shutil.copy(platform.produced_dir / "day.csv.gz", platform.landing_dir / "day.csv.gz")
    produce_pending(platform)

    assert len(read_topic(platform.kafka, platform.kafka.raw_topic)) == first == 42_569
    assert (platform.produced_dir / "day.csv.gz").exists()
    done = committed_values(platform, platform.kafka.files_done_topic)
    assert [record["file"] for record in done] == ["day.csv.gz"]


def test_a_different_file_under_a_produced_name_is_rejected_not_merged(platform: Settings) -> None:
    platform.landing_dir.mkdir(parents=True)
    (platform.landing_dir / "same.csv").write_text(f"{CSV_HEADER}\n{GOOD}\n")
    produce_pending(platform)
    (platform.landing_dir / "same.csv").write_text(f"{CSV_HEADER}\n{GOOD}\n{GOOD}\n")
    produce_pending(platform)
    assert len(read_topic(platform.kafka, platform.kafka.raw_topic)) == 1
    reasons = [letter["reason"] for letter in committed_values(platform, platform.kafka.dead_letter_topic)]
    assert reasons == ["name_reused"]
    assert (platform.data / "rejected" / "same.csv").exists()


def raw_offsets(settings: Settings) -> int:
    """Records written to the raw topic so far, committed or not (what an uncommitted transaction adds)."""
    consumer = Consumer({"bootstrap.servers": settings.kafka.bootstrap_servers, "group.id": "offsets-probe"})
    try:
        topic = consumer.list_topics(settings.kafka.raw_topic, timeout=10).topics[settings.kafka.raw_topic]
        return sum(
            consumer.get_watermark_offsets(TopicPartition(settings.kafka.raw_topic, partition), timeout=10)[1]
            for partition in topic.partitions
        )
    finally:
        consumer.close()


def start_producer(settings: Settings) -> subprocess.Popen[bytes]:
    env = platform_env(settings.data, settings.kafka)
    return subprocess.Popen([sys.executable, "-m", "salesinsights.producer"], env=env)


def test_sigkill_mid_file_then_restart_yields_every_row_exactly_once(platform: Settings) -> None:
    platform.landing_dir.mkdir(parents=True)
    with gzip.open(REAL_SAMPLE, "rt") as sample:
        rows = sample.read().splitlines()[1:]
    names = [f"events_{day}.csv" for day in ("a", "b", "c")]
    for name in names:
        (platform.landing_dir / name).write_text("\n".join([CSV_HEADER, *rows]) + "\n")
    expected_ids = {event_id(name, line) for name in names for line in range(2, len(rows) + 2)}
    rng = random.Random(7)

    kills = 0
    for _ in range(3):
        producer = start_producer(platform)
        already = raw_offsets(platform)
        # Kill once the producer is inside a file's transaction, at a random further moment.
        deadline = time.monotonic() + 60
        while raw_offsets(platform) <= already and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 1.5))
        producer.send_signal(signal.SIGKILL)
        producer.wait(10)
        kills += 1
        if not list(platform.landing_dir.glob("events_*.csv")):
            break

    status = platform.run_dir / STATUS_FILE
    status.unlink(missing_ok=True)
    producer = start_producer(platform)
    try:
        deadline = time.monotonic() + 120
        # Done once the files are gone and the producer reports (so its SIGTERM handler is in place).
        while (
            list(platform.landing_dir.glob("events_*.csv")) or not status.exists()
        ) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not list(platform.landing_dir.glob("events_*.csv")), "the producer did not finish the files"
        assert status.exists(), "the restarted producer never reported"
    finally:
        producer.send_signal(signal.SIGTERM)
        assert producer.wait(60) == 0

    assert kills >= 1
    ids = Counter(
        json.loads(message.value() or b"{}")["event_id"]
        for message in read_topic(platform.kafka, platform.kafka.raw_topic)
    )
    assert set(ids) == expected_ids
    assert max(ids.values()) == 1, "an event was committed twice"
    # The aborted attempts really wrote records: the topic holds more offsets than committed events.
    assert raw_offsets(platform) > len(expected_ids)
