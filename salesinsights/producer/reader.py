"""Reads one landing file into raw event records and dead letters, without touching Kafka.

Every physical line is accounted for: the header, a blank line, an event or a dead letter with its reason.
A file that cannot be read to its end (corrupt gzip, I/O error) yields what it could read and one dead
letter for the rest.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from salesinsights.rules import TEXT_PATTERNS, Stage, violations
from salesinsights.schema import (
    CSV_COLUMNS,
    CSV_HEADER,
    EVENT_ID,
    EVENT_TIME_LIMIT,
    SOURCE_FILE,
    SOURCE_LINE,
    FieldKind,
)

# A real line is ~150 bytes; anything this long is not an event, and must not exhaust memory.
MAX_LINE_BYTES = 64 * 1024
# How much of a bad line the dead letter keeps.
MAX_RAW_CHARS = 2048
UTF8_BOM = b"\xef\xbb\xbf"
_FORMAT_ONLY = frozenset({Stage.FORMAT})
_EVENT_TIME = re.compile(TEXT_PATTERNS[FieldKind.TIMESTAMP].encode())


def event_id(source_file: str, line_number: int) -> str:
    """Identity of an event: its place in its source. A replayed file collapses onto the same ids, while
    identical rows on different lines (several units of one product) stay distinct."""
    return hashlib.sha256(f"{source_file}\n{line_number}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class RawEvent:
    line: int
    key: bytes
    value: bytes


@dataclass(frozen=True)
class DeadLetter:
    source_file: str
    line: int | None  # None: the fault concerns the file, not one line
    reason: str
    detail: str
    raw: str

    def to_json(self) -> bytes:
        return json.dumps(
            {
                SOURCE_FILE: self.source_file,
                SOURCE_LINE: self.line,
                "reason": self.reason,
                "detail": self.detail,
                "raw": self.raw,
            }
        ).encode()


@dataclass
class FileCounts:
    lines: int = 0
    events: int = 0
    dead_letters: int = 0
    blank_lines: int = 0
    header_lines: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "lines": self.lines,
            "events": self.events,
            "dead_letters": self.dead_letters,
            "blank_lines": self.blank_lines,
            "header_lines": self.header_lines,
            "reasons": dict(sorted(self.reasons.items())),
        }


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _open(path: Path) -> BinaryIO:
    if path.name.endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def _physical_lines(stream: BinaryIO) -> Iterator[tuple[bytes, bool]]:
    """(line without its end-of-line bytes, whether it was cut at MAX_LINE_BYTES)."""
    while True:
        line = stream.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        too_long = len(line) > MAX_LINE_BYTES and not line.endswith(b"\n")
        if too_long:
            # Skip the rest of the line in bounded pieces.
            while (rest := stream.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                pass
        yield line.rstrip(b"\n").rstrip(b"\r"), too_long


def _raw_text(line: bytes) -> str:
    return line[: MAX_RAW_CHARS * 4].decode("utf-8", errors="backslashreplace")[:MAX_RAW_CHARS]


def event_times(path: Path) -> list[str]:
    """The event times of the file's lines, those of the source's form (a first reading, for the file's
    event-time reference; what cannot be read is left to read_landing_file)."""
    times: list[str] = []
    try:
        with _open(path) as stream:
            for line, _ in _physical_lines(stream):
                first = line.split(b",", 1)[0].removeprefix(UTF8_BOM)
                if _EVENT_TIME.fullmatch(first):
                    times.append(first.decode())
    except (OSError, EOFError, zlib.error):
        pass
    return times


def read_landing_file(
    path: Path, counts: FileCounts, event_time_limit: str | None = None
) -> Iterator[RawEvent | DeadLetter]:
    """The file's events and dead letters in line order; `counts` is kept up to date as it goes. Each event
    record carries `event_time_limit` (see event_time.py)."""
    name = path.name

    def dead(line_number: int | None, reason: str, detail: str, raw: str) -> DeadLetter:
        counts.dead_letters += 1
        counts.reasons[reason] = counts.reasons.get(reason, 0) + 1
        return DeadLetter(name, line_number, reason, detail, raw)

    try:
        with _open(path) as stream:
            for number, (line, too_long) in enumerate(_physical_lines(stream), start=1):
                counts.lines = number
                if number == 1 and line.startswith(UTF8_BOM):
                    line = line[len(UTF8_BOM) :]
                if too_long:
                    yield dead(
                        number, "line_too_long", f"longer than {MAX_LINE_BYTES} bytes", _raw_text(line)
                    )
                    continue
                if not line.strip():
                    counts.blank_lines += 1
                    continue
                try:
                    text = line.decode("utf-8")
                except UnicodeDecodeError as error:
                    yield dead(
                        number,
                        "bad_encoding",
                        f"not UTF-8: {error.reason} at byte {error.start}",
                        _raw_text(line),
                    )
                    continue
                if number == 1 and text.strip() == CSV_HEADER:
                    counts.header_lines += 1
                    continue
                item = _parse_line(name, number, text, event_time_limit)
                if isinstance(item, RawEvent):
                    counts.events += 1
                    yield item
                elif number == 1:
                    yield dead(number, "bad_header", f"expected header {CSV_HEADER!r}", text[:MAX_RAW_CHARS])
                else:
                    yield dead(number, *item, text[:MAX_RAW_CHARS])
    except (OSError, EOFError, zlib.error) as error:
        yield dead(None, "unreadable_file", f"{type(error).__name__}: {error} after line {counts.lines}", "")


def _parse_line(
    source_file: str, number: int, text: str, event_time_limit: str | None
) -> RawEvent | tuple[str, str]:
    """The raw event of a data line, or (reason, detail) of why it is not one."""
    try:
        fields = next(csv.reader([text], strict=True))
    except csv.Error as error:
        return "bad_csv", str(error)
    if len(fields) != len(CSV_COLUMNS):
        return "wrong_column_count", f"{len(fields)} columns, expected {len(CSV_COLUMNS)}"
    row: dict[str, str | None] = {
        column: (value if value != "" else None) for column, value in zip(CSV_COLUMNS, fields, strict=True)
    }
    found = violations(row, _FORMAT_ONLY)
    if found:
        return found[0].rule.reason, "; ".join(violation.detail for violation in found)
    record: dict[str, object] = {
        EVENT_ID: event_id(source_file, number),
        SOURCE_FILE: source_file,
        SOURCE_LINE: number,
        **row,
    }
    if event_time_limit is not None:
        record[EVENT_TIME_LIMIT] = event_time_limit
    # One session's events share a partition, so they stay in order.
    key = row["user_session"] or f"user:{row['user_id']}"
    return RawEvent(number, key.encode(), json.dumps(record, separators=(",", ":")).encode())
