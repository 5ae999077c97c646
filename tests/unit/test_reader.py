"""The producer's file reader on crafted files: every line ends up as an event, a dead letter, the header or
a counted blank line."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from salesinsights.producer.reader import (
    MAX_LINE_BYTES,
    DeadLetter,
    FileCounts,
    RawEvent,
    event_id,
    read_landing_file,
)
from salesinsights.schema import CSV_HEADER

GOOD = "2019-10-01 00:00:07 UTC,cart,5881589,2151191071051219817,,lovely,13.48,429681830,49e8d843-adf3"
GOOD_NO_SESSION = "2019-10-01 00:00:08 UTC,view,5881589,2151191071051219817,,,0,429681830,"


def read(path: Path) -> tuple[list[RawEvent], list[DeadLetter], FileCounts]:
    counts = FileCounts()
    items = list(read_landing_file(path, counts))
    return (
        [item for item in items if isinstance(item, RawEvent)],
        [item for item in items if isinstance(item, DeadLetter)],
        counts,
    )


def write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def test_good_rows_become_events_with_their_place_as_identity(tmp_path: Path) -> None:
    path = write(tmp_path / "day.csv", f"{CSV_HEADER}\n{GOOD}\n{GOOD}\n{GOOD_NO_SESSION}\n".encode())
    events, dead, counts = read(path)
    assert dead == []
    assert [event.line for event in events] == [2, 3, 4]
    records = [json.loads(event.value) for event in events]
    # Identical rows are several units: both stay, with different ids.
    assert records[0]["event_id"] == event_id("day.csv", 2) != records[1]["event_id"]
    assert records[0]["price"] == "13.48" and records[0]["category_code"] is None
    assert records[2]["user_session"] is None
    assert events[0].key == b"49e8d843-adf3"
    assert events[2].key == b"user:429681830"
    assert (counts.lines, counts.events, counts.header_lines) == (4, 3, 1)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("2019-10-01 00:00:07 UTC,cart,5881589", "wrong_column_count"),
        (GOOD + ",extra", "wrong_column_count"),
        (GOOD.replace("2019-10-01 00:00:07 UTC", "2019/10/01 00:00:07"), "bad_event_time"),
        (GOOD.replace("2019-10-01", "2019-02-30"), "bad_event_time"),
        (GOOD.replace("13.48", "13,48"), "wrong_column_count"),
        (GOOD.replace("13.48", "abc"), "bad_price"),
        (GOOD.replace("13.48", "NaN"), "bad_price"),
        (GOOD.replace("5881589", "58815.89"), "bad_product_id"),
        (GOOD.replace("429681830", "user42"), "bad_user_id"),
        ('2019-10-01 00:00:07 UTC,"cart,5881589', "bad_csv"),
    ],
)
def test_unreadable_rows_are_dead_lettered_with_reason_and_good_rows_kept(
    tmp_path: Path, line: str, reason: str
) -> None:
    path = write(tmp_path / "mixed.csv", f"{CSV_HEADER}\n{GOOD}\n{line}\n{GOOD}\n".encode())
    events, dead, counts = read(path)
    assert [event.line for event in events] == [2, 4]
    assert [(letter.line, letter.reason) for letter in dead] == [(3, reason)]
    assert dead[0].raw == line and dead[0].source_file == "mixed.csv"
    assert counts.reasons == {reason: 1}


def test_semantic_faults_pass_the_producer_for_the_streaming_job_to_quarantine(tmp_path: Path) -> None:
    unknown_type = GOOD.replace("cart", "refund")
    negative_price = GOOD.replace("13.48", "-1")
    path = write(tmp_path / "semantic.csv", f"{CSV_HEADER}\n{unknown_type}\n{negative_price}\n".encode())
    events, dead, _ = read(path)
    assert len(events) == 2 and dead == []


def test_crlf_bom_and_blank_lines(tmp_path: Path) -> None:
    content = f"\ufeff{CSV_HEADER}\r\n{GOOD}\r\n\r\n{GOOD}\r\n".encode()
    events, dead, counts = read(write(tmp_path / "windows.csv", content))
    assert len(events) == 2 and dead == []
    assert json.loads(events[0].value)["user_session"] == "49e8d843-adf3"
    assert (counts.blank_lines, counts.header_lines) == (1, 1)


def test_empty_and_header_only_files_yield_nothing(tmp_path: Path) -> None:
    for name, content in [("empty.csv", b""), ("header.csv", f"{CSV_HEADER}\n".encode())]:
        events, dead, counts = read(write(tmp_path / name, content))
        assert events == [] and dead == []
        assert counts.events == 0


def test_non_utf8_bytes_are_dead_lettered(tmp_path: Path) -> None:
    bad = GOOD.replace("lovely", "lov\xe9ly").encode("latin-1")
    events, dead, _ = read(write(tmp_path / "latin1.csv", f"{CSV_HEADER}\n".encode() + bad + b"\n"))
    assert events == []
    assert dead[0].reason == "bad_encoding" and "lov\\xe9ly" in dead[0].raw


def test_enormous_line_is_dead_lettered_without_reading_it_whole(tmp_path: Path) -> None:
    huge = "x" * (MAX_LINE_BYTES * 5)
    path = write(tmp_path / "huge.csv", f"{CSV_HEADER}\n{GOOD}\n{huge}\n{GOOD}\n".encode())
    events, dead, _ = read(path)
    assert [event.line for event in events] == [2, 4]
    assert [(letter.line, letter.reason) for letter in dead] == [(3, "line_too_long")]
    assert len(dead[0].raw) <= 2048


def test_wrong_delimiter_flags_header_and_every_row(tmp_path: Path) -> None:
    content = f"{CSV_HEADER.replace(',', ';')}\n{GOOD.replace(',', ';')}\n".encode()
    events, dead, _ = read(write(tmp_path / "semicolon.csv", content))
    assert events == []
    assert [letter.reason for letter in dead] == ["bad_header", "wrong_column_count"]


def test_truncated_last_line(tmp_path: Path) -> None:
    content = f"{CSV_HEADER}\n{GOOD}\n{GOOD[:30]}".encode()
    events, dead, _ = read(write(tmp_path / "cut.csv", content))
    assert len(events) == 1 and [letter.reason for letter in dead] == ["wrong_column_count"]


def test_gzip_is_read_and_corrupt_gzip_keeps_what_precedes_the_damage(tmp_path: Path) -> None:
    body = f"{CSV_HEADER}\n" + "".join(f"{GOOD}\n" for _ in range(5000))
    compressed = gzip.compress(body.encode(), mtime=0)
    events, dead, _ = read(write(tmp_path / "ok.csv.gz", compressed))
    assert len(events) == 5000 and dead == []

    events, dead, counts = read(write(tmp_path / "cut.csv.gz", compressed[: len(compressed) // 2]))
    assert 0 < len(events) < 5000
    assert [(letter.line, letter.reason) for letter in dead] == [(None, "unreadable_file")]
    assert counts.dead_letters == 1

    events, dead, _ = read(write(tmp_path / "garbage.csv.gz", b"this is not gzip at all"))
    assert events == [] and [letter.reason for letter in dead] == ["unreadable_file"]
