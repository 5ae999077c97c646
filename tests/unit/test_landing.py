"""The file drop: atomic, deterministic, idempotent, and a ledger that gives each DAG run its own slice."""

from __future__ import annotations

import gzip
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from salesinsights.landing import (
    LEDGER_NAME,
    DropResult,
    SliceOverlapError,
    SourceSlice,
    drop_next_slice,
    drop_range,
    drop_slice,
    source_slices,
)
from salesinsights.schema import CSV_HEADER
from salesinsights.settings import DropSettings, Settings, SourceSettings

DAY_2 = SourceSlice(datetime(2019, 10, 2, tzinfo=UTC), datetime(2019, 10, 3, tzinfo=UTC))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    source = SourceSettings(scale=0.01, start=date(2019, 10, 1), end=date(2019, 10, 4))
    return Settings(data_dir=tmp_path / "data", source=source)


def test_a_slice_lands_atomically_with_header_and_rows_of_its_interval(settings: Settings) -> None:
    day = SourceSlice(datetime(2019, 10, 2, tzinfo=UTC), datetime(2019, 10, 3, tzinfo=UTC))
    result = drop_slice(settings, day)
    assert result.status == "written"
    assert result.path == settings.landing_dir / "events_20191002T000000_20191003T000000.csv.gz"
    lines = gzip.decompress(result.path.read_bytes()).decode().splitlines()
    assert lines[0] == CSV_HEADER
    assert len(lines) - 1 == result.rows > 0
    assert all(line.startswith("2019-10-02 ") for line in lines[1:])
    assert [path.name for path in settings.landing_dir.iterdir()] == [result.path.name]  # no temporary left


def test_dropping_again_is_recognised_in_landing_and_in_archive(settings: Settings) -> None:
    day = SourceSlice(datetime(2019, 10, 2, tzinfo=UTC), datetime(2019, 10, 3, tzinfo=UTC))
    first = drop_slice(settings, day)
    content = first.path.read_bytes()
    assert drop_slice(settings, day).status == "already_landed"
    settings.produced_dir.mkdir(parents=True)
    first.path.replace(settings.produced_dir / first.path.name)
    again = drop_slice(settings, day)
    assert again.status == "already_landed" and again.rows == first.rows
    assert not list(settings.landing_dir.iterdir())
    # And written anew elsewhere, it has the very same bytes (gzip without a timestamp).
    other = settings.model_copy(update={"data_dir": settings.data / "other"})
    assert drop_slice(other, day).path.read_bytes() == content


def test_each_run_takes_the_next_slice_and_a_rerun_its_own(settings: Settings) -> None:
    first = drop_next_slice(settings, "scheduled__1")
    second = drop_next_slice(settings, "scheduled__2")
    assert first is not None and second is not None
    assert first.source_slice.start == datetime(2019, 10, 1, tzinfo=UTC)
    assert second.source_slice.start == datetime(2019, 10, 2, tzinfo=UTC)
    rerun = drop_next_slice(settings, "scheduled__1")
    assert rerun is not None and rerun.source_slice == first.source_slice and rerun.status == "already_landed"
    assert drop_next_slice(settings, "scheduled__3") is not None
    assert drop_next_slice(settings, "scheduled__4") is None  # the source ends on 2019-10-04


def test_replay_range_drops_aligned_slices(settings: Settings) -> None:
    hourly = settings.model_copy(update={"drop": DropSettings(slice=timedelta(hours=6))})
    results = drop_range(hourly, date(2019, 10, 2), date(2019, 10, 2))
    assert [result.source_slice.start.hour for result in results] == [0, 6, 12, 18]
    assert all(result.status == "written" for result in results)
    assert [r.status for r in drop_range(hourly, date(2019, 10, 2), date(2019, 10, 2))] == [
        "already_landed"
    ] * 4
    with pytest.raises(ValueError, match="ends"):
        drop_range(hourly, date(2019, 10, 3), date(2019, 10, 2))


def test_source_slices_stay_within_the_source(settings: Settings) -> None:
    slices = list(source_slices(settings, date(2019, 9, 1), date(2020, 1, 1)))
    assert [s.start.day for s in slices] == [1, 2, 3]
    assert slices[-1].end == datetime(2019, 10, 4, tzinfo=UTC)


def lines_of(results: list[DropResult]) -> list[str]:
    return [
        line
        for result in results
        for line in gzip.decompress(result.path.read_bytes()).decode().splitlines()[1:]
    ]


def test_a_new_slice_length_goes_on_where_the_last_run_ended_and_never_drops_time_twice(
    settings: Settings,
) -> None:
    daily = [drop_next_slice(settings, f"scheduled__{n}") for n in (1, 2)]
    six_hours = settings.model_copy(update={"drop": DropSettings(slice=timedelta(hours=6))})
    third = drop_next_slice(six_hours, "scheduled__3")
    assert third is not None and third.source_slice == SourceSlice(
        datetime(2019, 10, 3, tzinfo=UTC), datetime(2019, 10, 3, 6, tzinfo=UTC)
    )
    # A re-run of a day-long run under the new length drops its own day again, which changes nothing.
    rerun = drop_next_slice(six_hours, "scheduled__1")
    assert rerun is not None and daily[0] is not None
    assert (rerun.source_slice, rerun.status) == (daily[0].source_slice, "already_landed")
    # A replay in six-hour slices of days dropped whole finds nothing to drop...
    replay = drop_range(six_hours, date(2019, 10, 1), date(2019, 10, 2))
    assert {result.status for result in replay} == {"already_dropped"}
    # ...and a direct drop of one is refused, saying which file holds its time.
    with pytest.raises(SliceOverlapError, match=re.escape("events_20191002T000000_20191003T000000.csv.gz")):
        drop_slice(
            six_hours,
            SourceSlice(datetime(2019, 10, 2, 6, tzinfo=UTC), datetime(2019, 10, 2, 12, tzinfo=UTC)),
        )
    assert len(list(settings.landing_dir.iterdir())) == 3


def test_a_replay_drops_only_the_source_time_that_no_file_holds(settings: Settings, tmp_path: Path) -> None:
    six_hours = settings.model_copy(update={"drop": DropSettings(slice=timedelta(hours=6))})
    morning = SourceSlice(datetime(2019, 10, 2, 6, tzinfo=UTC), datetime(2019, 10, 2, 12, tzinfo=UTC))
    landed = drop_slice(six_hours, morning)
    settings.produced_dir.mkdir(parents=True)
    landed.path.replace(settings.produced_dir / landed.path.name)  # produced and archived: still known
    held = drop_slice(six_hours, morning)
    assert held.status == "already_landed" and held.path.parent == settings.produced_dir
    replay = drop_range(settings, date(2019, 10, 2), date(2019, 10, 2))
    assert [(r.source_slice.start.hour, r.source_slice.end.hour, r.status) for r in replay] == [
        (0, 6, "written"),
        (12, 0, "written"),
    ]
    whole_day = drop_slice(settings.model_copy(update={"data_dir": tmp_path / "other"}), DAY_2)
    assert sorted(lines_of([held, *replay])) == sorted(lines_of([whole_day]))  # every line once
    # Switching compression changes every file name: the same slices are not dropped again.
    plain = settings.model_copy(update={"drop": DropSettings(compress=False)})
    assert [r.status for r in drop_range(plain, date(2019, 10, 2), date(2019, 10, 2))] == ["already_dropped"]


def test_scheduled_runs_go_around_source_time_that_a_replay_dropped(settings: Settings) -> None:
    six_hours = settings.model_copy(update={"drop": DropSettings(slice=timedelta(hours=6))})
    drop_slice(
        six_hours, SourceSlice(datetime(2019, 10, 1, 6, tzinfo=UTC), datetime(2019, 10, 1, 12, tzinfo=UTC))
    )
    runs = [drop_next_slice(settings, f"scheduled__{n}") for n in range(4)]
    spans = [(run.source_slice.start, run.source_slice.end, run.status) for run in runs if run is not None]
    hour = [datetime(2019, 10, 1, h, tzinfo=UTC) for h in (0, 6, 12)]
    assert spans == [
        (hour[0], hour[1], "written"),
        (hour[2], hour[2] + timedelta(hours=18), "written"),  # the next day's slice, from the end of the held
        (hour[2] + timedelta(hours=18), hour[2] + timedelta(days=1, hours=18), "written"),
        (hour[2] + timedelta(days=1, hours=18), datetime(2019, 10, 4, tzinfo=UTC), "written"),
    ]
    assert drop_next_slice(settings, "scheduled__4") is None


def test_a_ledger_of_an_earlier_release_is_read(settings: Settings) -> None:
    settings.data.mkdir(parents=True)
    (settings.data / LEDGER_NAME).write_text(json.dumps({"scheduled__1": "2019-10-01T00:00:00+00:00"}))
    rerun = drop_next_slice(settings, "scheduled__1")
    following = drop_next_slice(settings, "scheduled__2")
    assert rerun is not None and following is not None
    assert rerun.source_slice.start == datetime(2019, 10, 1, tzinfo=UTC)
    assert following.source_slice.start == datetime(2019, 10, 2, tzinfo=UTC)
