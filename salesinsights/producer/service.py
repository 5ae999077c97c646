"""The long-running producer: watches the landing folder and produces each new file exactly once.

One Kafka transaction per file holds the file's events (raw topic), its dead letters and a record of the
finished file (compacted files-done topic). A restart first fences and aborts any transaction a previous
instance left open, then reads the files-done topic back: a file whose record is there was produced in full
and is only moved to the archive; any other file is produced again from its first line.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from confluent_kafka import KafkaException, Producer

from salesinsights.kafka_io import read_topic
from salesinsights.producer.reader import DeadLetter, FileCounts, file_sha256, read_landing_file
from salesinsights.settings import Settings

log = logging.getLogger(__name__)

LANDING_SUFFIXES = (".csv", ".csv.gz")
STATUS_FILE = "producer.status.json"


@dataclass(frozen=True)
class DoneFile:
    name: str
    sha256: str
    counts: dict[str, object]


class LandingProducer:
    def __init__(self, settings: Settings, transactional_id: str = "salesinsights-producer") -> None:
        self.settings = settings
        self.kafka = settings.kafka
        self.producer = Producer(
            {
                "bootstrap.servers": self.kafka.bootstrap_servers,
                "transactional.id": transactional_id,
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
        self.producer.init_transactions(60)
        self.done = self._load_done_files()
        self.stopping = threading.Event()
        self.files_produced = 0
        self.last_file: str | None = None

    def _load_done_files(self) -> dict[str, DoneFile]:
        done: dict[str, DoneFile] = {}
        for message in read_topic(self.kafka, self.kafka.files_done_topic):
            value = message.value()
            if value is None:
                continue
            record = json.loads(value)
            done[record["file"]] = DoneFile(record["file"], record["sha256"], record["counts"])
        return done

    def pending_files(self) -> list[Path]:
        """Landing files ready to produce, oldest slice first; anything else in the folder is rejected."""
        landing = self.settings.landing_dir
        landing.mkdir(parents=True, exist_ok=True)
        ready: list[Path] = []
        for path in sorted(landing.iterdir()):
            if path.name.startswith("."):
                continue  # being written: temporary names are hidden until the atomic rename
            if path.is_symlink() or not path.is_file() or not path.name.endswith(LANDING_SUFFIXES):
                self._reject(path, "unsupported_file", f"not a regular {' or '.join(LANDING_SUFFIXES)} file")
                continue
            ready.append(path)
        return ready

    def produce_file(self, path: Path) -> DoneFile | None:
        """Produces one landing file in one transaction and archives it. None when the file was rejected."""
        sha256 = file_sha256(path)
        previous = self.done.get(path.name)
        if previous is not None:
            if previous.sha256 != sha256:
                self._reject(path, "name_reused", "a different file of this name was produced before")
                return None
            log.info("%s: produced before, archiving only", path.name)
            self._archive(path)
            return previous
        counts = FileCounts()
        started = time.monotonic()
        self.producer.begin_transaction()
        try:
            for item in read_landing_file(path, counts):
                if isinstance(item, DeadLetter):
                    self._send(self.kafka.dead_letter_topic, path.name.encode(), item.to_json())
                else:
                    self._send(self.kafka.raw_topic, item.key, item.value)
            done = DoneFile(path.name, sha256, counts.as_dict())
            record = {
                "file": done.name,
                "sha256": sha256,
                "counts": done.counts,
                "produced_at": datetime.now(UTC).isoformat(),
            }
            self._send(self.kafka.files_done_topic, path.name.encode(), json.dumps(record).encode())
            self.producer.commit_transaction(self.kafka.transaction_timeout_ms / 1000)
        except BaseException:
            self._abort()
            raise
        self.done[path.name] = done
        self._archive(path)
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
        letter = DeadLetter(path.name, None, reason, detail, "")
        self.producer.begin_transaction()
        try:
            self._send(self.kafka.dead_letter_topic, path.name.encode(), letter.to_json())
            self.producer.commit_transaction(60)
        except BaseException:
            self._abort()
            raise
        rejected = self.settings.data / "rejected"
        rejected.mkdir(parents=True, exist_ok=True)
        path.replace(rejected / path.name)
        log.warning("%s: rejected (%s: %s), moved to %s", path.name, reason, detail, rejected)

    def _archive(self, path: Path) -> None:
        self.settings.archive_dir.mkdir(parents=True, exist_ok=True)
        path.replace(self.settings.archive_dir / path.name)

    def write_status(self, pending: int) -> None:
        status = {
            "updated_at": datetime.now(UTC).isoformat(),
            "files_produced_since_start": self.files_produced,
            "files_done_total": len(self.done),
            "last_file": self.last_file,
            "pending_files": pending,
        }
        self.settings.run_dir.mkdir(parents=True, exist_ok=True)
        target = self.settings.run_dir / STATUS_FILE
        temporary = target.with_name(f".{target.name}")
        temporary.write_text(json.dumps(status))
        temporary.replace(target)

    def run(self, poll_interval_s: float = 0.1) -> None:
        """Until stopped: produce every pending file. A stop request lets the current file finish. A new file
        waits at most `poll_interval_s` (listing the folder is cheap; each second of wait is freshness)."""
        while not self.stopping.is_set():
            pending = self.pending_files()
            self.write_status(len(pending))
            for path in pending:
                if self.stopping.is_set():
                    break
                self.produce_file(path)
                self.write_status(len(pending) - 1)
            self.stopping.wait(poll_interval_s)
        self.producer.flush(30)

    def stop_on_signals(self) -> None:
        def request_stop(signum: int, _frame: FrameType | None) -> None:
            log.info("signal %d: stopping after the current file", signum)
            self.stopping.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
