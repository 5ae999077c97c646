"""The file_drop DAG through the real `airflow dags test` CLI, configured by scripts/airflow_env.sh.

Each test has its own data folder (and so its own Airflow home and SQLite metadata DB), a 1 % scale source,
and never touches a developer's running Airflow or data/."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

import pytest

from salesinsights.platform.airflow_env import db_clean_arguments
from salesinsights.schema import CSV_HEADER
from salesinsights.settings import ServiceSettings, Settings
from tests.support import REPO

SCALE = "0.01"
FIRST_SLICE = "events_20191001T000000_20191002T000000.csv.gz"

AirflowCli = Callable[..., subprocess.CompletedProcess[str]]


def _test_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """The caller's environment without any SalesInsights or Airflow configuration, then the test's own."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SALESINSIGHTS_", "SI_", "AIRFLOW_", "AIRFLOW__"))
    }
    env |= {"SALESINSIGHTS_DATA_DIR": str(data_dir), "SALESINSIGHTS_SOURCE__SCALE": SCALE}
    return env | {f"SALESINSIGHTS_{key.upper()}": value for key, value in settings.items()}


def _make_cli(env: dict[str, str]) -> AirflowCli:
    def airflow(*args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["bash", "-c", 'source scripts/airflow_env.sh && exec airflow "$@"', "airflow", *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert result.returncode == 0, (
            f"airflow {' '.join(args)} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout[-6000:]}\n--- stderr\n{result.stderr[-6000:]}"
        )
        return result

    return airflow


@pytest.fixture(scope="module")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A freshly migrated metadata DB, migrated once and copied into each test's Airflow home."""
    data_dir = tmp_path_factory.mktemp("template") / "data"
    _make_cli(_test_env(data_dir))("db", "migrate")
    return data_dir / "airflow" / "airflow.db"


@pytest.fixture
def platform_dir(tmp_path: Path, migrated_db: Path) -> Path:
    data_dir = tmp_path / "data"
    (data_dir / "airflow").mkdir(parents=True)
    shutil.copy2(migrated_db, data_dir / "airflow" / "airflow.db")
    return data_dir


def _output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def _landed(data_dir: Path) -> dict[str, str]:
    """Files in the landing folder (temporaries included, so a leftover fails the test) → sha256."""
    landing = data_dir / "landing"
    if not landing.exists():
        return {}
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(landing.iterdir())}


def _read_csv(path: Path) -> tuple[str, int]:
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        lines = stream.read().splitlines()
    return lines[0], len(lines) - 1


def _expected_rows(env: dict[str, str], start: datetime, end: datetime) -> int:
    """Rows of one slice straight from the source, with the same settings as the Airflow task."""
    from salesinsights.sources import slice_lines

    with contextlib.chdir(REPO), mock.patch.dict(os.environ, env, clear=True):
        settings = Settings()
    return sum(1 for _ in slice_lines(settings.source, start, end))


def _day(day: int) -> datetime:
    return datetime(2019, 10, day, tzinfo=UTC)


def test_scheduled_runs_drop_one_slice_each_then_skip(platform_dir: Path) -> None:
    # A two-day source, so that the third run finds it exhausted.
    env = _test_env(platform_dir, source__end="2019-10-03")
    airflow = _make_cli(env)
    second_slice = "events_20191002T000000_20191003T000000.csv.gz"

    first = airflow("dags", "test", "file_drop", "2026-01-01T00:00:00+00:00")
    landed = _landed(platform_dir)
    assert list(landed) == [FIRST_SLICE]
    assert f"written {platform_dir / 'landing' / FIRST_SLICE}" in _output(first)
    header, rows = _read_csv(platform_dir / "landing" / FIRST_SLICE)
    assert header == CSV_HEADER
    assert rows == _expected_rows(env, _day(1), _day(2)) > 0
    ledger = json.loads((platform_dir / "file_drop_ledger.json").read_text())
    assert list(ledger["runs"].values()) == [["2019-10-01T00:00:00+00:00", "2019-10-02T00:00:00+00:00"]]
    assert list(ledger["files"]) == [FIRST_SLICE]

    # The same DAG run again (same logical date): the same slice, already landed; nothing new, same bytes.
    again = airflow("dags", "test", "file_drop", "2026-01-01T00:00:00+00:00")
    assert "already_landed" in _output(again)
    assert _landed(platform_dir) == landed
    assert json.loads((platform_dir / "file_drop_ledger.json").read_text()) == ledger

    # The next DAG run drops the next slice.
    airflow("dags", "test", "file_drop", "2026-01-01T00:01:00+00:00")
    assert sorted(_landed(platform_dir)) == [FIRST_SLICE, second_slice]
    header, rows = _read_csv(platform_dir / "landing" / second_slice)
    assert rows == _expected_rows(env, _day(2), _day(3)) > 0

    # The source is exhausted: the run is skipped (the CLI succeeds), nothing lands.
    last = airflow("dags", "test", "file_drop", "2026-01-01T00:02:00+00:00")
    assert "source is exhausted" in _output(last)
    assert sorted(_landed(platform_dir)) == [FIRST_SLICE, second_slice]

    # airflow_db_clean's command, with everything older than now past the retention: the runs go (Airflow
    # would keep a DAG's newest scheduled run; these are manual), the DAG itself stays (list-runs knows it).
    def runs() -> list[dict[str, str]]:
        listed = airflow("dags", "list-runs", "file_drop", "-o", "json").stdout.splitlines()
        return list(json.loads(next(line for line in reversed(listed) if line.startswith("["))))

    assert len(runs()) == 3
    retention = Settings(services=ServiceSettings(airflow_metadata_retention=timedelta(hours=1)))
    airflow(*db_clean_arguments(retention, datetime.now(UTC) + timedelta(hours=1)))
    assert runs() == []


def test_replay_drops_exactly_the_requested_days(platform_dir: Path) -> None:
    env = _test_env(platform_dir)
    airflow = _make_cli(env)
    conf = json.dumps({"replay_from": "2019-10-02", "replay_to": "2019-10-03"})

    airflow("dags", "test", "file_drop", "2026-01-01T00:00:00+00:00", "--conf", conf)
    expected = {
        "events_20191002T000000_20191003T000000.csv.gz": (_day(2), _day(3)),
        "events_20191003T000000_20191004T000000.csv.gz": (_day(3), _day(4)),
    }
    landed = _landed(platform_dir)
    assert sorted(landed) == sorted(expected)
    for name, (start, end) in expected.items():
        header, rows = _read_csv(platform_dir / "landing" / name)
        assert header == CSV_HEADER
        assert rows == _expected_rows(env, start, end) > 0
    # A replay takes no scheduled slice: the next scheduled run still starts at the source's beginning.
    ledger = json.loads((platform_dir / "file_drop_ledger.json").read_text())
    assert ledger["runs"] == {} and sorted(ledger["files"]) == sorted(expected)

    # Replaying again writes nothing new.
    airflow("dags", "test", "file_drop", "2026-01-01T00:05:00+00:00", "--conf", conf)
    assert _landed(platform_dir) == landed
