"""The file drop: atomic, deterministic, idempotent, and a ledger that gives each DAG run its own slice."""

from __future__ import annotations

import gzip
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from salesinsights.landing import SourceSlice, drop_next_slice, drop_range, drop_slice, source_slices
from salesinsights.schema import CSV_HEADER
from salesinsights.settings import DropSettings, Settings, SourceSettings


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
    settings.archive_dir.mkdir(parents=True)
    first.path.replace(settings.archive_dir / first.path.name)
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
