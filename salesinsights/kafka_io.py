"""Small Kafka helpers shared by the producer, the status report and the tests."""

from __future__ import annotations

import time
import uuid

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from salesinsights.settings import KafkaSettings


def consumer_from_start(
    kafka: KafkaSettings, topic: str, role: str, metadata_timeout_s: float = 10, **config: object
) -> Consumer:
    """A read_committed consumer of its own (no group offsets), assigned every partition of the topic from
    its first record. Raises KafkaException when the topic's metadata cannot be had."""
    consumer = Consumer(
        {
            "bootstrap.servers": kafka.bootstrap_servers,
            "group.id": f"salesinsights-{role}-{uuid.uuid4()}",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
            **config,
        }
    )
    try:
        metadata = consumer.list_topics(topic, timeout=metadata_timeout_s).topics[topic]
        if metadata.error is not None:
            raise KafkaException(metadata.error)
        consumer.assign([TopicPartition(topic, number, 0) for number in metadata.partitions])
    except BaseException:
        consumer.close()
        raise
    return consumer


def read_topic(kafka: KafkaSettings, topic: str, timeout_s: float = 30) -> list[Message]:
    """Every committed record of a topic, from the beginning to its current end (read_committed)."""
    consumer = consumer_from_start(kafka, topic, "reader", **{"enable.partition.eof": True})
    try:
        remaining = {partition.partition for partition in consumer.assignment()}
        records: list[Message] = []
        deadline = time.monotonic() + timeout_s
        while remaining:
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {topic}: partitions {sorted(remaining)} did not reach their end")
            message = consumer.poll(0.5)
            if message is None:
                continue
            error = message.error()
            if error is None:
                records.append(message)
            elif error.code() == KafkaError._PARTITION_EOF:
                remaining.discard(message.partition())
            else:
                raise KafkaException(error)
        return records
    finally:
        consumer.close()
