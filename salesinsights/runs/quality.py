"""`salesinsights dq` (`make dq`, the data_quality_nightly DAG): validate one event day of the lake with the
Great Expectations suites.

Prints a summary, stores every outcome in audit.dq_results, renders the Data Docs (data/dq/data_docs/), and
exits 3 (a failed verdict) when a critical expectation failed, naming each."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime

from salesinsights.ops import Exit, job_parser
from salesinsights.quality.day import newest_complete_day
from salesinsights.quality.outcomes import summary
from salesinsights.quality.suites import SUITES
from salesinsights.quality.validate import validate_day
from salesinsights.settings import get_settings


def main(argv: list[str] | None = None) -> int:
    parser = job_parser("salesinsights dq", __doc__)
    parser.add_argument(
        "--day", type=date.fromisoformat, help="event date, YYYY-MM-DD (default: the newest complete one)"
    )
    parser.add_argument(
        "--tables", nargs="+", choices=sorted({spec.table for spec in SUITES}), help="default: every table"
    )
    parser.add_argument("--run-id", help="a repeated run id replaces that run's results (default: a new id)")
    args = parser.parse_args(argv)
    settings = get_settings()
    day = args.day or newest_complete_day(settings)
    run_id = args.run_id or f"manual__{datetime.now(UTC):%Y%m%dT%H%M%S}"
    report = validate_day(settings, day, run_id, args.tables)
    print(summary(report))
    if report.critical_failures:
        names = ", ".join(
            sorted({f"{outcome.suite}[{outcome.rule}]" for outcome in report.critical_failures})
        )
        print(f"data quality of {day} FAILED: {names}", file=sys.stderr)
        return Exit.FAILED_VERDICT
    return Exit.OK
