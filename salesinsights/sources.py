"""Source slices: the CSV lines of the events in a half-open interval of time, from the generator or from the
original data set's files.

A line's place in time is its event_time; a line whose event_time cannot be read takes the time of the last
readable line before it (the first readable one, at the head of a file), and a line that goes back in time
keeps the time reached before it. This "effective time" never decreases along a file, so every line falls
in exactly one slice of any partition of time, and none is ever dropped: the producer dead-letters the
unreadable ones.

The original monthly files hold 4 M rows each, so a slice must not re-read a month. The first slice of a
file builds a small index (the byte offset and first time of each hour in the file, ~750 entries for a
month) and keeps it as JSON under `<data>/source_index/`, named by the file's path, size and modification
time, so a changed file gets a new index. A slice then seeks to the hour in which it starts and reads until
its end. Offsets in a .gz file count uncompressed bytes: seeking there still decompresses (without parsing)
everything before it, so plain CSV files slice faster.
"""

from __future__ import annotations

import bisect
import gzip
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from io import BufferedReader
from pathlib import Path

from salesinsights.files import write_json_atomically
from salesinsights.generator import generate_lines
from salesinsights.schema import CSV_HEADER
from salesinsights.settings import SourceSettings, get_settings

_TIME_TEXT = "%Y-%m-%d %H:%M:%S"
# The event_time field as the original files write it, followed by the end of the field.
_EVENT_TIME = re.compile(rb"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC(?:,|\r?\n?$)")
_HOUR = 13  # characters of "YYYY-MM-DD HH"
_INDEX_VERSION = 1


def slice_lines(
    source: SourceSettings, start: datetime, end: datetime, index_dir: Path | None = None
) -> Iterator[str]:
    """The CSV data lines (original text, no newline) of the events with start <= event_time < end, in
    source order. Naive datetimes are taken as UTC; `index_dir` defaults to <data>/source_index."""
    low, high = _time_key(start), _time_key(end)
    if low >= high:
        return iter(())
    if source.kind == "synthetic":
        return _synthetic_lines(source, low, high)
    index_dir = index_dir or get_settings().data / "source_index"
    return _file_lines(_csv_files(source.csv_paths), low, high, index_dir)


def _time_key(moment: datetime) -> str:
    """The moment as event_time text without " UTC", rounded up to the second: event times are whole
    seconds, so `time >= moment` holds exactly when `time >= key`, and likewise for `<`."""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if moment.microsecond:
        moment += timedelta(microseconds=1_000_000 - moment.microsecond)
    return moment.strftime(_TIME_TEXT)


def _line_time(line: str) -> str:
    return line[:19]


# --- Synthetic ---------------------------------------------------------------------------------------------


def _synthetic_lines(source: SourceSettings, low: str, high: str) -> Iterator[str]:
    """The generated days the interval touches, within the source's date range, cut to the interval."""
    first = max(date.fromisoformat(low[:10]), source.start)
    # Both ends are exclusive: an interval ending at midnight does not touch that day.
    last_second = datetime.strptime(high, _TIME_TEXT) - timedelta(seconds=1)
    last = min(last_second.date(), source.end - timedelta(days=1))
    day = first
    while day <= last:
        lines = generate_lines(day, source.seed, source.scale)
        begin = bisect.bisect_left(lines, low, key=_line_time)
        stop = bisect.bisect_left(lines, high, key=_line_time)
        yield from lines[begin:stop]
        day += timedelta(days=1)


# --- CSV files ---------------------------------------------------------------------------------------------


def _csv_files(patterns: list[str]) -> list[Path]:
    """The files that csv_paths names, in the order given, globs expanded in name order."""
    files: list[Path] = []
    for pattern in patterns:
        path = Path(pattern).expanduser()
        if any(character in pattern for character in "*?["):
            base = Path(path.anchor) if path.is_absolute() else Path()
            matches = sorted(match for match in base.glob(str(path.relative_to(base))) if match.is_file())
        elif path.is_file():
            matches = [path]
        else:
            raise FileNotFoundError(f"source file not found: {path}")
        files.extend(match for match in matches if match not in files)
    if not files:
        raise FileNotFoundError(f"source kind is 'csv' but csv_paths matches no file: {patterns}")
    return files


@dataclass(frozen=True)
class _HourEntry:
    hour: str  # "YYYY-MM-DD HH"
    offset: int  # of the hour's first line, in the (uncompressed) file
    first_time: str  # effective time of that line


@dataclass(frozen=True)
class _FileIndex:
    path: Path
    hours: list[_HourEntry]

    @property
    def first_time(self) -> str:
        return self.hours[0].first_time

    @property
    def last_hour(self) -> str:
        return self.hours[-1].hour


def _open_binary(path: Path) -> gzip.GzipFile | BufferedReader:
    return gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")


@lru_cache(maxsize=1024)
def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _readable_time(line: bytes) -> str | None:
    """The event_time of a line as "YYYY-MM-DD HH:MM:SS", or None where the producer could not read it.

    The same verdict as strptime with the files' format, several times faster."""
    match = _EVENT_TIME.match(line)
    if not match:
        return None
    text = match.group(1).decode()
    in_range = text[11:13] < "24" and text[14:16] < "60" and text[17:19] < "60"
    return text if in_range and _is_date(text[:10]) else None


def _check_header(path: Path, line: bytes) -> None:
    found = line.decode("utf-8", errors="replace").rstrip("\r\n").removeprefix("\ufeff")
    if found != CSV_HEADER:
        raise ValueError(f"{path}: the first line is not the expected header {CSV_HEADER!r}: {found[:200]!r}")


def _build_index(path: Path) -> list[_HourEntry]:
    hours: list[_HourEntry] = []
    with _open_binary(path) as stream:
        header = stream.readline()
        _check_header(path, header)
        offset = data_start = len(header)
        hour_reached = b""
        for line in stream:
            # Only a line that seems to start a later hour is worth parsing; most lines are skipped here.
            if line[:_HOUR] > hour_reached and (time := _readable_time(line)) is not None:
                # Unreadable lines before the first readable one belong to the first hour.
                hours.append(_HourEntry(time[:_HOUR], offset if hours else data_start, time))
                hour_reached = time[:_HOUR].encode()
            offset += len(line)
    if offset > data_start and not hours:
        raise ValueError(f"{path}: no line has a readable event_time, so its lines cannot be placed in time")
    return hours


def _index_file(path: Path, index_dir: Path) -> Path:
    status = path.stat()
    identity = f"{path.resolve()}|{status.st_size}|{status.st_mtime_ns}|{_INDEX_VERSION}"
    return index_dir / f"{path.name}.{hashlib.sha256(identity.encode()).hexdigest()[:16]}.json"


def _file_index(path: Path, index_dir: Path) -> _FileIndex:
    """The file's hour index, from the cache when the file is unchanged, else built and cached."""
    cached = _index_file(path, index_dir)
    if cached.is_file():
        return _FileIndex(path, [_HourEntry(*entry) for entry in json.loads(cached.read_text())["hours"]])
    hours = _build_index(path)
    content = {"path": str(path.resolve()), "hours": [[e.hour, e.offset, e.first_time] for e in hours]}
    write_json_atomically(cached, content)
    return _FileIndex(path, hours)


def _file_lines(files: list[Path], low: str, high: str, index_dir: Path) -> Iterator[str]:
    indexes = [index for index in (_file_index(path, index_dir) for path in files) if index.hours]
    # Files in time order, whatever their names (2019-Dec sorts before 2019-Nov).
    for index in sorted(indexes, key=lambda index: index.first_time):
        if index.first_time >= high or index.last_hour < low[:_HOUR]:
            continue
        yield from _lines_between(index, low, high)


def _lines_between(index: _FileIndex, low: str, high: str) -> Iterator[str]:
    hour_keys = [entry.hour for entry in index.hours]
    # Start in the hour of `low`; when the file has no line in that hour, at the next hour it has (the
    # lines of an earlier hour all come before `low`).
    position = bisect.bisect_left(hour_keys, low[:_HOUR])
    if position == len(hour_keys) or index.hours[position].first_time >= high:
        return
    entry = index.hours[position]
    reached = entry.first_time
    with _open_binary(index.path) as stream:
        stream.seek(entry.offset)
        for line in stream:
            time = _readable_time(line)
            if time is not None and time > reached:
                reached = time
            if reached >= high:
                return
            if reached >= low:
                yield line.decode("utf-8", errors="replace").rstrip("\r\n")
