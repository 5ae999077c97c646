"""`make up`, `make status`, `make down` for real: every service starts under the supervisor, reports
healthy, feeds events from the file drop through the producer into Kafka, and stops cleanly, leaving no
process behind. On that platform, Airflow as its users drive it: a backfill of data_quality_nightly over
three nights validates one event day per run, and each validation triggers clv_nightly through the
`lake_validated` asset, which skips itself on so young a lake; airflow_db_clean cleans the metadata; and the
lake's tables answer by name through the SQL endpoint."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

from salesinsights.kafka_io import read_topic
from salesinsights.platform.airflow_api import AirflowApi
from salesinsights.platform.services import NAMES
from salesinsights.quality.day import event_days
from salesinsights.quality.results import read_results
from salesinsights.settings import KafkaSettings, ServiceSettings, Settings, SqlSettings
from salesinsights.verify.ground_truth import expected_from_files
from tests.support import REPO, beeline, free_port, platform_env


def make(target: str, env: dict[str, str], timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", target],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_up_status_down(tmp_path: Path) -> None:
    kafka = KafkaSettings(bootstrap_servers=f"127.0.0.1:{free_port()}", controller_port=free_port())
    services = ServiceSettings(airflow_port=free_port(), dashboard_port=free_port())
    sql = SqlSettings(thrift_port=free_port(), connect_port=free_port(), metastore_port=free_port())
    env = platform_env(
        tmp_path / "data",
        kafka,
        SALESINSIGHTS_SOURCE__SCALE="0.01",
        SALESINSIGHTS_SERVICES__AIRFLOW_PORT=str(services.airflow_port),
        SALESINSIGHTS_SERVICES__DASHBOARD_PORT=str(services.dashboard_port),
        SALESINSIGHTS_SQL__THRIFT_PORT=str(sql.thrift_port),
        SALESINSIGHTS_SQL__CONNECT_PORT=str(sql.connect_port),
        SALESINSIGHTS_SQL__METASTORE_PORT=str(sql.metastore_port),
    )
    settings = Settings(data_dir=tmp_path / "data", kafka=kafka, services=services, sql=sql)
    try:
        up = make("up", env, timeout=900)
        assert up.returncode == 0, up.stdout[-4000:] + up.stderr[-4000:]
        status = make("status", env)
        assert status.returncode == 0, status.stdout + status.stderr
        pids = {
            match.group(1): int(match.group(2))
            for match in re.finditer(r"^([a-z-]+): running \(pid (\d+),", status.stdout, re.MULTILINE)
        }
        assert set(pids) == set(NAMES), status.stdout
        assert "scheduler=healthy" in status.stdout

        # The unpaused file_drop DAG lands a file every minute; the producer archives it once produced.
        archive = tmp_path / "data" / "archive"
        deadline = time.monotonic() + 240
        while not list(archive.glob("events_*.csv.gz")) and time.monotonic() < deadline:
            time.sleep(2)
        assert list(archive.glob("events_*.csv.gz")), "no file went from the file drop through the producer"
        assert read_topic(kafka, kafka.raw_topic), "the raw topic holds no events"
        assert_password_only_in_private_files(tmp_path / "data")
        assert_backfill_validates_each_day_and_triggers_clv(settings)
        assert_metadata_cleaning_runs(settings)
        assert_sql_by_name_equals_the_files(settings)
    finally:
        down = make("down", env, timeout=600)
    assert down.returncode == 0, down.stdout + down.stderr
    after = make("status", env)
    assert after.returncode != 0
    for service in NAMES:
        assert f"{service}: stopped" in after.stdout
    still_running = [name for name, pid in pids.items() if Path(f"/proc/{pid}").exists()]
    assert not still_running, f"still running after make down: {still_running}"


def assert_password_only_in_private_files(data: Path) -> None:
    """The admin password that Airflow generated is in no file that another user may read, and the log and
    run folders are this user's alone."""
    passwords = json.loads((data / "airflow" / "simple_auth_manager_passwords.json.generated").read_text())
    secrets = [password.encode() for password in passwords.values()]
    for folder in (data / "logs", data / "run"):
        assert folder.stat().st_mode & 0o077 == 0, f"{folder} is open to other users"
    holders = [
        path
        for path in data.rglob("*")
        if path.is_file() and any(secret in path.read_bytes() for secret in secrets)
    ]
    assert holders, "the password file itself should have been found"
    shared = [path for path in holders if path.stat().st_mode & 0o077]
    assert not shared, f"files that other users may read hold the Airflow password: {shared}"


NIGHTS = ("2019-10-02", "2019-10-04")  # the backfill's logical dates: the nights after these event days
VALIDATED = [date(2019, 10, 1), date(2019, 10, 2), date(2019, 10, 3)]


def wait_for(condition: Callable[[], Any], timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(3)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def runs(api: AirflowApi, dag_id: str, run_type: str) -> list[dict[str, Any]]:
    found = api.call("GET", f"/api/v2/dags/{dag_id}/dagRuns?run_type={run_type}&limit=100")
    return list(found["dag_runs"])


def assert_backfill_validates_each_day_and_triggers_clv(settings: Settings) -> None:
    api = AirflowApi(settings)
    api.log_in()
    # Four days through the whole platform at once: the file drop's replay, the producer, the stream.
    replay = {"replay_from": "2019-10-01", "replay_to": "2019-10-04"}
    api.call("POST", "/api/v2/dags/file_drop/dagRuns", {"logical_date": None, "conf": replay})
    wait_for(lambda: date(2019, 10, 4) in event_days(settings), 420, "silver to reach 2019-10-04")

    body = {"dag_id": "data_quality_nightly", "from_date": f"{NIGHTS[0]}T00:00:00Z"}
    api.call("POST", "/api/v2/backfills", body | {"to_date": f"{NIGHTS[1]}T23:59:59Z", "max_active_runs": 1})

    def backfilled() -> list[dict[str, Any]]:
        done = runs(api, "data_quality_nightly", "backfill")
        return done if len(done) == 3 and all(run["state"] in ("success", "failed") for run in done) else []

    # Room for one retry (the DAG waits 10 minutes): on a loaded machine Airflow's LocalExecutor may report a
    # task failed while the scheduler still has it queued (apache/airflow#39717), and retries it.
    backfill = wait_for(backfilled, 1200, "the three backfill runs of data_quality_nightly")
    assert {run["state"] for run in backfill} == {"success"}, backfill
    results = read_results(settings).to_pylist()
    days_of = {
        run["dag_run_id"]: {row["day"] for row in results if row["run_id"] == run["dag_run_id"]}
        for run in backfill
    }
    assert sorted(day for days in days_of.values() for day in days) == VALIDATED, days_of
    assert all(len(days) == 1 for days in days_of.values()), days_of

    # Each success updated lake_validated; clv_nightly ran on it and skipped itself: four days of history.
    def clv_finished() -> list[dict[str, Any]]:
        done = runs(api, "clv_nightly", "asset_triggered")
        return done if done and all(run["state"] in ("success", "failed") for run in done) else []

    clv = wait_for(clv_finished, 600, "clv_nightly, triggered by the lake_validated asset")
    run_id = quote(clv[0]["dag_run_id"], safe="")
    tasks = api.call("GET", f"/api/v2/dags/clv_nightly/dagRuns/{run_id}/taskInstances")["task_instances"]
    states = {task["task_id"]: task["state"] for task in tasks}
    assert states == dict.fromkeys(("stage", "audit", "publish", "report"), "skipped"), states


def assert_metadata_cleaning_runs(settings: Settings) -> None:
    """The unpaused airflow_db_clean runs its latest interval at once, and `airflow db clean` reaches the
    metadata database from inside the task (which Airflow 3 denies a task's process by default)."""
    api = AirflowApi(settings)
    api.log_in()

    def finished() -> list[dict[str, Any]]:
        done = runs(api, "airflow_db_clean", "scheduled")
        return done if done and all(run["state"] in ("success", "failed") for run in done) else []

    cleaned = wait_for(finished, 300, "airflow_db_clean's run")
    assert {run["state"] for run in cleaned} == {"success"}, cleaned


def assert_sql_by_name_equals_the_files(settings: Settings) -> None:
    """The lake's tables by name through JDBC; per-product daily revenue of the complete days equals what
    the landed files hold."""
    tables = {row[1] for row in beeline(settings, "SHOW TABLES IN gold")[1:]}
    assert {"product_sales", "product_sales_daily"} <= tables, tables
    rows = beeline(
        settings,
        "SELECT event_date, product_id, revenue, units FROM gold.product_sales_daily "
        "WHERE event_date <= DATE'2019-10-03' AND units > 0",
    )
    assert rows[0] == ["event_date", "product_id", "revenue", "units"], rows[:2]
    through_sql = {
        (day, int(product)): (Decimal(revenue), int(units)) for day, product, revenue, units in rows[1:]
    }
    files = [path for path in sorted(settings.produced_dir.iterdir()) if path.name < "events_20191004"]
    truth = {
        key: value
        for key, value in expected_from_files(files).daily_totals().items()
        if key[0] <= "2019-10-03"
    }
    assert through_sql == truth and len(truth) > 100
