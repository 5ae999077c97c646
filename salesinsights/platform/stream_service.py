"""The streaming application as the `streaming` DAG drives it: through the supervisor only, so that Airflow
and the supervisor never fight over the process."""

from __future__ import annotations

import json
import time
from typing import Any

from salesinsights.platform.supervisor import Supervisor
from salesinsights.settings import Settings
from salesinsights.spark.progress import STATUS_FILE

# The application's first report comes once its JVM is up and its queries have started.
FIRST_REPORT_TIMEOUT_S = 240


def ensure_stream(settings: Settings) -> str:
    """Starts the application through the supervisor unless it is up; returns its state after that."""
    supervisor = Supervisor(settings)
    supervisor.start("streaming")
    return supervisor.process("streaming").state


def stream_health(settings: Settings, timeout_s: float = FIRST_REPORT_TIMEOUT_S) -> dict[str, Any]:
    """The supervisor's view of the process and the application's own health report (waiting for the first
    report of an application that has just started); `healthy` says whether both are well."""
    supervisor = Supervisor(settings)
    path = settings.run_dir / STATUS_FILE
    deadline = time.monotonic() + timeout_s
    while True:
        process = supervisor.process("streaming")
        written_after_start = path.is_file() and path.stat().st_mtime >= process.started_at
        if written_after_start or time.monotonic() > deadline or process.state != "RUNNING":
            break
        time.sleep(2)
    report: dict[str, Any] = json.loads(path.read_text()) if written_after_start else {}
    return {
        "healthy": process.state == "RUNNING" and bool(report.get("active")),
        "state": process.state,
        "pid": process.pid,
        "uptime_s": round(time.time() - process.started_at) if process.started_at else None,
        "report_updated_at": report.get("updated_at"),
        "queries": report.get("queries"),
    }
