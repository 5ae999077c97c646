"""Source slices: exactly the lines of an interval, from the generator or from the original CSV files, with
unreadable lines kept in place and never dropped."""

from __future__ import annotations

import gzip
import itertools
import os
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from salesinsights.generator import generate_lines
from salesinsights.schema import CSV_HEADER
from salesinsights.settings import SourceSettings
from salesinsights.sources import slice_lines
from tests.real_sample import MAIN_SAMPLE, NOVEMBER_SAMPLE, data_lines, events_frame, real_sample


def csv_source(*paths: Path | str) -> SourceSettings:
    return SourceSettings(kind="csv", csv_paths=[str(path) for path in paths])


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def expected_between(lines: list[str], start: datetime, end: datetime) -> list[str]:
    """The pandas reading of the same question: the lines whose event_time lies in [start, end)."""
    times = pd.to_datetime(events_frame(lines)["event_time"], format="%Y-%m-%d %H:%M:%S UTC", utc=True)
    inside = (times >= pd.Timestamp(start)) & (times < pd.Timestamp(end))
    return [line for line, keep in zip(lines, inside, strict=True) if keep]


def write_csv(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join([CSV_HEADER, *lines]) + "\n")
    return path


def test_an_hour_of_the_real_file_is_exactly_its_rows(tmp_path: Path) -> None:
    sample = real_sample(MAIN_SAMPLE)
    start, end = at("2019-10-01 05:00:00"), at("2019-10-01 06:00:00")
    got = list(slice_lines(csv_source(sample), start, end, index_dir=tmp_path))
    assert got == expected_between(data_lines(sample), start, end)
    assert len(got) > 4_000


def test_files_are_read_in_time_order_and_a_slice_may_span_them(tmp_path: Path) -> None:
    october_and_december, november = real_sample(MAIN_SAMPLE), real_sample(NOVEMBER_SAMPLE)
    start, end = at("2019-10-31 23:30:00"), at("2019-11-01 00:30:00")
    # Named in the wrong order on purpose: files are ordered by their first event.
    got = list(slice_lines(csv_source(november, october_and_december), start, end, index_dir=tmp_path))
    expected = [
        *expected_between(data_lines(october_and_december), start, end),
        *expected_between(data_lines(november), start, end),
    ]
    assert got == expected
    assert got[0].startswith("2019-10-31 23:30") and got[-1].startswith("2019-11-01 00:29")


def test_hour_slices_of_a_plain_file_partition_it(tmp_path: Path) -> None:
    lines = data_lines(real_sample(MAIN_SAMPLE))
    plain = write_csv(tmp_path / "2019-Oct.csv", lines)
    source = csv_source(tmp_path / "*.csv")
    hours = pd.date_range("2019-10-01", "2020-01-01", freq="h", tz=UTC).to_pydatetime()
    pieces = [
        list(slice_lines(source, start, end, index_dir=tmp_path / "index"))
        for start, end in itertools.pairwise(hours)
    ]
    assert [line for piece in pieces for line in piece] == lines
    assert len(list((tmp_path / "index").iterdir())) == 1
    assert plain.is_file()


def test_the_index_is_reused_until_the_file_changes(tmp_path: Path) -> None:
    day = [f"2019-10-01 {hour:02d}:00:00 UTC,view,1,2,,,1.0,3,s" for hour in range(24)]
    path = write_csv(tmp_path / "day.csv", day)
    index_dir = tmp_path / "index"
    start, end = at("2019-10-01 05:00:00"), at("2019-10-01 07:00:00")
    assert list(slice_lines(csv_source(path), start, end, index_dir=index_dir)) == day[5:7]
    (index_file,) = index_dir.iterdir()
    built = index_file.stat().st_mtime_ns
    assert list(slice_lines(csv_source(path), start, end, index_dir=index_dir)) == day[5:7]
    assert index_file.stat().st_mtime_ns == built

    changed = [line.replace(",view,", ",cart,") for line in day]
    write_csv(path, changed)
    os.utime(path, ns=(built + 10**9, built + 10**9))
    assert list(slice_lines(csv_source(path), start, end, index_dir=index_dir)) == changed[5:7]
    assert len(list(index_dir.iterdir())) == 2


def test_unreadable_lines_stay_where_the_file_puts_them(tmp_path: Path) -> None:
    lines = [
        "garbage before any time",
        "2019-10-01 00:10:00 UTC,view,1,2,,,1.0,3,s",
        "2019-10-01 00:59:59 UTC,view,1,2,,,1.0,3,s",
        "2019-13-01 01:30:00 UTC,view,1,2,,,1.0,3,s",  # no 13th month
        "",
        "2019-10-01 01:05:00 UTC,cart,1,2,,,1.0,3,s",
        "2019-10-01 00:50:00 UTC,cart,1,2,,,1.0,3,s",  # back in time: stays after 01:05
        "not,a,row",
        "2019-10-01 02:00:00 UTC,purchase,1,2,,,1.0,3,s\r",
    ]
    path = tmp_path / "events.csv.gz"
    with gzip.open(path, "wt") as stream:
        stream.write("\n".join([CSV_HEADER, *lines]) + "\n")
    source, index_dir = csv_source(path), tmp_path / "index"
    first, second, third = (
        list(
            slice_lines(
                source, at(f"2019-10-01 0{hour}:00:00"), at(f"2019-10-01 0{hour + 1}:00:00"), index_dir
            )
        )
        for hour in range(3)
    )
    assert first == lines[:5]
    assert second == lines[5:8]
    assert third == [lines[8].rstrip("\r")]


def test_csv_sources_fail_clearly(tmp_path: Path) -> None:
    some_time = at("2019-10-01 00:00:00"), at("2019-10-02 00:00:00")
    with pytest.raises(FileNotFoundError, match="matches no file"):
        list(slice_lines(csv_source(tmp_path / "*.csv"), *some_time, index_dir=tmp_path))
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path / "missing.csv"))):
        list(slice_lines(csv_source(tmp_path / "missing.csv"), *some_time, index_dir=tmp_path))
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("time,type\n2019-10-01 00:00:00 UTC,view\n")
    with pytest.raises(ValueError, match=re.escape(str(wrong))):
        list(slice_lines(csv_source(wrong), *some_time, index_dir=tmp_path))


def synthetic(scale: float = 0.02) -> SourceSettings:
    return SourceSettings(
        kind="synthetic", seed=11, scale=scale, start=date(2019, 10, 1), end=date(2019, 10, 4)
    )


def test_a_synthetic_half_day_is_the_filtered_day() -> None:
    day = date(2019, 10, 2)
    lines = generate_lines(day, 11, 0.02)
    start, end = at("2019-10-02 06:00:00"), at("2019-10-02 18:00:00")
    assert list(slice_lines(synthetic(), start, end)) == expected_between(lines, start, end)


def test_a_synthetic_slice_spans_days_within_the_source_range() -> None:
    start = at("2019-10-03 23:00:00")
    spanning = list(slice_lines(synthetic(), start, start + timedelta(hours=2)))
    assert spanning == expected_between(
        generate_lines(date(2019, 10, 3), 11, 0.02), start, start + timedelta(hours=1)
    )
    # The source ends with 3 October; sub-second bounds round up to whole seconds.
    assert list(slice_lines(synthetic(), at("2019-10-04 00:00:00"), at("2019-10-05 00:00:00"))) == []
    late = datetime(2019, 10, 1, 23, 59, 58, 500_000, tzinfo=UTC)
    tail = list(slice_lines(synthetic(), late, late + timedelta(seconds=1)))
    assert all(line.startswith("2019-10-01 23:59:59") for line in tail)
