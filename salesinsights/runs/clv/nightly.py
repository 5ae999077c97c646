"""What the clv_nightly DAG runs: one step of a CLV run as a child process (`jobs/clv_nightly.py --step …`),
its output going line by line to the task log. Spark never runs inside an Airflow process."""

from __future__ import annotations

import hashlib
import logging
import subprocess
import sys
from datetime import date

from salesinsights.settings import Settings

log = logging.getLogger(__name__)


def clv_run_id(dag_run_id: str) -> str:
    """The CLV run of an Airflow DAG run: the same for every retry and clear of that DAG run, so each step
    finds what the previous one left, and a repeated step replaces its own earlier attempt."""
    return f"clv-{hashlib.sha256(dag_run_id.encode()).hexdigest()[:16]}"


def job_command(
    settings: Settings,
    step: str,
    run_id: str,
    as_of: date | None,
    horizon_months: int,
    monthly_discount_rate: float,
) -> list[str]:
    command = [
        sys.executable,
        str(settings.home / "jobs" / "clv_nightly.py"),
        f"--step={step}",
        f"--run-id={run_id}",
        f"--horizon-months={horizon_months}",
        f"--discount-rate={monthly_discount_rate!r}",
    ]
    return command + ([f"--as-of={as_of.isoformat()}"] if as_of else [])


def run_logged(command: list[str], settings: Settings) -> int:
    """Runs the command in the project's home and returns its exit status."""
    log.info("running: %s", " ".join(command))
    with subprocess.Popen(
        command, cwd=settings.home, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            log.info("%s", line.rstrip())
        return process.wait()
