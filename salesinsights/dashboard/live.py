"""The gold topic as the dashboard's live source: the streaming application's live query puts each window's
totals there about a second after a purchase's file commits, long before the archive's Delta MERGE.

A consumer of its own (no group offsets) starts `lookback` before now and keeps the newest totals per
product and window in memory; older windows are in Delta already. Records carry absolute totals, so a repeat
(after a crash of the live query) changes nothing. The reader overlays these rows on gold.product_sales:
per product and window the source with more units wins (both only grow; a tie goes to Delta, the record).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
from confluent_kafka import Consumer, KafkaError, KafkaException

from salesinsights.kafka_io import TopicNotFoundError, consumer_from_start
from salesinsights.settings import KafkaSettings

log = logging.getLogger(__name__)

# Windows this far behind the newest one are dropped from memory (the dashboard shows two days at most).
KEPT_SPAN = timedelta(days=2)
RETRY_SECONDS = 5.0


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def window_row(value: bytes) -> dict[str, Any]:
    """One gold-topic record's value as a row of the dashboard's window frame (money in whole cents).
    Raises ValueError (or KeyError) on a value that is not a window record."""
    record = json.loads(value)
    start = _instant(record["window_start"])
    return {
        "product_id": int(record["product_id"]),
        "window_start": start,
        "window_end": _instant(record["window_end"]),
        "window_date": start.date(),
        "revenue_cents": int(Decimal(record["revenue"]) * 100),
        "units": int(record["units"]),
        "buyer_ids": [int(buyer) for buyer in record.get("buyer_ids") or []],
        "updated_at": _instant(record["updated_at"]),
    }


class LiveWindows:
    """Thread-safe: `poll` (on a background thread) takes new records; `frame` gives the rows held."""

    def __init__(self, kafka: KafkaSettings, lookback: timedelta) -> None:
        self.kafka = kafka
        self.lookback = lookback
        self.version = 0
        self.skipped = 0
        self._rows: dict[tuple[int, datetime], dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._consumer: Consumer | None = None
        self._retry_at = 0.0
        self._warned = False

    def _connect(self) -> Consumer:
        """A consumer assigned every partition from `lookback` ago. Raises TopicNotFoundError while the topic
        does not exist, KafkaException while the broker does not answer."""
        return consumer_from_start(
            self.kafka,
            self.kafka.gold_sales_topic,
            "dashboard",
            since=datetime.now(UTC) - self.lookback,
            metadata_timeout_s=5,
            # An offset the broker no longer holds (retention): from the oldest it has.
            config={"logger": log, "auto.offset.reset": "earliest"},
        )

    def poll(self, max_records: int = 5000, timeout_s: float = 0.2) -> int:
        """Takes what arrived (waiting up to `timeout_s` for the first record); returns how many rows
        changed. While the broker or the topic is away, it tries again every RETRY_SECONDS."""
        if self._consumer is None:
            if time.monotonic() < self._retry_at:
                return 0
            try:
                self._consumer = self._connect()
            except TopicNotFoundError:
                self._away(f"topic {self.kafka.gold_sales_topic} does not exist yet")
                return 0
            except KafkaException as error:
                self._away(f"the broker does not answer ({error})")
                return 0
            log.info("reading live window totals from %s", self.kafka.gold_sales_topic)
            self._warned = False
        try:
            messages = self._consumer.consume(max_records, timeout_s)
        except KafkaException as error:
            self.close()
            self._away(f"consuming failed ({error})")
            return 0
        rows = []
        for message in messages:
            fault = message.error()
            if fault is not None:
                if fault.code() != KafkaError._PARTITION_EOF:
                    log.warning("gold topic: %s", fault)
                continue
            value = message.value()
            try:
                rows.append(window_row(value if value is not None else b""))
            except (ValueError, KeyError, TypeError, ArithmeticError):
                self.skipped += 1  # not a window record: another producer's, kept out of the figures
        if rows:
            self._keep(rows)
        return len(rows)

    def _away(self, why: str) -> None:
        """Kafka cannot be read now: Delta alone serves the windows until a retry succeeds."""
        self._retry_at = time.monotonic() + RETRY_SECONDS
        if not self._warned:
            log.warning("live window totals unavailable, retrying every %ss: %s", RETRY_SECONDS, why)
            self._warned = True

    def _keep(self, rows: list[dict[str, Any]]) -> None:
        with self._lock:
            for row in rows:
                key = (row["product_id"], row["window_start"])
                held = self._rows.get(key)
                if held is None or row["units"] >= held["units"]:
                    self._rows[key] = row
            newest = max(start for _, start in self._rows)
            for key in [key for key in self._rows if key[1] < newest - KEPT_SPAN]:
                del self._rows[key]
            self.version += 1

    def frame(self, columns: list[str]) -> pd.DataFrame:
        """The rows held, in the columns of the reader's window frame (which window_row's keys match)."""
        with self._lock:
            rows = list(self._rows.values())
        return pd.DataFrame(rows, columns=columns)

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
