"""Shared fixtures. End-to-end tests run against a real Kafka broker of their own, launched as the platform's
supervisor launches it, on free loopback ports with its own data folder, so a developer's running platform
is untouched."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from salesinsights.kafka_admin import ensure_topics
from salesinsights.platform.kafka_server import ForegroundBroker
from salesinsights.settings import KafkaSettings, Settings, SparkSettings
from salesinsights.spark.session import build_spark
from tests.support import free_port

END_TO_END = Path(__file__).parent / "e2e"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The folder is the marker: every test under tests/e2e/ is end to end, so `-m "not e2e"` (make
    test-unit) leaves exactly that folder out."""
    for item in items:
        if END_TO_END in item.path.parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaSettings]:
    """A real single-node KRaft broker for the whole test session."""
    data_dir = tmp_path_factory.mktemp("broker")
    kafka = KafkaSettings(bootstrap_servers=f"127.0.0.1:{free_port()}", controller_port=free_port())
    settings = Settings(data_dir=data_dir, kafka=kafka)
    with ForegroundBroker(settings, settings.log_dir / "kafka.log"):
        yield kafka


@pytest.fixture
def platform(kafka_broker: KafkaSettings, tmp_path: Path) -> Settings:
    """Settings of one test: its own data folder and its own topics on the session's broker."""
    kafka = kafka_broker.with_topic_prefix(f"test-{uuid.uuid4().hex[:8]}")
    ensure_topics(kafka)
    return Settings(data_dir=tmp_path / "data", kafka=kafka)


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkSession]:
    """A local Spark session with the project's jars (Delta, Kafka connector), shared by the session."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("spark"),
        spark=SparkSettings(master="local[2]", shuffle_partitions=2),
    )
    session = build_spark(settings, "salesinsights-tests")
    try:
        yield session
    finally:
        session.stop()
