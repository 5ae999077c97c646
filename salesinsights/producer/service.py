"""The long-running producer: watches the landing folder and produces each new file exactly once.

One Kafka transaction per file holds the file's events (raw topic), its dead letters and a record of the
finished file (compacted files-done topic). A restart first fences and aborts any transaction a previous
instance left open, then reads the files-done topic back: a file whose record is there was produced in full
and is only moved to the produced folder (data/archive); any other file is produced again from its first line.

It never stops for one file or for the broker: a file it cannot read goes to data/rejected/ with a dead letter
saying why; while the broker does not answer it waits (its status says so) and then produces the file in
flight again, whose aborted transaction left nothing visible.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TypeVar

from confluent_kafka import KafkaException, Producer

from salesinsights.files import write_json_atomically
from salesinsights.kafka_admin import ping
from salesinsights.kafka_io import read_topic
from salesinsights.producer.event_time import event_time_limit, file_reference, newest_reference
from salesinsights.producer.reader import DeadLetter, FileCounts, event_times, file_sha256, read_landing_file
from salesinsights.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

LANDING_SUFFIXES = (".csv", ".csv.gz")
STATUS_FILE = "producer.status.json"
# A file whose transaction fails this often while the broker answers is not produced (e.g. it takes longer
# than the transaction timeout): it is rejected, and the producer goes on with the next one.
MAX_FILE_ATTEMPTS = 3


def printable_name(path: Path) -> str:
    """The file's name as text, its bytes that are not UTF-8 written as \\xNN."""
    return os.fsencode(path.name).decode("utf-8", errors="backslashreplace")


def settled(path: Path, settle: timedelta, now: float | None = None) -> bool:
    """Whether the file has not changed (content or name) for `settle`: a writer in place is done with it."""
    try:
        status = path.stat()
    except FileNotFoundError:
        return False
    changed = max(status.st_mtime, status.st_ctime)
    return (now if now is not None else time.time()) - changed >= settle.total_seconds()


class BrokerUnavailableError(RuntimeError):
    """The broker did not answer."""


@dataclass(frozen=True)
class DoneFile:
    name: str
    sha256: str
    counts: dict[str, object]
    event_time_reference: str | None = None


class LandingProducer:
    def __init__(
        self,
        settings: Settings,
        transactional_id: str | None = None,
        stopping: threading.Event | None = None,
        wait_for_broker: bool = False,
    ) -> None:
        """Connects (fencing any older instance with its transactional id, the settings' by default) and
        reads which files are done. With `wait_for_broker`, a broker that does not answer is waited for until
        it does or `stopping` is set."""
        self.settings = settings
        self.kafka = settings.kafka
        self.transactional_id = transactional_id or settings.producer.transactional_id
        self.stopping = stopping or threading.Event()
        self.files_produced = 0
        self.last_file: str | None = None
        # The file being produced (its transaction open), for the status.
        self.current_file: str | None = None
        self.waiting_for_broker: str | None = None
        self.done: dict[str, DoneFile] = {}
        delay = settings.producer.broker_retry.total_seconds()
        while True:
            try:
                self.producer = self._connect()
                self.done = self._load_done_files()
                break
            except (KafkaException, TimeoutError) as error:
                if not wait_for_broker:
                    raise
                if self.stopping.is_set():
                    raise BrokerUnavailableError("stopped while the broker did not answer") from error
                self._wait_for_broker(str(error), delay)
                delay = min(delay * 2, settings.producer.broker_retry_max.total_seconds())
        self.waiting_for_broker = None

    def _connect(self) -> Producer:
        producer = Producer(
            {
                "bootstrap.servers": self.kafka.bootstrap_servers,
                "transactional.id": self.transactional_id,
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 20,
                "compression.type": "lz4",
                "queue.buffering.max.messages": 1_000_000,
                "queue.buffering.max.kbytes": 1_048_576,
                "transaction.timeout.ms": self.kafka.transaction_timeout_ms,
            }
        )
        # Fences an older instance with the same id and aborts whatever transaction it left open.
        producer.init_transactions(60)
        return producer

    def _load_done_files(self) -> dict[str, DoneFile]:
        done: dict[str, DoneFile] = {}
        for message in read_topic(self.kafka, self.kafka.files_done_topic):
            value = message.value()
            if value is None:
                continue
            record = json.loads(value)
            done[record["file"]] = DoneFile(
                record["file"], record["sha256"], record["counts"], record.get("event_time_reference")
            )
        return done

    def pending_files(self) -> list[Path]:
        """Landing files ready to produce, oldest slice first; anything else in the folder is rejected."""
        landing = self.settings.landing_dir
        landing.mkdir(parents=True, exist_ok=True)
        ready: list[Path] = []
        for path in sorted(landing.iterdir()):
            if path.name.startswith("."):
                continue  # being written: temporary names are hidden until the atomic rename
            try:
                path.name.encode()
            except UnicodeEncodeError:
                self._reject(path, "undecodable_name", "the file name is not UTF-8")
                continue
            if path.is_symlink() or not path.is_file() or not path.name.endswith(LANDING_SUFFIXES):
                self._reject(path, "unsupported_file", f"not a regular {' or '.join(LANDING_SUFFIXES)} file")
                continue
            ready.append(path)
        return ready

    def produce_file(self, path: Path) -> DoneFile | None:
        """Produces one landing file in one transaction and archives it. None when the file was rejected."""
        try:
            sha256 = file_sha256(path)
        except FileNotFoundError:
            self._reject(path, "file_vanished", "the file left the landing folder before it was read")
            return None
        except OSError as error:
            self._reject(path, "unreadable_file", f"{type(error).__name__}: {error}")
            return None
        previous = self.done.get(path.name)
        if previous is not None:
            if previous.sha256 != sha256:
                self._reject(path, "name_reused", "a different file of this name was produced before")
                return None
            log.info("%s: produced before, archiving only", path.name)
            self._set_aside_produced(path)
            return previous
        counts = FileCounts()
        started = time.monotonic()
        lead = self.settings.producer.event_time_lead
        reference = file_reference(event_times(path), lead)
        stream_reference = newest_reference(done.event_time_reference for done in self.done.values())
        limit = event_time_limit(stream_reference, reference, lead)
        self.producer.begin_transaction()
        try:
            for item in read_landing_file(path, counts, limit):
                if isinstance(item, DeadLetter):
                    self._send(self.kafka.dead_letter_topic, path.name.encode(), item.to_json())
                else:
                    self._send(self.kafka.raw_topic, item.key, item.value)
            done = DoneFile(path.name, sha256, counts.as_dict(), reference)
            record = {
                "file": done.name,
                "sha256": sha256,
                "counts": done.counts,
                "event_time_reference": reference,
                "event_time_limit": limit,
                "produced_at": datetime.now(UTC).isoformat(),
            }
            self._send(self.kafka.files_done_topic, path.name.encode(), json.dumps(record).encode())
            self.producer.commit_transaction(self.settings.producer.commit_timeout.total_seconds())
        except BaseException:
            self._abort()
            raise
        self.done[path.name] = done
        self._set_aside_produced(path)
        self.files_produced += 1
        self.last_file = path.name
        log.info(
            "%s: %d events, %d dead letters, %d lines in %.1fs",
            path.name,
            counts.events,
            counts.dead_letters,
            counts.lines,
            time.monotonic() - started,
        )
        return done

    def _send(self, topic: str, key: bytes, value: bytes) -> None:
        while True:
            try:
                self.producer.produce(topic, value=value, key=key)
                return
            except BufferError:
                self.producer.poll(0.05)  # the local queue is full: let deliveries drain it

    def _abort(self) -> None:
        try:
            self.producer.abort_transaction(30)
        except KafkaException as error:
            log.error("aborting the transaction failed: %s", error)

    def _reject(self, path: Path, reason: str, detail: str) -> None:
        """A file that is not produced still leaves a dead letter, and moves out of the landing folder."""
        name = printable_name(path)
        letter = DeadLetter(name, None, reason, detail, "")
        self.producer.begin_transaction()
        try:
            self._send(self.kafka.dead_letter_topic, os.fsencode(path.name), letter.to_json())
            self.producer.commit_transaction(self.settings.producer.commit_timeout.total_seconds())
        except BaseException:
            self._abort()
            raise
        # A file that vanished leaves its dead letter all the same.
        with contextlib.suppress(FileNotFoundError):
            _move(path, self.settings.rejected_dir, keep_both=True)
        log.warning("%s: rejected (%s: %s), moved to %s", name, reason, detail, self.settings.rejected_dir)

    def _set_aside_produced(self, path: Path) -> None:
        _move(path, self.settings.produced_dir)

    def write_status(self, pending: int) -> None:
        status = {
            "updated_at": datetime.now(UTC).isoformat(),
            "pid": os.getpid(),
            "files_produced_since_start": self.files_produced,
            "files_done_total": len(self.done),
            "last_file": self.last_file,
            "current_file": self.current_file,
            "pending_files": pending,
            "waiting_for_broker": self.waiting_for_broker,
        }
        self.settings.run_dir.mkdir(parents=True, exist_ok=True)
        target = self.settings.run_dir / STATUS_FILE
        write_json_atomically(target, status)

    def reconcile_produced(self) -> list[str]:
        """Moves back to the landing folder every archived file that the files-done topic does not know:
        its transaction was lost with the broker's unflushed writes (a power loss), so it is produced again.
        Returns their names."""
        if not self.settings.produced_dir.is_dir():
            return []
        lost = sorted(path for path in self.settings.produced_dir.iterdir() if path.name not in self.done)
        for path in lost:
            log.warning("%s: archived, but the broker has no record of it: producing it again", path.name)
            _move(path, self.settings.landing_dir)
        return [path.name for path in lost]

    def run(self) -> None:
        """Until stopped: produce every pending file once it has settled. A stop request lets the current
        file finish. A new file waits at most the poll interval (each second of wait is freshness)."""
        poll = self.settings.producer.poll_interval.total_seconds()
        self.reconcile_produced()
        while not self.stopping.is_set():
            pending = self.until_broker_answers(self.pending_files)
            self.write_status(len(pending))
            settle = self.settings.producer.settle
            for path in [path for path in pending if settled(path, settle)]:
                if self.stopping.is_set():
                    break
                self.current_file = path.name
                self.write_status(len(pending))
                self.produce_in_turn(path)
                self.current_file = None
                self.write_status(len(pending) - 1)
            self.stopping.wait(poll)
        self.producer.flush(30)

    def produce_in_turn(self, path: Path) -> None:
        """produce_file, the broker's outages waited out. A file whose transaction keeps failing while the
        broker answers is rejected."""
        failures = 0
        timeout = f"SALESINSIGHTS_KAFKA__TRANSACTION_TIMEOUT_MS={self.kafka.transaction_timeout_ms}"
        while not self.stopping.is_set():
            try:
                self.until_broker_answers(lambda: self.produce_file(path))
                return
            except KafkaException as error:
                failures += 1
                log.error(
                    "%s: transaction failed (%d of %d): %s", path.name, failures, MAX_FILE_ATTEMPTS, error
                )
                self.until_broker_answers(self._reconnect)
                if failures >= MAX_FILE_ATTEMPTS:
                    detail = f"{error} ({failures} attempts; a file's transaction must end within {timeout})"
                    self.until_broker_answers(lambda: self._reject(path, "transaction_failed", detail))  # noqa: B023
                    return

    def until_broker_answers(self, action: Callable[[], T]) -> T:
        """Runs `action`; while the broker does not answer, waits with back-off (status says so) and runs it
        again (after a new producer has fenced and aborted the old one's transaction). A KafkaException
        from a broker that answers is the caller's."""
        delay = self.settings.producer.broker_retry.total_seconds()
        while True:
            try:
                result = action()
            except (KafkaException, TimeoutError) as error:
                try:
                    ping(self.kafka, timeout_s=5)
                except KafkaException:
                    pass
                else:
                    raise
                self._wait_for_broker(str(error), delay)
            else:
                if self.waiting_for_broker:
                    log.info("the broker answers again")
                    self.waiting_for_broker = None
                return result
            delay = min(delay * 2, self.settings.producer.broker_retry_max.total_seconds())
            if self.stopping.is_set():
                raise BrokerUnavailableError("stopped while the broker did not answer")
            try:
                self._reconnect()
            except (KafkaException, TimeoutError) as error:
                log.warning("the broker does not answer yet: %s", error)

    def _reconnect(self) -> None:
        """A new producer, which fences the old one (the broker ends its open transaction), and what the
        broker now says is done: a commit that reported a failure may have gone through (the file is then
        only archived), and files whose records the broker lost meanwhile are produced again."""
        self.producer = self._connect()
        self.done = self._load_done_files()
        self.reconcile_produced()

    def _wait_for_broker(self, error: str, delay: float) -> None:
        self.waiting_for_broker = f"since {datetime.now(UTC).isoformat()}: {error}"
        log.warning("the broker does not answer (%s); trying again in %.0fs", error, delay)
        self.write_status(-1)
        self.stopping.wait(delay)


def stop_requested_by_signals() -> threading.Event:
    """An event that SIGTERM or SIGINT sets: the producer then finishes the file in flight and stops."""
    stopping = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping after the current file", signum)
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    return stopping


def _move(path: Path, folder: Path, keep_both: bool = False) -> None:
    """Into `folder`, keeping the name (with `keep_both`, a file of that name already there stays, and this
    one gets a numbered name); by copy and delete when `folder` is on another file system."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    copies = 0
    while keep_both and (target.exists() or target.is_symlink()):
        copies += 1
        target = folder / f"{path.name}.{copies}"
    try:
        path.replace(target)
    except OSError as error:
        if error.errno != 18:  # EXDEV: not one file system
            raise
        shutil.move(path, target)
