"""`salesinsights dq` (`make dq`, the data_quality_nightly DAG): validate event days of the lake with the
Great Expectations suites — one day, a range, or every complete day no run has validated yet.

Prints a summary per day, stores every outcome in audit.dq_results, renders the Data Docs
(data/dq/data_docs/), and exits 3 (a failed verdict) when a critical expectation failed on any day, naming
each; 4 (nothing to do) when there is no day to validate."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from salesinsights.ops import Exit, job_parser
from salesinsights.quality.day import complete_days, newest_complete_day
from salesinsights.quality.outcomes import summary
from salesinsights.quality.results import validated_days
from salesinsights.quality.suites import SUITES
from salesinsights.quality.validate import validate_days
from salesinsights.settings import Settings, get_settings


@dataclass(frozen=True)
class DayRequest:
    """Which event days a run validates: the `listed` ones, or (`pending`) every complete day of silver that
    no run has validated; neither: the newest complete day."""

    listed: tuple[date, ...] = ()
    pending: bool = False

    @classmethod
    def between(cls, first: date, last: date) -> DayRequest:
        if first > last:
            raise ValueError(f"the range's first day {first} is after its last day {last}")
        return cls(tuple(first + timedelta(days=n) for n in range((last - first).days + 1)))

    def days(self, settings: Settings) -> list[date]:
        """The days, oldest first; LookupError, saying why, when there is none to validate."""
        if self.listed:
            return sorted(set(self.listed))
        if self.pending:
            complete = complete_days(settings)
            if not complete:
                raise LookupError("silver holds no complete event day yet")
            done = validated_days(settings)
            pending = [day for day in complete if day not in done]
            if not pending:
                raise LookupError("every complete day has been validated")
            return pending
        return [newest_complete_day(settings)]


def airflow_request(run_type: str, logical_date: datetime | None, params: Mapping[str, Any]) -> DayRequest:
    """The days of a data_quality_nightly run: the trigger form's range when given; for a backfill run, the
    event day that ended before its logical date (the night run of day D + 1 validates D, so a backfill over
    a range of nights re-validates those days); otherwise every complete day not yet validated."""
    first, last = params.get("day_from"), params.get("day_to")
    if first or last:
        return DayRequest.between(
            date.fromisoformat(str(first or last)), date.fromisoformat(str(last or first))
        )
    if run_type == "backfill" and logical_date is not None:
        return DayRequest(((logical_date - timedelta(days=1)).date(),))
    return DayRequest(pending=True)


def _request(parser: argparse.ArgumentParser, args: argparse.Namespace) -> DayRequest:
    chosen = [
        name
        for name, given in (
            ("--day", args.day),
            ("--from/--to", args.first or args.last),
            ("--pending", args.pending),
        )
        if given
    ]
    if len(chosen) > 1:
        parser.error(f"{' and '.join(chosen)}: choose one")
    if (args.first is None) != (args.last is None):
        parser.error("a range needs both --from and --to")
    try:
        if args.first:
            return DayRequest.between(args.first, args.last)
    except ValueError as error:
        parser.error(str(error))
    return DayRequest(tuple(args.day or ()), args.pending)


def main(argv: list[str] | None = None) -> int:
    parser = job_parser("salesinsights dq", __doc__)
    days = parser.add_argument_group("days (default: the newest complete one)")
    days.add_argument("--day", nargs="+", type=date.fromisoformat, help="event dates, YYYY-MM-DD")
    days.add_argument("--from", dest="first", type=date.fromisoformat, help="first day of a range")
    days.add_argument("--to", dest="last", type=date.fromisoformat, help="last day of a range (inclusive)")
    days.add_argument(
        "--pending", action="store_true", help="every complete day that no run has validated yet"
    )
    parser.add_argument(
        "--tables", nargs="+", choices=sorted({spec.table for spec in SUITES}), help="default: every table"
    )
    parser.add_argument("--run-id", help="a repeated run id replaces that run's results (default: a new id)")
    args = parser.parse_args(argv)
    request = _request(parser, args)
    settings = get_settings()
    try:
        wanted = request.days(settings)
    except LookupError as empty:
        print(f"nothing to validate: {empty}", file=sys.stderr)
        return Exit.NOTHING_TO_DO
    run_id = args.run_id or f"manual__{datetime.now(UTC):%Y%m%dT%H%M%S}"
    reports = validate_days(settings, wanted, run_id, args.tables)
    failed = []
    for report in reports:
        print(summary(report))
        if report.critical_failures:
            names = sorted({f"{outcome.suite}[{outcome.rule}]" for outcome in report.critical_failures})
            print(f"data quality of {report.day} FAILED: {', '.join(names)}", file=sys.stderr)
            failed.append(report.day)
    print(f"validated {len(reports)} day(s) {wanted[0]}..{wanted[-1]}; failed: {len(failed)}")
    return Exit.FAILED_VERDICT if failed else Exit.OK
