"""Bad input for the dashboard's health: rows the stream quarantined and records the producer dead-lettered,
by reason, and the newest nightly data-quality run. None of it is read per request: a background refresh
keeps one immutable answer that requests share.

The dead letters are tailed from their topic (read_committed, from the beginning, by a consumer that keeps
its place between refreshes); the quarantine and the DQ results are small Delta tables read whole."""

from __future__ import annotations

import json
import logging
from collections import Counter
from datetime import UTC, datetime

import duckdb
import pandas as pd
from confluent_kafka import Consumer, KafkaException
from deltalake import DeltaTable

from salesinsights.catalog import AUDIT_DQ_RESULTS, SILVER_QUARANTINE
from salesinsights.dashboard.models import InputQuality, LastValidation
from salesinsights.kafka_io import consumer_from_start
from salesinsights.settings import Settings

log = logging.getLogger(__name__)

CRITICAL = "critical"
_POLL_BATCH = 1000


def _delta(path: str) -> DeltaTable | None:
    return DeltaTable(path) if DeltaTable.is_deltatable(path) else None


def quarantine_reasons(path: str) -> dict[str, int]:
    table = _delta(path)
    if table is None:
        return {}
    with duckdb.connect() as connection:
        connection.execute("SET threads = 1")  # a background job on a shared machine
        connection.register("quarantine", table.to_pyarrow_dataset())
        rows = connection.execute("SELECT reason, count(*) FROM quarantine GROUP BY reason").fetchall()
    return {str(reason): int(count) for reason, count in sorted(rows, key=lambda row: (-row[1], row[0]))}


def last_validation(path: str) -> LastValidation | None:
    """The run with the newest validation time in audit.dq_results, summarised."""
    table = _delta(path)
    if table is None:
        return None
    results: pd.DataFrame = table.to_pandas()
    if results.empty:
        return None
    newest = results[results["run_id"] == results.loc[results["validated_at"].idxmax(), "run_id"]]
    failed = newest[~newest["success"].astype(bool)]
    critical = failed[failed["severity"] == CRITICAL]
    return LastValidation(
        run_id=str(newest["run_id"].iloc[0]),
        day=newest["day"].iloc[0],
        validated_at=newest["validated_at"].max().to_pydatetime(),
        expectations=len(newest),
        critical_failures=[
            f"{row.suite} [{row.rule}]: {row.expectation_type}" for row in critical.itertuples(index=False)
        ],
        warnings=len(failed) - len(critical),
    )


class DeadLetterTally:
    """Counts the dead-letter topic's records by reason, reading only what arrived since the last call."""

    def __init__(self, settings: Settings) -> None:
        self.kafka = settings.kafka
        self.reasons: Counter[str] = Counter()
        self._consumer: Consumer | None = None

    def _assigned(self) -> Consumer:
        if self._consumer is None:
            # While the broker is down every reconnect would log an error (log_level 0 silences them); the
            # failed metadata request says it once per refresh instead.
            self._consumer = consumer_from_start(
                self.kafka,
                self.kafka.dead_letter_topic,
                "dashboard",
                metadata_timeout_s=5,
                config={"log_level": 0},
            )
        return self._consumer

    def catch_up(self) -> None:
        consumer = self._assigned()
        while messages := consumer.consume(_POLL_BATCH, timeout=0.5):
            for message in messages:
                if message.error() is not None:
                    raise KafkaException(message.error())
                self.reasons[self._reason(message.value())] += 1

    @staticmethod
    def _reason(value: bytes | None) -> str:
        try:
            return str(json.loads(value or b"")["reason"])
        except (ValueError, KeyError, TypeError):
            return "unreadable dead letter"

    def close(self) -> None:
        """Forgets the counts with the place: the next call reads the topic from its beginning."""
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
        self.reasons.clear()


class QualityWatch:
    def __init__(self, settings: Settings) -> None:
        self.quarantine_path = SILVER_QUARANTINE.path(settings)
        self.results_path = AUDIT_DQ_RESULTS.path(settings)
        self.dead_letters = DeadLetterTally(settings)
        self.current = InputQuality(
            refreshed_at=None,
            quarantined=0,
            quarantine_reasons={},
            dead_letters=0,
            dead_letter_reasons={},
            dead_letters_readable=False,
            last_validation=None,
        )

    def refresh(self) -> None:
        try:
            self.dead_letters.catch_up()
            readable = True
        except KafkaException as error:
            # The broker may be down for a while; the counts so far stay, marked as not current.
            log.warning("reading the dead-letter topic failed: %s", error)
            self.dead_letters.close()
            readable = False
        reasons = quarantine_reasons(self.quarantine_path)
        letters = dict(self.dead_letters.reasons.most_common())
        self.current = InputQuality(
            refreshed_at=datetime.now(UTC),
            quarantined=sum(reasons.values()),
            quarantine_reasons=reasons,
            dead_letters=sum(letters.values()),
            dead_letter_reasons=letters,
            dead_letters_readable=readable,
            last_validation=last_validation(self.results_path),
        )

    def close(self) -> None:
        self.dead_letters.close()
