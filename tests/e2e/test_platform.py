"""`make up`, `make status`, `make down` for real: every service starts under the supervisor, reports
healthy, feeds events from the file drop through the producer into Kafka, and stops cleanly, leaving no
process behind."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

from salesinsights.kafka_io import read_topic
from salesinsights.platform.services import NAMES
from salesinsights.settings import KafkaSettings
from tests.support import REPO, free_port, platform_env


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
    env = platform_env(
        tmp_path / "data",
        kafka,
        SALESINSIGHTS_SOURCE__SCALE="0.01",
        SALESINSIGHTS_SERVICES__AIRFLOW_PORT=str(free_port()),
        SALESINSIGHTS_SERVICES__DASHBOARD_PORT=str(free_port()),
    )
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
