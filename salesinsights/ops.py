"""The contract every job keeps, and how the DAGs start jobs.

A job is `main(argv: list[str] | None) -> int` (in `runs/`, or an engine's service), reachable from the one
CLI (`salesinsights dq`, `… maintenance`, `… clv`, `… stream run`, …) and from a short entry point in
`jobs/`, with `--help` and `--version`, ending with one of the `Exit` statuses. The DAGs run jobs as child
processes — never heavy work inside the scheduler's or a task runner's own process — and map a failed
verdict to a failure without retries, any other failure to a retry."""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
from collections.abc import Callable, Mapping
from enum import IntEnum
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from salesinsights.locks import AlreadyRunningError, single_instance
from salesinsights.settings import Settings

log = logging.getLogger(__name__)


class Exit(IntEnum):
    OK = 0
    CRASHED = 1  # an error of the job's own: worth a retry
    USAGE = 2  # bad arguments (argparse's status)
    # The data failed its checks (a critical expectation, the CLV audit): a retry on the same data cannot
    # change the verdict.
    FAILED_VERDICT = 3
    # Nothing to work on yet (no complete day to validate, too little history to value customers on): the
    # run is skipped with the job's reason, not failed.
    NOTHING_TO_DO = 4
    ALREADY_RUNNING = 75  # EX_TEMPFAIL: another instance holds the data folder's lock


class JobFailedError(RuntimeError):
    """A job ended with a status other than OK (and other than a failed verdict, when that has its own)."""


def package_version() -> str:
    try:
        return version("salesinsights")
    except PackageNotFoundError:  # run from a checkout that is not installed
        return "unknown"


def run_service(settings: Settings, lock: str, serve: Callable[[], int]) -> int:
    """How a long-running service starts: its log lines to stderr (the supervisor's log of it), and the
    data folder's lock `lock` held while `serve` runs; a second instance is refused, ALREADY_RUNNING."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        with single_instance(settings.run_dir, lock):
            return serve()
    except AlreadyRunningError as refused:
        logging.error("not started: %s", refused)
        return Exit.ALREADY_RUNNING


def job_parser(prog: str, description: str | None) -> argparse.ArgumentParser:
    """The argument parser of a job: its description as help, and `--version`."""
    parser = argparse.ArgumentParser(
        prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    return parser


def run_logged(
    command: list[str], cwd: Path, timeout_s: float | None = None, env: Mapping[str, str] | None = None
) -> int:
    """Runs the command (in `env`, or this process's environment), sending its output line by line to the
    log; its exit status."""
    log.info("running: %s", " ".join(command))
    with subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            log.info("%s", line.rstrip())
        return process.wait(timeout=timeout_s)


def run_checked(
    command: list[str],
    cwd: Path,
    label: str,
    verdict_error: type[Exception] | None = None,
    timeout_s: float | None = None,
    skip_error: type[Exception] | None = None,
    env: Mapping[str, str] | None = None,
) -> None:
    """`run_logged`, raising JobFailedError unless the command exits OK; when it keeps the job contract,
    `verdict_error` if it exits FAILED_VERDICT and `skip_error` if it exits NOTHING_TO_DO (a DAG passes
    Airflow's fail-without-retry and skip exceptions)."""
    status = run_logged(command, cwd, timeout_s, env)
    if verdict_error is not None and status == Exit.FAILED_VERDICT:
        raise verdict_error(f"{label}: the data failed its checks (see the log above); not retried")
    if skip_error is not None and status == Exit.NOTHING_TO_DO:
        raise skip_error(f"{label}: nothing to do yet (the log above says why)")
    if status != Exit.OK:
        raise JobFailedError(f"{label} exited with status {status}")


def run_job(
    settings: Settings,
    job: str,
    *arguments: str,
    verdict_error: type[Exception] = JobFailedError,
    timeout_s: float | None = None,
    skip_error: type[Exception] = JobFailedError,
) -> None:
    """Runs the entry point jobs/<job> in the project's Python (which has pyspark and the package). Raises
    `verdict_error` when it exits FAILED_VERDICT, `skip_error` when it exits NOTHING_TO_DO (a DAG passes
    Airflow's fail-without-retry and skip exceptions), and JobFailedError when it exits otherwise than OK."""
    command = [sys.executable, str(settings.home / "jobs" / job), *arguments]
    label = f"jobs/{job} {' '.join(arguments)}".rstrip()
    run_checked(command, settings.home, label, verdict_error, timeout_s, skip_error)
