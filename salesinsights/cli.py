"""`salesinsights` command line: the by-hand entry points to what the DAGs and services do."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from datetime import date

from salesinsights.ops import job_parser
from salesinsights.settings import get_settings


def _drop(args: argparse.Namespace) -> int:
    from salesinsights.landing import drop_range

    for result in drop_range(get_settings(), args.first, args.last):
        print(f"{result.status:>14}  {result.rows:>8} rows  {result.path}")
    return 0


def _topics(_args: argparse.Namespace) -> int:
    from salesinsights.kafka_admin import ensure_topics

    for change in ensure_topics(get_settings().kafka) or ["topics up to date"]:
        print(change)
    return 0


def _stream_reset(_args: argparse.Namespace) -> int:
    from salesinsights.locks import AlreadyRunningError
    from salesinsights.spark.archive import ARCHIVE_QUERY_NAME
    from salesinsights.spark.reset import reset_checkpoint

    try:
        moved = reset_checkpoint(get_settings(), ARCHIVE_QUERY_NAME)
    except AlreadyRunningError as running:
        print(f"error: {running}; stop it first (salesinsights platform stop streaming)", file=sys.stderr)
        return 1
    if moved is None:
        print("no checkpoint to reset: the next start begins after the offsets the lake has archived")
    else:
        print(f"checkpoint moved to {moved}; the next start resumes after the offsets the lake has archived")
    return 0


def _spark_defaults(_args: argparse.Namespace) -> int:
    from salesinsights.spark.shell_defaults import write_spark_defaults

    print(write_spark_defaults(get_settings()))
    return 0


def _platform(args: argparse.Namespace) -> int:
    from salesinsights.platform import control

    settings = get_settings()
    if args.platform_command == "up":
        return control.up(settings, args.services or control.UP_ORDER)
    if args.platform_command == "logs":
        return control.logs(settings, args.lines)
    if args.platform_command in ("start", "stop"):
        action = control.start_one if args.platform_command == "start" else control.stop_one
        return action(settings, args.service)
    if args.platform_command == "restart":
        return control.stop_one(settings, args.service) or control.start_one(settings, args.service)
    commands = {"down": control.down, "status": control.status, "password": control.password}
    return commands[args.platform_command](settings)


def _add_platform(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from salesinsights.platform.control import UP_ORDER
    from salesinsights.platform.services import NAMES

    platform = commands.add_parser("platform", help="the supervised services: up, status, logs, down, …")
    platform.set_defaults(handler=_platform)
    actions = platform.add_subparsers(dest="platform_command", required=True)
    up = actions.add_parser("up", help="start the supervisor and the services in order; returns once healthy")
    up.add_argument("services", nargs="*", help=f"only these, of {', '.join(UP_ORDER)} (default: all)")
    actions.add_parser("down", help="stop every service, then the supervisor")
    actions.add_parser("status", help="each service's state and health; exits 3 when one is down")
    logs = actions.add_parser("logs", help="the last lines of every service's log")
    logs.add_argument("--lines", type=int, default=40)
    actions.add_parser("password", help="the Airflow admin login that Airflow generated")
    for verb in ("start", "stop", "restart"):
        one = actions.add_parser(verb, help=f"{verb} one service through the supervisor")
        one.add_argument("service", choices=NAMES)


# The jobs, each with its own options (and its own --help): everything after the command's name goes to it.
JOBS = {
    "generate": ("salesinsights.runs.generate", "write the synthetic data set as monthly CSV files"),
    "produce": ("salesinsights.producer.__main__", "the landing-folder producer (what the supervisor runs)"),
    "clv": ("salesinsights.runs.clv.cli", "a nightly CLV run by hand: stage, audit, publish, report"),
    "dq": ("salesinsights.runs.quality", "validate one event day with the Great Expectations suites"),
    "maintenance": ("salesinsights.runs.maintenance", "compact and vacuum the Delta tables"),
    "sql": (
        "salesinsights.runs.sql_query",
        "one SQL query over the lake's tables by name, as a table",
    ),
    "sql-server": (
        "salesinsights.runs.sql_server",
        "the SQL endpoint for BI tools, JDBC and Spark Connect (what the supervisor runs)",
    ),
}
STREAM_RUN = ("salesinsights.runs.stream", "the streaming application (what the supervisor runs)")


def _run_job(module: str, argv: list[str]) -> int:
    job: Callable[[list[str]], int] = importlib.import_module(module).main
    return int(job(argv))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in JOBS:
        return _run_job(JOBS[argv[0]][0], argv[1:])
    if argv[:2] == ["stream", "run"]:
        return _run_job(STREAM_RUN[0], argv[2:])
    parser = job_parser("salesinsights", __doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, (_, summary) in JOBS.items():
        commands.add_parser(name, help=f"{summary} (see {name} --help)")
    drop = commands.add_parser("drop", help="drop the source slices of a date range into the landing folder")
    drop.add_argument("--from", dest="first", type=date.fromisoformat, required=True, help="first day")
    drop.add_argument("--to", dest="last", type=date.fromisoformat, required=True, help="last day, inclusive")
    drop.set_defaults(handler=_drop)
    topics = commands.add_parser("topics", help="create the Kafka topics, or grow their partitions")
    topics.set_defaults(handler=_topics)
    stream = commands.add_parser("stream", help="the streaming application: run it, reset its checkpoint")
    stream_commands = stream.add_subparsers(dest="stream_command", required=True)
    stream_commands.add_parser("run", help=f"{STREAM_RUN[1]} (see stream run --help)")
    reset = stream_commands.add_parser(
        "reset",
        help="move the archive query's checkpoint aside (the application must be stopped); the next start "
        "resumes after the Kafka offsets the lake records, without duplicating or losing a row",
    )
    reset.set_defaults(handler=_stream_reset)
    spark_defaults = commands.add_parser(
        "spark-defaults",
        help="write the spark-defaults.conf with which .venv/bin/pyspark and spark-sql start with Delta",
    )
    spark_defaults.set_defaults(handler=_spark_defaults)
    _add_platform(commands)
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
