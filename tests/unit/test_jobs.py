"""The job contract: every job answers --help and --version from the one CLI and from its entry point in
jobs/, and the DAGs' runner tells a failed verdict (not retried) from a crash (retried)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from salesinsights.cli import JOBS
from salesinsights.ops import Exit, JobFailedError, package_version, run_job
from salesinsights.settings import Settings
from tests.support import REPO

ENTRY_POINTS = sorted(path.name for path in (REPO / "jobs").glob("*.py"))


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("job", [*JOBS, "stream run"])
def test_every_job_of_the_cli_has_help_and_version(job: str) -> None:
    cli = [sys.executable, "-m", "salesinsights.cli", *job.split()]
    helped = run(*cli, "--help")
    assert helped.returncode == Exit.OK and f"usage: salesinsights {job}" in helped.stdout, helped.stderr
    versioned = run(*cli, "--version")
    assert versioned.stdout.strip() == f"salesinsights {job} {package_version()}"


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_every_entry_point_is_a_job_of_the_cli(entry_point: str) -> None:
    helped = run(sys.executable, f"jobs/{entry_point}", "--help")
    assert helped.returncode == Exit.OK, helped.stderr
    assert "usage: salesinsights " in helped.stdout
    bad = run(sys.executable, f"jobs/{entry_point}", "--no-such-option")
    assert bad.returncode == Exit.USAGE


def _job(home: Path, status: int) -> Settings:
    (home / "jobs").mkdir(exist_ok=True)
    (home / "jobs" / "verdict.py").write_text(f"import sys\nprint('checked')\nsys.exit({status})\n")
    return Settings(home=home)


class NotRetriedError(Exception):
    """Stands for Airflow's AirflowFailException, which the DAGs pass."""


def test_a_failed_verdict_is_not_a_crash(tmp_path: Path) -> None:
    run_job(_job(tmp_path, Exit.OK), "verdict.py")
    with pytest.raises(NotRetriedError, match="failed its checks"):
        run_job(_job(tmp_path, Exit.FAILED_VERDICT), "verdict.py", verdict_error=NotRetriedError)
    with pytest.raises(JobFailedError, match="exited with status 1"):
        run_job(_job(tmp_path, Exit.CRASHED), "verdict.py", verdict_error=NotRetriedError)
