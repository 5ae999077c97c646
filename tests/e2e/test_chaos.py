"""`make chaos` on a platform of the test's own under the supervisor (its own broker, producer, streaming
application, dashboard and watchdog on free loopback ports): every fault an operator meets, during a replay
of generated days and the real sample, and then the medallion exactly what the files say, nothing lost,
nothing repeated; `down` leaves no process behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from salesinsights.catalog import SILVER_QUARANTINE
from salesinsights.kafka_io import read_topic
from salesinsights.lake import read_table
from salesinsights.platform.supervisor import Supervisor
from salesinsights.platform.watchdog import read_actions
from salesinsights.settings import KafkaSettings, Settings
from tests.support import REPO, STREAMING_TEST_ENV, free_port, platform_command, platform_env


def test_under_every_fault_nothing_is_lost_or_repeated(tmp_path: Path) -> None:
    kafka = KafkaSettings(bootstrap_servers=f"127.0.0.1:{free_port()}", controller_port=free_port())
    settings = Settings(data_dir=tmp_path / "data", kafka=kafka)
    env = platform_env(
        settings.data,
        kafka,
        SALESINSIGHTS_SOURCE__SCALE="0.15",
        SALESINSIGHTS_SERVICES__DASHBOARD_PORT=str(free_port()),
        SALESINSIGHTS_SUPERVISOR__FROZEN_AFTER="PT20S",
        SALESINSIGHTS_SUPERVISOR__WATCHDOG_INTERVAL="PT1S",
        **STREAMING_TEST_ENV,
    )
    supervisor = Supervisor(settings)
    started: dict[str, int] = {}
    try:
        platform_command(env, "up", "kafka", "producer", "streaming", "dashboard", "watchdog")
        started = {name: info.pid for name, info in supervisor.processes().items() if info.state == "RUNNING"}
        chaos = subprocess.run(
            [sys.executable, "-m", "salesinsights.platform.chaos"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=2400,
            check=False,
        )
        print(chaos.stdout, chaos.stderr, sep="\n")
        assert chaos.returncode == 0, chaos.stdout[-3000:] + chaos.stderr[-3000:]
        summary = dict(pair.split("=") for pair in chaos.stdout.strip().splitlines()[-1].split())
        assert (summary["lost"], summary["duplicated"], summary["exact"]) == ("0", "0", "true")
        assert int(summary["faults"]) == 18  # 4 poison files and 14 process faults
        # Each poison file left its reason.
        letters = [message.value() or b"" for message in read_topic(kafka, kafka.dead_letter_topic)]
        for reason in (b"undecodable_name", b"unreadable_file"):
            assert sum(reason in letter for letter in letters) == 1, reason
        quarantine = read_table(settings, SILVER_QUARANTINE)
        assert (quarantine["reason"] == "event_time_ahead_of_stream").sum() >= 1
        assert any("frozen" in action["action"] for action in read_actions(settings.run_dir))
    finally:
        platform_command(env, "down")
    for name, pid in started.items():
        assert not Path(f"/proc/{pid}").exists(), f"{name} (pid {pid}) still runs after down"
    assert not supervisor.answering()
    assert not (settings.run_dir / "supervisor.sock").exists()
    assert not list(settings.landing_dir.iterdir())
