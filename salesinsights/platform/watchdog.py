"""The watchdog, a supervised service of its own: what a supervisor cannot see by exit statuses.

- A streaming application whose process is alive but that is *frozen* (it has not rewritten its health
  file, which it does every second, for `supervisor.frozen_after`: SIGSTOP, a stuck driver) or *hung* (a
  query has read nothing for `supervisor.hung_after` while Kafka holds committed records for it) gets its
  process group SIGKILLed; the supervisor then starts it again, as after any crash.
- A service the supervisor gave up on (FATAL: it died at every start) is started again after a back-off that
  doubles from `supervisor.fatal_retry` to `supervisor.fatal_retry_max`, so that, say, a broker that came
  back late does not leave the producer down for good.

Every action is logged and kept in data/run/watchdog.status.json (the last few)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicPartition

from salesinsights.files import write_json_atomically
from salesinsights.platform.kafka_server import broker_listening
from salesinsights.platform.supervisor import ProcessInfo, Supervisor, SupervisorNotRunningError
from salesinsights.settings import KafkaSettings, Settings, SupervisorSettings, get_settings
from salesinsights.spark.progress import STATUS_FILE as STREAMING_STATUS

log = logging.getLogger(__name__)

STATUS_FILE = "watchdog.status.json"
KEPT_ACTIONS = 20
TopicOffsets = dict[str, dict[str, int]]


def unread_records(available: TopicOffsets, read: TopicOffsets) -> int:
    """Records the broker offers (committed ones) beyond what a query has read, over the query's topics."""
    total = 0
    for topic, partitions in available.items():
        done = read.get(topic)
        if done is None:
            continue
        for partition, offset in partitions.items():
            total += max(offset - done.get(partition, 0), 0)
    return total


@dataclass(frozen=True)
class Waiting:
    """A query seen with records to read: since when, and the offsets it had read then."""

    since: float
    read: TopicOffsets


def waiting_queries(
    previous: dict[str, Waiting], now: float, report: dict[str, Any] | None, available: TopicOffsets | None
) -> dict[str, Waiting]:
    """Per query with committed records it has not read, since when it has been so without reading any:
    kept from `previous` while its offsets stay put, started now when they moved or it was caught up."""
    if report is None or available is None:
        return previous
    waiting: dict[str, Waiting] = {}
    for name, query in (report.get("queries") or {}).items():
        read = query.get("end_offsets") or {}
        if not unread_records(available, read):
            continue
        before = previous.get(name)
        waiting[name] = before if before is not None and before.read == read else Waiting(now, read)
    return waiting


def own_report(report: dict[str, Any] | None, pid: int) -> dict[str, Any] | None:
    """The health report if the process `pid` wrote it; None when it is an earlier run's (or none)."""
    return report if report is not None and report.get("pid") == pid else None


def hung_reason(
    now: float,
    started_at: float,
    report_written_at: float | None,
    waiting: dict[str, Waiting],
    limits: SupervisorSettings,
) -> str | None:
    """Why a streaming application that has run since `started_at` counts as hung, or None: no health report
    within the start timeout, its health file (last written by it at `report_written_at`; None: not yet) not
    rewritten for `frozen_after`, or a query that has had records to read for `hung_after` without reading
    any (counted from the start at the earliest)."""
    up_s = now - started_at
    if report_written_at is None:
        if up_s > limits.stream_start_timeout.total_seconds():
            return f"no health report in the {up_s:.0f} s since it started"
        return None
    if now - report_written_at > limits.frozen_after.total_seconds():
        return f"frozen: its health report has not changed for {now - report_written_at:.0f} s"
    for name, state in waiting.items():
        stalled_s = now - max(state.since, started_at)
        if stalled_s > limits.hung_after.total_seconds():
            return f"query {name} has read nothing for {stalled_s:.0f} s with records to read"
    return None


def committed_end_offsets(kafka: KafkaSettings, topics: list[str]) -> TopicOffsets | None:
    """Per topic and partition, the end of what a read_committed consumer may read (the last stable offset:
    a transaction still open is not counted as lag); None when the broker does not answer."""
    if not broker_listening(kafka):
        return None
    consumer = Consumer(
        {
            "bootstrap.servers": kafka.bootstrap_servers,
            "group.id": "salesinsights-watchdog",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
        }
    )
    try:
        metadata = consumer.list_topics(timeout=5)
        offsets: TopicOffsets = {}
        for topic in topics:
            partitions = metadata.topics.get(topic)
            if partitions is None or partitions.error is not None:
                continue
            offsets[topic] = {
                str(partition): consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=5)[1]
                for partition in partitions.partitions
            }
        return offsets
    except KafkaException:
        return None
    finally:
        consumer.close()


@dataclass
class Backoff:
    """When a FATAL service is tried next, and how long the wait after that is."""

    next_try: float
    delay_s: float


@dataclass
class Watchdog:
    settings: Settings
    supervisor: Supervisor
    actions: list[dict[str, str]] = field(default_factory=list)
    fatal: dict[str, Backoff] = field(default_factory=dict)
    waiting: dict[str, Waiting] = field(default_factory=dict)

    def check(self, now: float) -> None:
        processes = self.supervisor.processes()
        stream = processes.get("streaming")
        if stream is not None and stream.state == "RUNNING":
            self._check_stream(stream, now)
        else:
            self.waiting = {}
        self._revive(processes, now)
        self._write_status(now)

    def _check_stream(self, stream: ProcessInfo, now: float) -> None:
        path = self.settings.run_dir / STREAMING_STATUS
        try:
            written_at: float | None = path.stat().st_mtime
            report = own_report(json.loads(path.read_text()), stream.pid)
        except (OSError, ValueError):
            report = None
        if report is None:
            written_at = None
        available = committed_end_offsets(self.settings.kafka, [self.settings.kafka.raw_topic])
        self.waiting = waiting_queries(self.waiting, now, report, available)
        reason = hung_reason(now, stream.started_at, written_at, self.waiting, self.settings.supervisor)
        if reason is None:
            return
        self.waiting = {}
        self._record(
            "streaming", f"hung ({reason}): process group {stream.pid} killed, the supervisor restarts it"
        )
        with contextlib.suppress(ProcessLookupError):  # it ended meanwhile: the supervisor restarts it anyway
            os.killpg(stream.pid, signal.SIGKILL)

    def _revive(self, processes: dict[str, ProcessInfo], now: float) -> None:
        options = self.settings.supervisor
        for name, process in processes.items():
            if process.state != "FATAL":
                self.fatal.pop(name, None)
                continue
            backoff = self.fatal.setdefault(
                name, Backoff(now + options.fatal_retry.total_seconds(), options.fatal_retry.total_seconds())
            )
            if now < backoff.next_try:
                continue
            self._record(name, f"FATAL ({process.description}): started again after {backoff.delay_s:.0f} s")
            backoff.delay_s = min(backoff.delay_s * 2, options.fatal_retry_max.total_seconds())
            backoff.next_try = now + backoff.delay_s
            try:
                self.supervisor.start(name)
            except Exception as failed:  # it may fail again: the next try comes after the back-off
                log.warning("%s did not start: %s", name, failed)

    def _record(self, service: str, action: str) -> None:
        log.warning("%s: %s", service, action)
        entry = {"at": datetime.now(UTC).isoformat(), "service": service, "action": action}
        self.actions = [*self.actions, entry][-KEPT_ACTIONS:]

    def _write_status(self, now: float) -> None:
        status = {"checked_at": datetime.fromtimestamp(now, UTC).isoformat(), "actions": self.actions}
        write_json_atomically(self.settings.run_dir / STATUS_FILE, status)


def read_actions(run_dir: Path) -> list[dict[str, str]]:
    """The watchdog's last actions, newest last (none when it has not run)."""
    try:
        return list(json.loads((run_dir / STATUS_FILE).read_text())["actions"])
    except (OSError, ValueError, KeyError):
        return []


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    watchdog = Watchdog(settings, Supervisor(settings), actions=read_actions(settings.run_dir))
    interval_s = settings.supervisor.watchdog_interval.total_seconds()
    log.info("watching every %.0f s; a stream is hung after %s", interval_s, settings.supervisor.hung_after)
    while not stopping.wait(interval_s):
        try:
            watchdog.check(time.time())
        except SupervisorNotRunningError:
            log.info("the supervisor is gone; stopping")
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
