"""`salesinsights sql "SELECT …"`: one query over the lake's tables by name (`gold.product_sales_daily`,
`silver.events`, …), printed as a table. `salesinsights sql --shell` (`make sql`) opens beeline, Hive's own
JDBC shell, on the endpoint instead.

By default through the SQL endpoint (JDBC/ODBC, the platform's `sql` service): the answer a BI tool gets.
`--engine duckdb` answers in this process with DuckDB over the same Delta files, without the endpoint —
faster for one-off questions (no JVM), in DuckDB's SQL dialect rather than Spark's.

Exits 2 when the engine rejects the statement (its syntax, an unknown table, a write the endpoint refuses)
and 1 when it cannot be reached."""

from __future__ import annotations

import os
import sys
from typing import get_args

from salesinsights.ops import Exit, job_parser
from salesinsights.settings import get_settings
from salesinsights.sql_client import Engine, beeline_command, runner, text_table


def main(argv: list[str] | None = None) -> int:
    parser = job_parser("salesinsights sql", __doc__)
    parser.add_argument("query", nargs="?", help="one SQL statement (the read-only endpoint answers queries)")
    parser.add_argument("--shell", action="store_true", help="open beeline on the endpoint instead")
    parser.add_argument("--engine", choices=get_args(Engine), default="endpoint")
    parser.add_argument("--csv", action="store_true", help="comma-separated values instead of a table")
    parser.add_argument("--limit", type=int, default=1000, help="rows printed at most (default 1000)")
    args = parser.parse_args(argv)
    settings = get_settings()
    if args.shell:
        command = beeline_command(settings)
        os.execv(command[0], command)
    if not args.query:
        parser.error("a query, or --shell")
    try:
        with runner(settings, args.engine) as run:
            answer = run(args.query)
    except Exception as error:  # the engine's own message (syntax, unknown table, refused) is the answer
        print(f"error: {error}", file=sys.stderr)
        return Exit.CRASHED if isinstance(error, OSError) else Exit.USAGE
    shown = answer.rows[: args.limit]
    if args.csv:
        import csv

        writer = csv.writer(sys.stdout)
        writer.writerow(answer.columns)
        writer.writerows(shown)
    else:
        print(text_table(answer, shown))
    if len(answer.rows) > len(shown):
        print(f"({len(answer.rows)} rows, {len(shown)} shown: --limit)", file=sys.stderr)
    return Exit.OK
