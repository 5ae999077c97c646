"""Which source time has been dropped, and under which file name.

An event's id hashes its file's name and line, so the same source time dropped twice under two names (after
the slice length or the compression changed) would enter the lake twice. The ledger remembers every dropped
slice, and knows too the slices whose files wait in the landing folder or lie in the archive; a new slice
is cut to the source time that no other file holds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from salesinsights.files import write_json_atomically

FILE_PREFIX = "events_"
SLICE_TIME = "%Y%m%dT%H%M%S"
_SLICE_NAME = re.compile(FILE_PREFIX + r"(\d{8}T\d{6})_(\d{8}T\d{6})\.csv(\.gz)?")


@dataclass(frozen=True, order=True)
class SourceSlice:
    """A half-open interval of source time, and the name of the file that holds it."""

    start: datetime
    end: datetime

    def file_name(self, compress: bool) -> str:
        name = f"{FILE_PREFIX}{self.start:{SLICE_TIME}}_{self.end:{SLICE_TIME}}.csv"
        return name + ".gz" if compress else name


def slice_of_file(name: str) -> SourceSlice | None:
    """The source time a dropped file holds, from its name (None for a file that is no source slice)."""
    match = _SLICE_NAME.fullmatch(name)
    if not match:
        return None
    start, end = (datetime.strptime(f"{text}+0000", f"{SLICE_TIME}%z") for text in match.groups()[:2])
    return SourceSlice(start, end)


def uncovered(span: SourceSlice, taken: Iterable[SourceSlice]) -> list[SourceSlice]:
    """The parts of `span` that none of the `taken` spans overlaps, in time order."""
    parts: list[SourceSlice] = []
    cursor = span.start
    for other in sorted(taken):
        if other.end <= cursor or other.start >= span.end:
            continue
        if other.start > cursor:
            parts.append(SourceSlice(cursor, other.start))
        cursor = max(cursor, other.end)
    if cursor < span.end:
        parts.append(SourceSlice(cursor, span.end))
    return parts


@dataclass
class DropLedger:
    """runs: a scheduled DAG run's slice (so that a re-run drops the same one); files: every dropped file's
    source time."""

    path: Path
    runs: dict[str, SourceSlice] = field(default_factory=dict)
    files: dict[str, SourceSlice] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, folders: Iterable[Path], slice_length: timedelta) -> DropLedger:
        ledger = cls(path)
        stored = json.loads(path.read_text()) if path.exists() else {}
        if stored and "runs" not in stored:
            # Written by an earlier release: run → slice start, the slice as long as the setting says now.
            stored = {"runs": {key: [start, None] for key, start in stored.items()}, "files": {}}
        for key, (start, end) in stored.get("runs", {}).items():
            begin = datetime.fromisoformat(start)
            ledger.runs[key] = SourceSlice(
                begin, datetime.fromisoformat(end) if end else begin + slice_length
            )
        for name, (start, end) in stored.get("files", {}).items():
            ledger.files[name] = SourceSlice(datetime.fromisoformat(start), datetime.fromisoformat(end))
        for folder in folders:
            for file in folder.iterdir() if folder.is_dir() else ():
                span = slice_of_file(file.name)
                if span is not None:
                    ledger.files.setdefault(file.name, span)
        return ledger

    def free_parts(self, span: SourceSlice, name: str) -> list[SourceSlice]:
        """The parts of `span` that no file of another name holds (the file `name` itself may be
        dropped again: the same name and bytes, the same event ids)."""
        return uncovered(span, (other for file, other in self.files.items() if file != name))

    def holders(self, span: SourceSlice) -> list[str]:
        """The files that hold some of `span`'s source time."""
        return sorted(
            name for name, other in self.files.items() if other.start < span.end and span.start < other.end
        )

    def next_scheduled(self, source_start: datetime) -> datetime:
        """Where the next scheduled run's slice starts: where the latest one ended."""
        return max((span.end for span in self.runs.values()), default=source_start)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        content = {
            "runs": {key: [span.start.isoformat(), span.end.isoformat()] for key, span in self.runs.items()},
            "files": {
                name: [span.start.isoformat(), span.end.isoformat()] for name, span in self.files.items()
            },
        }
        write_json_atomically(self.path, content, indent=1)
