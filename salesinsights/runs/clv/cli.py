"""`salesinsights clv`: a nightly CLV run by hand (stage, audit, publish, report), or one step of it as the
clv_nightly DAG runs them. Exits 3 (a failed verdict) when the audit rejects the run: it is then not
published; 4 (nothing to do) when silver's history up to the as-of date is too short to value customers on
(`SALESINSIGHTS_CLV__MIN_HISTORY_DAYS`)."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import get_args

from pydantic import ValidationError

from salesinsights.ops import Exit, job_parser
from salesinsights.settings import ClvSettings, TimeUnit, get_settings

STEPS = ("stage", "audit", "publish", "report")


def _arguments(argv: list[str] | None) -> tuple[argparse.Namespace, ClvSettings]:
    defaults = get_settings().clv
    parser = job_parser("salesinsights clv", __doc__)
    parser.add_argument(
        "--as-of",
        type=date.fromisoformat,
        help="last day of purchases to use, YYYY-MM-DD (default: the latest event date in silver)",
    )
    parser.add_argument("--horizon-months", type=int, default=defaults.horizon_months)
    parser.add_argument(
        "--discount-rate", type=float, default=defaults.monthly_discount_rate, help="monthly, e.g. 0.01"
    )
    parser.add_argument("--time-unit", choices=get_args(TimeUnit), default=defaults.time_unit)
    parser.add_argument("--step", choices=("all", *STEPS), default="all", help="default: all, in order")
    parser.add_argument("--run-id", help="the run to work on (default: a new one; needed for a later step)")
    args = parser.parse_args(argv)
    if args.step not in ("all", "stage") and not args.run_id:
        parser.error(f"--step {args.step} needs the --run-id of a staged run")
    try:
        clv = ClvSettings.model_validate(
            defaults.model_dump()
            | {
                "horizon_months": args.horizon_months,
                "monthly_discount_rate": args.discount_rate,
                "time_unit": args.time_unit,
            }
        )
    except ValidationError as error:
        parser.error(str(error))
    return args, clv


def main(argv: list[str] | None = None) -> int:
    args, clv = _arguments(sys.argv[1:] if argv is None else argv)
    # Spark and the job load only once the arguments are known to be good.
    from salesinsights.clv.progress import Progress
    from salesinsights.clv.snapshot import check_run_id, ensure_clv_tables
    from salesinsights.runs.clv.job import (
        RunRequest,
        TooLittleHistoryError,
        audit_run,
        new_run_id,
        publish_run,
        report_run,
        stage_run,
    )
    from salesinsights.spark.session import build_spark

    settings = get_settings()
    run_id = check_run_id(args.run_id or new_run_id())
    steps = STEPS if args.step == "all" else (args.step,)
    progress = Progress()
    progress.note(f"run {run_id}: {', '.join(steps)}")
    spark = build_spark(settings, "salesinsights-clv")
    try:
        ensure_clv_tables(spark, settings)
        if "stage" in steps:
            try:
                stage_run(spark, settings, RunRequest(run_id, args.as_of, clv), progress)
            except TooLittleHistoryError as young:
                print(f"nothing to value customers on yet: {young}", file=sys.stderr)
                return Exit.NOTHING_TO_DO
        if "audit" in steps and not all(
            result.passed for result in audit_run(spark, settings, run_id, progress)
        ):
            progress.note(f"run {run_id} rejected by its audit: not published")
            return Exit.FAILED_VERDICT
        if "publish" in steps:
            publish_run(spark, settings, run_id, progress)
        if "report" in steps:
            report_run(spark, settings, run_id, clv, progress)
    finally:
        spark.stop()
    return Exit.OK


if __name__ == "__main__":
    sys.exit(main())
