"""Topic administration: idempotent creation, health and a short description for `make status`."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic

from salesinsights.settings import KafkaSettings, get_settings


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str]


def topic_specs(kafka: KafkaSettings) -> list[TopicSpec]:
    keep_forever = {"retention.ms": "-1"}
    return [
        TopicSpec(kafka.raw_topic, kafka.partitions, keep_forever),
        TopicSpec(kafka.dead_letter_topic, kafka.partitions, keep_forever),
        TopicSpec(kafka.gold_sales_topic, kafka.partitions, {}),
        TopicSpec(kafka.cart_abandoned_topic, kafka.partitions, {}),
        # The producer's record of finished files: one partition, compacted, read whole at start-up.
        TopicSpec(kafka.files_done_topic, 1, {"cleanup.policy": "compact", "retention.ms": "-1"}),
    ]


def admin_client(kafka: KafkaSettings) -> AdminClient:
    return AdminClient({"bootstrap.servers": kafka.bootstrap_servers})


def ping(kafka: KafkaSettings, timeout_s: float = 5) -> None:
    """Raises KafkaException unless the broker answers a metadata request."""
    admin_client(kafka).list_topics(timeout=timeout_s)


def topic_partitions(kafka: KafkaSettings, topic: str) -> list[int]:
    """The partition numbers of a topic; raises KafkaException when the broker does not answer."""
    metadata = admin_client(kafka).list_topics(topic, timeout=30).topics[topic]
    if metadata.error is not None:
        raise KafkaException(metadata.error)
    return sorted(metadata.partitions)


def ensure_topics(kafka: KafkaSettings) -> list[str]:
    """Creates missing topics and grows partition counts to the configured ones; returns what it changed."""
    admin = admin_client(kafka)
    existing = admin.list_topics(timeout=10).topics
    changes: list[str] = []
    missing = [spec for spec in topic_specs(kafka) if spec.name not in existing]
    if missing:
        futures = admin.create_topics(
            [
                NewTopic(spec.name, spec.partitions, kafka.replication_factor, config=spec.config)
                for spec in missing
            ]
        )
        for name, future in futures.items():
            try:
                future.result()
                changes.append(f"created {name}")
            except KafkaException as error:
                # Another process created it between our listing and our request.
                if error.args[0].code() != 36:  # TOPIC_ALREADY_EXISTS
                    raise
    grow = [
        spec
        for spec in topic_specs(kafka)
        if spec.name in existing and len(existing[spec.name].partitions) < spec.partitions
    ]
    if grow:
        for name, future in admin.create_partitions(
            [NewPartitions(spec.name, spec.partitions) for spec in grow]
        ).items():
            future.result()
            changes.append(f"grew {name}")
    return changes


def delete_topics(kafka: KafkaSettings) -> None:
    """Deletes the project's topics (what a benchmark created for itself)."""
    names = [spec.name for spec in topic_specs(kafka)]
    admin = admin_client(kafka)  # held until the futures resolve: a collected client cancels them
    for future in admin.delete_topics(names, operation_timeout=30).values():
        future.result()


def topic_record_counts(kafka: KafkaSettings) -> dict[str, int]:
    """Records held per project topic (end offset minus start offset; transaction markers included)."""
    consumer = Consumer(
        {
            "bootstrap.servers": kafka.bootstrap_servers,
            "group.id": "salesinsights-status",
            "enable.auto.commit": False,
        }
    )
    try:
        metadata = consumer.list_topics(timeout=10)
        counts: dict[str, int] = {}
        for spec in topic_specs(kafka):
            topic = metadata.topics.get(spec.name)
            if topic is None:
                continue
            total = 0
            for partition in topic.partitions:
                low, high = consumer.get_watermark_offsets(TopicPartition(spec.name, partition), timeout=10)
                total += high - low
            counts[spec.name] = total
        return counts
    finally:
        consumer.close()


def main(argv: list[str]) -> int:
    kafka = get_settings().kafka
    command = argv[0] if argv else "describe"
    if command == "ping":
        ping(kafka)
    elif command == "ensure-topics":
        for change in ensure_topics(kafka) or ["topics up to date"]:
            print(f"kafka: {change}")
    elif command == "describe":
        for name, count in topic_record_counts(kafka).items():
            print(f"  topic {name}: {count} offsets")
    else:
        print(f"usage: python -m salesinsights.kafka_admin ping|ensure-topics|describe (got {command!r})")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
