"""The service scripts' pid files: a pid that another process has taken since never passes for the service."""

from __future__ import annotations

import subprocess
from pathlib import Path

from salesinsights.settings import KafkaSettings
from tests.support import REPO, platform_env

PROBE = f"""
source {REPO}/scripts/lib.sh
start_service probe sleep 30 >/dev/null
pid_of probe >/dev/null && echo "running"
read -r pid started <"$SI_RUN_DIR/probe.pid"
kill "$pid"; wait "$pid" 2>/dev/null || true
pid_of probe >/dev/null || echo "gone"
echo "$$ $started" >"$SI_RUN_DIR/probe.pid"  # this shell's pid, with the dead service's start time
pid_of probe >/dev/null || echo "reused pid not alive"
sleep 30 & echo "$!" >"$SI_RUN_DIR/probe.pid"  # as an earlier release wrote it: the pid alone
pid_of probe >/dev/null && echo "running, by an earlier release"
stop_service probe 1
"""


def test_a_reused_pid_never_looks_alive_and_is_never_signalled(tmp_path: Path) -> None:
    env = platform_env(tmp_path / "data", KafkaSettings())
    result = subprocess.run(
        ["bash", "-c", PROBE], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "running",
        "gone",
        "reused pid not alive",
        "running, by an earlier release",
        "probe: stopped",
    ]
    for folder in ("run", "logs"):
        assert (tmp_path / "data" / folder).stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "data" / "logs" / "probe.log").stat().st_mode & 0o077 == 0
