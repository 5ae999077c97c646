"""Running the project's scripts and jobs as child processes, the way the DAGs start them: never heavy work
inside the scheduler's or a task runner's own process."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

from salesinsights.settings import Settings

log = logging.getLogger(__name__)


def run_logged(command: list[str], cwd: Path, timeout_s: float | None = None) -> None:
    """Runs the command, sending its output line by line to the log; raises if it fails."""
    log.info("running: %s", " ".join(command))
    with subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            log.info("%s", line.rstrip())
        code = process.wait(timeout=timeout_s)
    if code != 0:
        raise RuntimeError(f"{command[0]} exited with status {code}")


def run_job(settings: Settings, job: str, *arguments: str, timeout_s: float | None = None) -> None:
    """A Spark entry point of jobs/ in the project's Python (which has pyspark and the package)."""
    run_logged([sys.executable, str(settings.home / "jobs" / job), *arguments], settings.home, timeout_s)
