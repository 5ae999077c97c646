"""The minute-level file drop: source slices written into the landing folder, atomically and idempotently.

A slice is a half-open interval of source time. Its file name is a function of the interval alone, and its
bytes of the source alone (gzip without a timestamp), so dropping a slice again yields the same file; the
producer recognises a file it has already produced and adds nothing.

A small ledger (drop_ledger.py) keeps which slice each DAG run took, so that a re-run drops the same one, and
which source time every dropped file holds, so that no source time is dropped under two names (two sets of
event ids) when the slice length or the compression changes: a slice is cut to the time no other file holds.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from time import monotonic as time_now
from time import sleep

from salesinsights.drop_ledger import DropLedger, SourceSlice
from salesinsights.locks import taken_in_turn
from salesinsights.schema import CSV_HEADER
from salesinsights.settings import Settings
from salesinsights.sources import slice_lines

TEMP_PREFIX = ".tmp-"
LEDGER_NAME = "file_drop_ledger.json"
LEDGER_LOCK = "file_drop_ledger"


@dataclass(frozen=True)
class DropResult:
    source_slice: SourceSlice
    path: Path
    rows: int
    # "written": new in landing; "already_landed": the same file waits in landing or among the produced files.
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


class SliceOverlapError(ValueError):
    """The slice holds source time that a file of another name already holds."""


def drop_slice(settings: Settings, source_slice: SourceSlice) -> DropResult:
    """Write one slice into the landing folder (temporary name, then rename), unless it has landed already.
    Refuses a slice whose source time another file already holds (SliceOverlapError)."""
    name = source_slice.file_name(settings.drop.compress)
    with taken_in_turn(settings.run_dir, LEDGER_LOCK):
        ledger = _ledger(settings)
        if ledger.free_parts(source_slice, name) != [source_slice]:
            holders = ", ".join(ledger.holders(source_slice))
            raise SliceOverlapError(
                f"{name}: source time {source_slice.start:%Y-%m-%d %H:%M}..{source_slice.end:%Y-%m-%d %H:%M} "
                f"overlaps {holders}, already dropped; dropping it again under another name would give its "
                "events new ids (drop only what no file holds, or keep the slice length and compression it "
                "was dropped with)"
            )
        return _write_slice(settings, ledger, source_slice, name)


def _write_slice(settings: Settings, ledger: DropLedger, source_slice: SourceSlice, name: str) -> DropResult:
    settings.landing_dir.mkdir(parents=True, exist_ok=True)
    target = settings.landing_dir / name
    for existing in (target, settings.produced_dir / name):
        if existing.exists():
            return DropResult(source_slice, existing, _count_rows(existing), "already_landed")
    lines = slice_lines(settings.source, source_slice.start, source_slice.end, settings.data / "source_index")
    temporary = settings.landing_dir / f"{TEMP_PREFIX}{name}"
    rows = _write_csv(temporary, lines, settings.drop.compress)
    # Recorded before the file appears: a crash in between leaves a slice that may be dropped again under
    # the same name (the same bytes), never one that another name could take.
    ledger.files[name] = source_slice
    ledger.save()
    temporary.replace(target)
    return DropResult(source_slice, target, rows, "written")


@contextmanager
def drops_held(settings: Settings, produced_within_s: float = 120) -> Iterator[datetime | None]:
    """No slice lands while this is held (a drop under way finishes first), and every slice landed before has
    left the landing folder (produced; waited for up to `produced_within_s`). Gives the end of the newest
    source time landed (None before the first drop): the stream's own event-time clock. A file landed in the
    block at that time is behind no event produced before it and ahead of none produced after it (its name
    need not sort after the slices': there are none left to produce)."""
    with taken_in_turn(settings.run_dir, LEDGER_LOCK):
        ledger = _ledger(settings)
        deadline = time_now() + produced_within_s
        while any((settings.landing_dir / name).exists() for name in ledger.files) and time_now() < deadline:
            sleep(0.05)
        yield max((span.end for span in ledger.files.values()), default=None)


def _ledger(settings: Settings) -> DropLedger:
    return DropLedger.load(
        settings.data / LEDGER_NAME,
        (settings.landing_dir, settings.produced_dir, settings.rejected_dir),
        settings.drop.slice,
    )


def _drop_free_parts(settings: Settings, source_slice: SourceSlice) -> list[DropResult]:
    """The parts of the slice that no other file holds, each dropped as a slice of its own; a slice that
    other files hold whole is reported `already_dropped`."""
    name = source_slice.file_name(settings.drop.compress)
    with taken_in_turn(settings.run_dir, LEDGER_LOCK):
        ledger = _ledger(settings)
        parts = ledger.free_parts(source_slice, name)
        if not parts:
            holder = settings.landing_dir / ledger.holders(source_slice)[0]
            return [DropResult(source_slice, holder, 0, "already_dropped")]
        return [
            _write_slice(settings, ledger, part, part.file_name(settings.drop.compress)) for part in parts
        ]


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
    """The slice of a scheduled DAG run: its own from the ledger on a re-run, else the next one, from where
    the latest run's slice ended (whatever the slice length was then), cut to the source time that no other
    file holds. None when the whole source has been dropped."""
    source_end = _midnight(settings.source.end)
    with taken_in_turn(settings.run_dir, LEDGER_LOCK):
        ledger = _ledger(settings)
        if run_id in ledger.runs:
            source_slice = ledger.runs[run_id]
        else:
            start = ledger.next_scheduled(_midnight(settings.source.start))
            if start >= source_end:
                return None
            wanted = SourceSlice(start, min(start + settings.drop.slice, source_end))
            free = ledger.free_parts(wanted, wanted.file_name(settings.drop.compress))
            # The first free part (the next run starts where it ends); a slice that other files hold whole is
            # this run's, already dropped.
            source_slice = ledger.runs[run_id] = free[0] if free else wanted
            ledger.save()
    results = _drop_free_parts(settings, source_slice)
    return results[0]


def drop_range(settings: Settings, first: date, last: date) -> list[DropResult]:
    """Replay: every slice of the days first..last (inclusive), cut to the source time that no other file
    holds. Slices that landed before are not repeated."""
    if last < first:
        raise ValueError(f"replay range ends ({last}) before it starts ({first})")
    return [
        result
        for source_slice in source_slices(settings, first, last)
        for result in _drop_free_parts(settings, source_slice)
    ]
