"""`salesinsights maintenance` (`make maintenance`, the delta_maintenance DAG): compact and vacuum the
medallion's and the CLV's Delta tables without disturbing the stream."""

from __future__ import annotations

import logging

from salesinsights.catalog import CART_TABLES, CLV_TABLES, MEDALLION_TABLES
from salesinsights.ops import Exit, job_parser
from salesinsights.settings import get_settings
from salesinsights.spark.maintenance import maintain
from salesinsights.spark.session import build_spark

MAINTAINED_TABLES = MEDALLION_TABLES + CLV_TABLES + CART_TABLES


def main(argv: list[str] | None = None) -> int:
    names = [table.qualified_name for table in MAINTAINED_TABLES]
    parser = job_parser("salesinsights maintenance", __doc__)
    parser.add_argument("--table", action="append", choices=names, help="only these tables (default: all)")
    parser.add_argument("--no-vacuum", action="store_true", help="compact only")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    spark = build_spark(settings, "salesinsights-maintenance")
    try:
        for table in MAINTAINED_TABLES:
            if args.table is None or table.qualified_name in args.table:
                print(maintain(spark, settings, table, vacuum=not args.no_vacuum))
    finally:
        spark.stop()
    return Exit.OK
