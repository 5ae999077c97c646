"""`salesinsights clv`: a nightly CLV run by hand (backtest and model choice, stage, audit, publish, report),
or one step of it as the clv_nightly DAG runs them; `salesinsights clv backtest` the backtest alone. Exits 3
(a failed verdict) when the audit rejects the run: it is then not published; 4 (nothing to do) when silver's
history up to the as-of date is too short to value customers on (`SALESINSIGHTS_CLV__MIN_HISTORY_DAYS`), or
for the backtest alone, when no customer bought before its holdout."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import get_args

from pydantic import ValidationError

from salesinsights.ops import Exit, job_parser
from salesinsights.settings import ClvSettings, PurchaseModelName, SelectionMetric, TimeUnit, get_settings

STEPS = ("stage", "audit", "publish", "report")
BACKTEST = "backtest"


def _model_arguments(parser: argparse.ArgumentParser, defaults: ClvSettings) -> None:
    parser.add_argument(
        "--as-of",
        type=date.fromisoformat,
        help="last day of purchases to use, YYYY-MM-DD (default: the latest event date in silver)",
    )
    parser.add_argument("--horizon-months", type=int, default=defaults.horizon_months)
    parser.add_argument("--time-unit", choices=get_args(TimeUnit), default=defaults.time_unit)
    parser.add_argument(
        "--holdout-days",
        type=int,
        default=defaults.holdout_days,
        help="the backtest's holdout: the models are fitted up to the as-of date less this, and predict it",
    )
    parser.add_argument(
        "--models",
        type=lambda text: text.split(","),
        default=defaults.models,
        help=f"comma-separated, of {', '.join(get_args(PurchaseModelName))} (default: all)",
    )
    parser.add_argument("--select-by", choices=get_args(SelectionMetric), default=defaults.selection_metric)
    parser.add_argument("--run-id", help="the run to work on (default: a new one; needed for a later step)")


def _clv_settings(parser: argparse.ArgumentParser, defaults: ClvSettings, **overrides: object) -> ClvSettings:
    try:
        return ClvSettings.model_validate(defaults.model_dump() | overrides)
    except ValidationError as error:
        parser.error(str(error))


def _arguments(argv: list[str]) -> tuple[argparse.Namespace, ClvSettings]:
    defaults = get_settings().clv
    backtest_only = argv[:1] == [BACKTEST]
    parser = job_parser(f"salesinsights clv{' backtest' if backtest_only else ''}", __doc__)
    _model_arguments(parser, defaults)
    if not backtest_only:
        parser.add_argument(
            "--discount-rate", type=float, default=defaults.monthly_discount_rate, help="monthly, e.g. 0.01"
        )
        parser.add_argument("--step", choices=("all", *STEPS), default="all", help="default: all, in order")
    args = parser.parse_args(argv[1:] if backtest_only else argv)
    args.step = BACKTEST if backtest_only else args.step
    if args.step not in ("all", "stage", BACKTEST) and not args.run_id:
        parser.error(f"--step {args.step} needs the --run-id of a staged run")
    clv = _clv_settings(
        parser,
        defaults,
        horizon_months=args.horizon_months,
        time_unit=args.time_unit,
        holdout_days=args.holdout_days,
        models=args.models,
        selection_metric=args.select_by,
        **({} if backtest_only else {"monthly_discount_rate": args.discount_rate}),
    )
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
        backtest_run,
        new_run_id,
        publish_run,
        report_run,
        stage_run,
    )
    from salesinsights.spark.session import build_spark

    settings = get_settings()
    run_id = check_run_id(args.run_id or new_run_id(BACKTEST if args.step == BACKTEST else "clv"))
    steps = (args.step,) if args.step in (BACKTEST, *STEPS) else STEPS
    progress = Progress()
    progress.note(f"run {run_id}: {', '.join(steps)}")
    spark = build_spark(settings, "salesinsights-clv")
    try:
        ensure_clv_tables(spark, settings)
        request = RunRequest(run_id, args.as_of, clv)
        if BACKTEST in steps:
            try:
                evaluation = backtest_run(spark, settings, request, progress)
            except TooLittleHistoryError as young:
                print(f"nothing to backtest yet: {young}", file=sys.stderr)
                return Exit.NOTHING_TO_DO
            return Exit.OK if evaluation.result is not None else Exit.NOTHING_TO_DO
        if "stage" in steps:
            try:
                stage_run(spark, settings, request, progress)
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
