"""Small Kafka helpers shared by the producer, the status report and the tests."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import datetime

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from salesinsights.settings import KafkaSettings


class TopicNotFoundError(KafkaException):
    """The topic does not exist (yet), or has no partitions."""


def consumer_from_start(
    kafka: KafkaSettings,
    topic: str,
    role: str,
    *,
    since: datetime | None = None,
    metadata_timeout_s: float = 10,
    config: dict[str, object] | None = None,
) -> Consumer:
    """A read_committed consumer of its own (no group offsets) with any further consumer `config`, assigned
    every partition of the topic from its first record, or from its first record at or after `since`. Raises
    TopicNotFoundError when the topic is not there, KafkaException when its metadata cannot be had."""
    consumer = Consumer(
        {
            "bootstrap.servers": kafka.bootstrap_servers,
            "group.id": f"salesinsights-{role}-{uuid.uuid4()}",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
            **(config or {}),
        }
    )
    try:
        metadata = consumer.list_topics(topic, timeout=metadata_timeout_s).topics.get(topic)
        if metadata is not None and metadata.error is not None:
            if metadata.error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                raise TopicNotFoundError(metadata.error)
            raise KafkaException(metadata.error)
        if metadata is None or not metadata.partitions:
            raise TopicNotFoundError(f"topic {topic} does not exist")
        starts = [TopicPartition(topic, number, 0) for number in metadata.partitions]
        consumer.assign(starts if since is None else _offsets_since(consumer, starts, since))
    except BaseException:
        consumer.close()
        raise
    return consumer


def _offsets_since(
    consumer: Consumer, partitions: list[TopicPartition], since: datetime
) -> list[TopicPartition]:
    """Each partition's first offset at or after `since`. Past its end (nothing that recent): the end's
    number now, not "the end" (-1), which the consumer would resolve only at its first fetch, past whatever
    arrived in between."""
    since_ms = int(since.timestamp() * 1000)
    wanted = [TopicPartition(part.topic, part.partition, since_ms) for part in partitions]
    return [
        TopicPartition(
            part.topic,
            part.partition,
            part.offset if part.offset >= 0 else consumer.get_watermark_offsets(part, timeout=10)[1],
        )
        for part in consumer.offsets_for_times(wanted, timeout=10)
    ]


def topic_records(kafka: KafkaSettings, topic: str, timeout_s: float = 30) -> Iterator[Message]:
    """Every committed record of a topic, from the beginning to its current end (read_committed), as read:
    a topic of millions of records is counted or folded without being held. `timeout_s` bounds the whole
    read."""
    consumer = consumer_from_start(kafka, topic, "reader", config={"enable.partition.eof": True})
    try:
        remaining = {partition.partition for partition in consumer.assignment()}
        deadline = time.monotonic() + timeout_s
        while remaining:
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {topic}: partitions {sorted(remaining)} did not reach their end")
            for message in consumer.consume(10_000, 0.5):
                error = message.error()
                if error is None:
                    yield message
                elif error.code() == KafkaError._PARTITION_EOF:
                    remaining.discard(message.partition())
                else:
                    raise KafkaException(error)
    finally:
        consumer.close()


def read_topic(kafka: KafkaSettings, topic: str, timeout_s: float = 30) -> list[Message]:
    """Every committed record of a topic, from the beginning to its current end (read_committed)."""
    return list(topic_records(kafka, topic, timeout_s))
