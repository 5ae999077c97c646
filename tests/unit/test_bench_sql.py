"""The SQL benchmark's queries read alike in both engines' dialects: each runs in DuckDB over a small lake
written as the stream writes it (the endpoint's side runs in `make bench-sql` and the endpoint's e2e test
runs the example queries), and the comparison of answers ignores only the drivers' types."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from salesinsights.bench.sql import LAST_DAY, QUERIES, comparable
from salesinsights.settings import Settings
from salesinsights.sql_client import in_process
from tests.gold_lake import GoldLake, generated_events


def test_every_benchmark_query_runs_in_duckdb_over_the_lake(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    GoldLake(settings).add(generated_events(LAST_DAY, scale=0.01))
    with in_process(settings) as run:
        answers = {query.name: run(query.sql) for query in QUERIES}
    assert answers["top_products_last_day"].rows, "the last day's products"
    assert [row[0] for row in answers["revenue_per_day"].rows] == [LAST_DAY]
    assert len(QUERIES) >= 8 and {query.layer for query in QUERIES} == {"gold", "silver"}


def test_answers_compare_across_the_drivers_types() -> None:
    endpoint = [(1, Decimal("12.345"), datetime(2020, 2, 29, 10, 0), date(2020, 2, 29), None)]
    duckdb = [(1, 12.35, datetime(2020, 2, 29, 10, 0), date(2020, 2, 29), None)]
    assert comparable(endpoint) == comparable(duckdb)
    assert comparable([(1, 12.30)]) != comparable([(1, 12.35)])
