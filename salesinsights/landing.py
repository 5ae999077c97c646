"""The minute-level file drop: source slices written into the landing folder, atomically and idempotently.

A slice is a half-open interval of source time. Its file name is a function of the interval alone, and its
bytes of the source alone (gzip without a timestamp), so dropping a slice again yields the same file; the
producer recognises a file it has already produced and adds nothing.

Which slice a DAG run drops is kept in a small ledger (run id → slice start): the first run takes the source's
first slice, each new run the next one, and a re-run of the same DAG run finds its slice in the ledger.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from salesinsights.schema import CSV_HEADER
from salesinsights.settings import Settings
from salesinsights.sources import slice_lines

FILE_PREFIX = "events_"
TEMP_PREFIX = ".tmp-"
LEDGER_NAME = "file_drop_ledger.json"


@dataclass(frozen=True)
class SourceSlice:
    start: datetime
    end: datetime

    def file_name(self, compress: bool) -> str:
        name = f"{FILE_PREFIX}{self.start:%Y%m%dT%H%M%S}_{self.end:%Y%m%dT%H%M%S}.csv"
        return name + ".gz" if compress else name


@dataclass(frozen=True)
class DropResult:
    source_slice: SourceSlice
    path: Path
    rows: int
    # "written": new in landing; "already_landed": the same file waits in landing or archive.
    status: str


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def source_slices(
    settings: Settings, first: date | None = None, last: date | None = None
) -> Iterator[SourceSlice]:
    """The source's slices from `first` (default: the source's start) up to the end of day `last`."""
    source_start = _midnight(settings.source.start)
    source_end = _midnight(settings.source.end)
    begin = max(_midnight(first), source_start) if first else source_start
    stop = min(_midnight(last + timedelta(days=1)), source_end) if last else source_end
    length = settings.drop.slice
    # Slices are aligned to the source's start so that any range maps onto the same files.
    start = source_start + ((begin - source_start) // length) * length
    while start < stop:
        yield SourceSlice(start, min(start + length, source_end))
        start += length


def drop_slice(settings: Settings, source_slice: SourceSlice) -> DropResult:
    """Write one slice into the landing folder (temporary name, then rename), unless it has landed already."""
    name = source_slice.file_name(settings.drop.compress)
    settings.landing_dir.mkdir(parents=True, exist_ok=True)
    target = settings.landing_dir / name
    for existing in (target, settings.archive_dir / name):
        if existing.exists():
            return DropResult(source_slice, existing, _count_rows(existing), "already_landed")
    lines = slice_lines(settings.source, source_slice.start, source_slice.end, settings.data / "source_index")
    temporary = settings.landing_dir / f"{TEMP_PREFIX}{name}"
    rows = _write_csv(temporary, lines, settings.drop.compress)
    temporary.replace(target)
    return DropResult(source_slice, target, rows, "written")


def _write_csv(path: Path, lines: Iterable[str], compress: bool) -> int:
    rows = 0
    with path.open("wb") as raw:
        # mtime=0 and no file name in the header: the same slice always has the same bytes.
        stream = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) if compress else raw
        with stream:
            stream.write(f"{CSV_HEADER}\n".encode())
            for line in lines:
                stream.write(f"{line}\n".encode())
                rows += 1
        raw.flush()
        os.fsync(raw.fileno())
    return rows


def _count_rows(path: Path) -> int:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as stream:
        return max(sum(1 for _ in stream) - 1, 0)


def drop_next_slice(settings: Settings, run_id: str) -> DropResult | None:
    """The slice of a scheduled DAG run: its own from the ledger on a re-run, else the next one.
    None when the whole source has been dropped."""
    ledger_path = settings.data / LEDGER_NAME
    ledger: dict[str, str] = json.loads(ledger_path.read_text()) if ledger_path.exists() else {}
    if run_id in ledger:
        start = datetime.fromisoformat(ledger[run_id])
    else:
        taken = [datetime.fromisoformat(value) for value in ledger.values()]
        start = max(taken) + settings.drop.slice if taken else _midnight(settings.source.start)
    if start >= _midnight(settings.source.end):
        return None
    source_slice = SourceSlice(start, min(start + settings.drop.slice, _midnight(settings.source.end)))
    if run_id not in ledger:
        ledger[run_id] = start.isoformat()
        _write_json_atomically(ledger_path, ledger)
    return drop_slice(settings, source_slice)


def drop_range(settings: Settings, first: date, last: date) -> list[DropResult]:
    """Replay: every slice of the days first..last (inclusive). Slices that landed before are not repeated."""
    if last < first:
        raise ValueError(f"replay range ends ({last}) before it starts ({first})")
    return [drop_slice(settings, source_slice) for source_slice in source_slices(settings, first, last)]


def _write_json_atomically(path: Path, value: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{TEMP_PREFIX}{path.name}")
    temporary.write_text(json.dumps(value, indent=1, sort_keys=True))
    temporary.replace(path)
