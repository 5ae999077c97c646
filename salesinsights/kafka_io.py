"""Small Kafka helpers shared by the producer, the status report and the tests."""

from __future__ import annotations

import time
import uuid

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from salesinsights.settings import KafkaSettings


def read_topic(kafka: KafkaSettings, topic: str, timeout_s: float = 30) -> list[Message]:
    """Every committed record of a topic, from the beginning to its current end (read_committed)."""
    consumer = Consumer(
        {
            "bootstrap.servers": kafka.bootstrap_servers,
            "group.id": f"salesinsights-reader-{uuid.uuid4()}",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
        }
    )
    try:
        metadata = consumer.list_topics(topic, timeout=10).topics[topic]
        if metadata.error is not None:
            raise KafkaException(metadata.error)
        partitions = [TopicPartition(topic, number, 0) for number in metadata.partitions]
        consumer.assign(partitions)
        remaining = {partition.partition for partition in partitions}
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
