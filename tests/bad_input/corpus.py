"""The bad-input corpus: landing files of every kind of bad input, written by code, each line with the outcome
the platform must give it.

A line of a file the producer reads becomes exactly one of: a silver event (perhaps a late one), a quarantine
row with the rulebook's reason, a dead letter with the reader's reason, the header, or a counted blank line.
A file the producer does not read is rejected (one dead letter for the file, moved to data/rejected) or, for
hidden names, left alone: a name starting with "." is how a file is written before its atomic rename into
the landing folder (landing.TEMP_PREFIX), so the producer never reads one. Only regular files directly
inside the landing folder are read: a symlink (wherever it points), a directory or another suffix is
rejected, and a file name is never decoded into a path (the archive and rejected folders take it verbatim).

Phase 1 is dropped first; phase 2 after the stream has processed phase 1, so that its events are older than
the watermark (late) and its files meet names the producer has seen.
"""

from __future__ import annotations

import gzip
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from pathlib import Path

from salesinsights.generator import generate_lines
from salesinsights.producer.reader import MAX_LINE_BYTES
from salesinsights.schema import CSV_COLUMNS, CSV_HEADER

# Phase 1 events: late on their day, so that however the stream cuts them into micro-batches none of them is
# older than the watermark (the newest event less 10 minutes, 23:49:59 at most).
EVENT_DAY = date(2019, 10, 2)
ON_TIME = "2019-10-02 23:58:00 UTC"
# Phase 2: a day before everything of phase 1, far behind the watermark.
LATE_TIME = "2019-10-01 12:00:00 UTC"
FUTURE_TIME = "2099-01-01 00:00:00 UTC"


class Fate(Enum):
    PRODUCED = "produced"  # read line by line, archived
    REJECTED = "rejected"  # not read: one dead letter for the file, moved to data/rejected
    IGNORED = "ignored"  # hidden name: left in the landing folder by design
    ALREADY_PRODUCED = "already_produced"  # same name and bytes as a produced file: archived, adds nothing


class Kind(Enum):
    SILVER = "silver"
    LATE = "late"  # valid, kept in silver, counted in audit.stream_batches.late_events
    QUARANTINE = "quarantine"
    DEAD_LETTER = "dead_letter"
    HEADER = "header"
    BLANK = "blank"


@dataclass(frozen=True)
class Line:
    data: bytes  # the line's bytes without its end of line
    kind: Kind
    reason: str | None = None


@dataclass(frozen=True)
class Case:
    kind: str  # what is bad about it
    name: str  # the file's name in the landing folder
    fate: Fate = Fate.PRODUCED
    lines: tuple[Line, ...] = ()
    newline: bytes = b"\n"
    final_newline: bool = True
    prefix: bytes = b""  # bytes before the first line (a byte order mark)
    # Reason of the dead letter about the file as a whole (rejected, or unreadable after its readable lines).
    file_reason: str | None = None
    # Rows after a gzip's damage, which nobody can read; the file's dead letter stands for them.
    unreadable_rows: int = 0
    phase: int = 1
    write: Callable[[Path, Path, Case], None] | None = None  # for what is not a plain file

    def content(self) -> bytes:
        body = self.newline.join(line.data for line in self.lines)
        end = self.newline if self.lines and self.final_newline else b""
        return self.prefix + body + end

    def outcomes(self, kind: Kind) -> list[Line]:
        return [line for line in self.lines if line.kind is kind]

    def line_reasons(self, kind: Kind) -> Counter[tuple[str, int, str]]:
        """(file, line number, reason) of every line of this kind (quarantine or dead letter)."""
        return Counter(
            (self.name, number, line.reason or "")
            for number, line in enumerate(self.lines, start=1)
            if line.kind is kind
        )

    def expected_counts(self) -> dict[str, object]:
        """The producer's FileCounts of this file, as its files-done record carries them."""
        dead = [line.reason or "" for line in self.outcomes(Kind.DEAD_LETTER)]
        if self.file_reason:
            dead.append(self.file_reason)
        events = sum(len(self.outcomes(kind)) for kind in (Kind.SILVER, Kind.LATE, Kind.QUARANTINE))
        return {
            "lines": len(self.lines),
            "events": events,
            "dead_letters": len(dead),
            "blank_lines": len(self.outcomes(Kind.BLANK)),
            "header_lines": len(self.outcomes(Kind.HEADER)),
            "reasons": dict(sorted(Counter(dead).items())),
        }


def row(session: str, **fields: str) -> str:
    """A valid purchase line, with some fields changed."""
    values = {
        "event_time": ON_TIME,
        "event_type": "purchase",
        "product_id": "5881589",
        "category_id": "1487580005134238553",
        "category_code": "",
        "brand": "lovely",
        "price": "13.48",
        "user_id": "429681830",
        "user_session": session,
    } | fields
    return ",".join(values[column] for column in CSV_COLUMNS)


HEADER = Line(CSV_HEADER.encode(), Kind.HEADER)


def good(session: str, **fields: str) -> Line:
    return Line(row(session, **fields).encode(), Kind.SILVER)


def late(session: str, **fields: str) -> Line:
    return Line(row(session, event_time=LATE_TIME, **fields).encode(), Kind.LATE)


def quarantined(reason: str, session: str, **fields: str) -> Line:
    return Line(row(session, **fields).encode(), Kind.QUARANTINE, reason)


def dead(reason: str, text: str | bytes) -> Line:
    return Line(text if isinstance(text, bytes) else text.encode(), Kind.DEAD_LETTER, reason)


def with_good_neighbours(kind: str, *bad: Line, name: str | None = None) -> Case:
    """A file where the bad lines travel between good rows, which must arrive."""
    session = kind.replace(" ", "-")
    return Case(
        kind,
        name or f"events_{session}.csv",
        lines=(HEADER, good(f"{session}-a"), *bad, good(f"{session}-z")),
    )


# --- files that are not plain, good files ----------------------------------------------------------------


def _corrupt_gzip(landing: Path, _outside: Path, case: Case) -> None:
    """A readable gzip member with the case's lines, then a damaged one (its magic bytes overwritten)."""
    damaged = bytearray(
        gzip.compress(b"".join(row(f"unreadable-{n}").encode() + b"\n" for n in range(5)), mtime=0)
    )
    damaged[:2] = b"XX"
    (landing / case.name).write_bytes(gzip.compress(case.content(), mtime=0) + bytes(damaged))


def _plain_text_named_gz(landing: Path, _outside: Path, case: Case) -> None:
    (landing / case.name).write_text(f"{CSV_HEADER}\n{row('plain')}\n")


def _symlink_outside(landing: Path, outside: Path, case: Case) -> None:
    target = outside / "outside.csv"
    target.write_text(f"{CSV_HEADER}\n{row('outside')}\n")
    (landing / case.name).symlink_to(target)


def _directory(landing: Path, _outside: Path, case: Case) -> None:
    folder = landing / case.name
    folder.mkdir()
    (folder / "inner.csv").write_text(f"{CSV_HEADER}\n{row('inside-a-directory')}\n")


# --- the corpus ------------------------------------------------------------------------------------------


def _clean_day() -> Case:
    # Small enough that the corpus's bad rows are more than 1% of the day: the nightly must fail it.
    lines = generate_lines(EVENT_DAY, 7, 0.003)
    return Case(
        "clean generated day",
        "events_clean.csv",
        lines=(HEADER, *(Line(x.encode(), Kind.SILVER) for x in lines)),
    )


def cases() -> list[Case]:
    huge = "x" * (MAX_LINE_BYTES * 5)
    swapped = ",".join(["event_type", "event_time", *CSV_COLUMNS[2:]])
    no_header = (good("no-header-a"), good("no-header-b"))
    return [
        _clean_day(),
        # files
        Case("empty file", "events_empty.csv"),
        Case("header only", "events_header_only.csv", lines=(HEADER,)),
        Case(
            "truncated mid-line",
            "events_truncated.csv",
            lines=(HEADER, good("truncated"), dead("wrong_column_count", row("truncated-cut")[:40])),
            final_newline=False,
        ),
        Case(
            "CRLF line ends",
            "events_crlf.csv",
            lines=(HEADER, good("crlf-a"), good("crlf-b")),
            newline=b"\r\n",
        ),
        Case("UTF-8 byte order mark", "events_bom.csv", lines=(HEADER, good("bom")), prefix=b"\xef\xbb\xbf"),
        with_good_neighbours(
            "non-UTF-8 bytes", dead("bad_encoding", row("latin1", brand="lov\xe9ly").encode("latin-1"))
        ),
        Case(
            "corrupt gzip",
            "events_corrupt.csv.gz",
            lines=(HEADER, good("gzip-a"), good("gzip-b")),
            file_reason="unreadable_file",
            unreadable_rows=5,
            write=_corrupt_gzip,
        ),
        Case(
            "not gzip at all",
            "events_not_gzip.csv.gz",
            file_reason="unreadable_file",
            unreadable_rows=1,
            write=_plain_text_named_gz,
        ),
        Case(
            "wrong delimiter",
            "events_semicolons.csv",
            lines=(
                dead("bad_header", CSV_HEADER.replace(",", ";")),
                dead("wrong_column_count", row("semicolon-a").replace(",", ";")),
                dead("wrong_column_count", row("semicolon-b").replace(",", ";")),
            ),
        ),
        with_good_neighbours("extra column", dead("wrong_column_count", row("extra") + ",surplus")),
        with_good_neighbours("missing column", dead("wrong_column_count", row("missing").rsplit(",", 1)[0])),
        with_good_neighbours("one enormous line", dead("line_too_long", huge)),
        Case(
            "columns in another order",
            "events_swapped_columns.csv",
            lines=(
                dead("bad_header", swapped),
                dead("bad_event_time", row("swapped").replace(f"{ON_TIME},purchase", f"purchase,{ON_TIME}")),
            ),
        ),
        Case("no header", "events_no_header.csv", lines=no_header),
        with_good_neighbours("blank lines", Line(b"", Kind.BLANK), Line(b"   ", Kind.BLANK)),
        with_good_neighbours("broken CSV quoting", dead("bad_csv", f'{ON_TIME},"purchase,5881589')),
        # names: only regular files directly inside the landing folder are read
        Case(
            "symlink to a file outside landing",
            "events_link.csv",
            Fate.REJECTED,
            file_reason="unsupported_file",
            write=_symlink_outside,
        ),
        Case(
            "directory with a landing name",
            "events_directory.csv",
            Fate.REJECTED,
            file_reason="unsupported_file",
            write=_directory,
        ),
        Case(
            "other suffix",
            "events_notes.txt",
            Fate.REJECTED,
            file_reason="unsupported_file",
            lines=(HEADER, good("txt")),
        ),
        Case(
            "temporary name of an atomic write",
            ".tmp-events_partial.csv",
            Fate.IGNORED,
            lines=(HEADER, good("tmp")),
        ),
        Case("dot-dot name", "..events_escape.csv", Fate.IGNORED, lines=(HEADER, good("dotdot"))),
        Case(
            "encoded path traversal in the name",
            "events_..%2F..%2Fescape.csv",
            lines=(HEADER, good("traversal")),
        ),
        # rows the producer cannot read as events: dead letters
        with_good_neighbours(
            "bad timestamp formats",
            *(
                dead("bad_event_time", row(f"time-{n}", event_time=text))
                for n, text in enumerate(
                    [
                        "2019/10/02 23:58:00",
                        "2019-10-02T23:58:00Z",
                        "02.10.2019 23:58",
                        "2019-02-30 23:58:00 UTC",
                        "1570060680",
                    ]
                )
            ),
        ),
        with_good_neighbours(
            "non-numeric price",
            *(
                dead("bad_price", row(f"price-{n}", price=text))
                for n, text in enumerate(["abc", "NaN", '"12,50"', "1e3"])
            ),
        ),
        with_good_neighbours(
            "ids that are not integers",
            dead("bad_product_id", row("id-a", product_id="58815.89")),
            dead("bad_user_id", row("id-b", user_id="user42")),
            dead("bad_product_id", row("id-c", product_id="12345678901234567890")),
            dead("bad_user_id", row("id-d", user_id="9999999999999999999")),
        ),
        # rows that are events but break a rule: quarantine
        with_good_neighbours(
            "price out of range",
            quarantined("price_out_of_range", "neg-price", price="-2.50"),
            quarantined("price_out_of_range", "big-price", price="1000000.01"),
        ),
        with_good_neighbours(
            "unknown event_type", quarantined("unknown_event_type", "refund", event_type="refund")
        ),
        with_good_neighbours(
            "missing product_id", quarantined("missing_product_id", "no-product", product_id="")
        ),
        with_good_neighbours("missing user_id", quarantined("missing_user_id", "no-user", user_id="")),
        with_good_neighbours(
            "negative ids",
            quarantined("negative_id", "neg-product", product_id="-5881589"),
            quarantined("negative_id", "neg-user", user_id="-1"),
        ),
        with_good_neighbours(
            "missing required fields",
            quarantined("missing_event_time", "no-time", event_time=""),
            quarantined("missing_event_type", "no-type", event_type=""),
            quarantined("missing_price", "no-price", price=""),
        ),
        with_good_neighbours(
            "event from the future", quarantined("event_from_future", "future", event_time=FUTURE_TIME)
        ),
        # valid rows that look suspicious: kept
        with_good_neighbours("duplicate rows", good("dup"), good("dup"), good("dup")),
        Case(
            "events far older than the watermark",
            "events_late.csv",
            lines=(HEADER, late("late-a"), late("late-b", event_type="view")),
            phase=2,
        ),
        Case(
            "the same file dropped again",
            "events_no_header.csv",
            Fate.ALREADY_PRODUCED,
            lines=no_header,
            phase=2,
        ),
        Case(
            "a produced file's name with other content",
            "events_crlf.csv",
            Fate.REJECTED,
            file_reason="name_reused",
            lines=(HEADER, good("reused")),
            phase=2,
        ),
    ]


def write_phase(landing: Path, outside: Path, phase: int) -> list[Case]:
    """Writes the phase's cases into the landing folder; returns them."""
    landing.mkdir(parents=True, exist_ok=True)
    outside.mkdir(parents=True, exist_ok=True)
    written = [case for case in cases() if case.phase == phase]
    for case in written:
        if case.write is not None:
            case.write(landing, outside, case)
        else:
            (landing / case.name).write_bytes(case.content())
    return written


@dataclass
class Totals:
    """What the whole corpus must add up to."""

    lines: int = 0
    silver: Counter[str] = field(default_factory=Counter)  # per file
    late: int = 0
    quarantine: Counter[tuple[str, int, str]] = field(default_factory=Counter)
    dead_letters: Counter[tuple[str, int | None, str]] = field(default_factory=Counter)
    header_and_blank: int = 0


def totals(all_cases: list[Case]) -> Totals:
    result = Totals()
    for case in all_cases:
        if case.file_reason:
            result.dead_letters[(case.name, None, case.file_reason)] += 1
        if case.fate is not Fate.PRODUCED:
            continue
        result.lines += len(case.lines)
        result.silver[case.name] += len(case.outcomes(Kind.SILVER)) + len(case.outcomes(Kind.LATE))
        result.late += len(case.outcomes(Kind.LATE))
        result.quarantine += case.line_reasons(Kind.QUARANTINE)
        result.dead_letters += case.line_reasons(Kind.DEAD_LETTER)
        result.header_and_blank += len(case.outcomes(Kind.HEADER)) + len(case.outcomes(Kind.BLANK))
    return result
