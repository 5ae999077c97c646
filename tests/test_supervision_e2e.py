"""The supervisor for real: the producer, the streaming application, the dashboard and the watchdog as
`make up` starts them (on the session's broker, with the test's own topics and data folder). What dies is
started again, a frozen stream is killed and started again, a second producer or stream is refused, and
nothing is lost or repeated on the way; `down` leaves no process behind."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from salesinsights.kafka_io import read_topic
from salesinsights.lake import processed_records
from salesinsights.platform.supervisor import Supervisor
from salesinsights.platform.watchdog import read_actions
from salesinsights.settings import Settings
from tests.ground_truth import assert_gold_matches_files
from tests.support import (
    REAL_SAMPLE_DIR,
    REPO,
    STREAMING_TEST_ENV,
    free_port,
    platform_command,
    platform_env,
    wait_until,
)

pytestmark = pytest.mark.e2e
DASHBOARD_BACK_WITHIN_S = 30


def answering(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def restarted(supervisor: Supervisor, name: str, before: int) -> bool:
    process = supervisor.process(name)
    return process.state == "RUNNING" and process.pid != before


def land(settings: Settings, sample: str, name: str) -> None:
    """A landing file, written under a dot-name and renamed, as the file drop writes."""
    settings.landing_dir.mkdir(parents=True, exist_ok=True)
    temporary = settings.landing_dir / f".{name}"
    shutil.copy(REAL_SAMPLE_DIR / sample, temporary)
    temporary.replace(settings.landing_dir / name)


def refused(env: dict[str, str], command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_what_dies_or_freezes_comes_back_and_nothing_is_lost_or_repeated(platform: Settings) -> None:
    settings = platform
    port = free_port()
    env = platform_env(
        settings.data,
        settings.kafka,
        SALESINSIGHTS_SERVICES__DASHBOARD_PORT=str(port),
        SALESINSIGHTS_SUPERVISOR__FROZEN_AFTER="PT20S",
        SALESINSIGHTS_SUPERVISOR__WATCHDOG_INTERVAL="PT1S",
        **STREAMING_TEST_ENV,
    )
    supervisor = Supervisor(settings)
    health = f"http://127.0.0.1:{port}/api/health"
    started: dict[str, int] = {}
    try:
        platform_command(env, "up", "producer", "streaming", "dashboard", "watchdog")
        started = {name: info.pid for name, info in supervisor.processes().items() if info.state == "RUNNING"}
        assert set(started) == {"producer", "streaming", "dashboard", "watchdog"}
        land(settings, "events_sample.csv.gz", "events_1.csv.gz")
        wait_until(lambda: (settings.archive_dir / "events_1.csv.gz").exists(), 120, "the first file")

        # The dashboard, SIGKILLed, is back within 30 s.
        os.killpg(started["dashboard"], signal.SIGKILL)
        killed_at = time.monotonic()
        wait_until(lambda: answering(health), DASHBOARD_BACK_WITHIN_S, "the dashboard to answer again", 0.2)
        print(f"dashboard back {time.monotonic() - killed_at:.1f} s after SIGKILL")
        assert restarted(supervisor, "dashboard", started["dashboard"])

        # A second producer and a second stream on the same data folder are refused by their locks.
        for command in (
            [sys.executable, "-m", "salesinsights.producer"],
            [sys.executable, "jobs/streaming_medallion.py"],
        ):
            second = refused(env, command)
            assert second.returncode == 75, second.stderr
            assert "already running" in second.stderr

        # The producer, SIGKILLed, is started again and produces the next file.
        os.killpg(started["producer"], signal.SIGKILL)
        wait_until(lambda: restarted(supervisor, "producer", started["producer"]), 60, "the producer back")
        land(settings, "events_sample_2.csv.gz", "events_2.csv.gz")
        wait_until(lambda: (settings.archive_dir / "events_2.csv.gz").exists(), 120, "the second file")

        # The stream, frozen (SIGSTOP, JVM and driver) with a file waiting, is killed by the watchdog and
        # started again by the supervisor; it then archives everything exactly once.
        os.killpg(started["streaming"], signal.SIGSTOP)
        frozen_at = time.monotonic()
        land(settings, "events_sample_3.csv.gz", "events_3.csv.gz")
        wait_until(lambda: restarted(supervisor, "streaming", started["streaming"]), 180, "the stream back")
        print(f"frozen stream restarted {time.monotonic() - frozen_at:.1f} s after SIGSTOP")
        [action] = [entry for entry in read_actions(settings.run_dir) if entry["service"] == "streaming"]
        assert "frozen" in action["action"]
        wait_until(lambda: (settings.archive_dir / "events_3.csv.gz").exists(), 120, "the third file")
        assert sorted(path.name for path in settings.archive_dir.iterdir()) == [
            "events_1.csv.gz",
            "events_2.csv.gz",
            "events_3.csv.gz",
        ]
        committed = len(read_topic(settings.kafka, settings.kafka.raw_topic, timeout_s=120))
        wait_until(lambda: processed_records(settings) >= committed, 600, "the stream to catch up", 3)
        assert processed_records(settings) == committed
        assert_gold_matches_files(settings)
    finally:
        platform_command(env, "down")
    for name, pid in started.items():
        assert not _alive(pid), f"{name} (pid {pid}) still runs after down"
    assert not supervisor.answering()
    assert not (settings.run_dir / "supervisor.sock").exists()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()
