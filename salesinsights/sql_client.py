"""The lake's tables by name from Python, two ways: through the SQL endpoint (impyla over HiveServer2's
protocol, exactly what a BI tool's JDBC/ODBC driver sees) or in this process with DuckDB over the same Delta
files (delta-rs), each catalogue table a view `layer.name`. `salesinsights sql` uses either; the SQL
benchmark measures one against the other."""

from __future__ import annotations

import getpass
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import duckdb
from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError

from salesinsights.catalog import TABLES
from salesinsights.settings import Settings

Engine = Literal["endpoint", "duckdb"]


@dataclass(frozen=True)
class Answer:
    columns: list[str]
    rows: list[tuple[Any, ...]]


class Runner(Protocol):
    def __call__(self, query: str) -> Answer: ...


@contextmanager
def endpoint(settings: Settings) -> Iterator[Runner]:
    """Queries through the JDBC/ODBC endpoint, one connection for all of them."""
    from impala.dbapi import connect

    connection = connect(
        host=settings.services.client_host,
        port=settings.sql.thrift_port,
        auth_mechanism="PLAIN",
        user=getpass.getuser(),
        # Without a password of its own, the endpoint (on the loopback address) takes any.
        password=settings.sql.password.get_secret_value() if settings.sql.password else "-",
        timeout=settings.sql.client_timeout.total_seconds(),
    )
    cursor = connection.cursor()

    def run(query: str) -> Answer:
        cursor.execute(query)
        columns = [column[0].split(".")[-1] for column in cursor.description or []]
        return Answer(columns, list(cursor.fetchall()) if columns else [])

    try:
        yield run
    finally:
        # The cursor first: left to the garbage collector, it would reach for a server that may be gone.
        cursor.close()
        connection.close()


@contextmanager
def in_process(settings: Settings) -> Iterator[Runner]:
    """Queries in DuckDB over the Delta tables' current versions, read once by delta-rs."""
    with duckdb.connect() as connection:
        for table in TABLES:
            try:
                dataset = DeltaTable(table.path(settings)).to_pyarrow_dataset()
            except TableNotFoundError:
                continue
            connection.execute(f"CREATE SCHEMA IF NOT EXISTS {table.layer}")
            source = f"{table.layer}__{table.name}"
            connection.register(source, dataset)
            connection.execute(f"CREATE VIEW {table.qualified_name} AS SELECT * FROM {source}")

        def run(query: str) -> Answer:
            result = connection.execute(query)
            columns = [column[0] for column in result.description or []]
            return Answer(columns, result.fetchall() if columns else [])

        yield run


def beeline_command(settings: Settings) -> list[str]:
    """Hive's JDBC shell, as pyspark ships it, connected to the endpoint (with its password, if any)."""
    import pyspark

    beeline = Path(pyspark.__file__).parent / "bin" / "beeline"
    url = f"jdbc:hive2://{settings.services.client_host}:{settings.sql.thrift_port}/default"
    command = [str(beeline), "-u", url, "-n", getpass.getuser()]
    if settings.sql.password:
        command += ["-p", settings.sql.password.get_secret_value()]
    return command


def runner(settings: Settings, engine: Engine) -> AbstractContextManager[Runner]:
    """The engine's runner, as a context manager."""
    return endpoint(settings) if engine == "endpoint" else in_process(settings)


def text_table(answer: Answer, rows: Sequence[tuple[Any, ...]] | None = None) -> str:
    """The answer as an aligned text table, numbers to the right, NULL for missing values."""
    chosen = answer.rows if rows is None else rows
    shown = [["NULL" if value is None else str(value) for value in row] for row in chosen]
    widths = [max([len(name)] + [len(row[i]) for row in shown]) for i, name in enumerate(answer.columns)]
    numeric = [
        bool(answer.rows) and all(isinstance(row[i], int | float) or row[i] is None for row in answer.rows)
        for i in range(len(answer.columns))
    ]

    def line(cells: Sequence[str]) -> str:
        return " | ".join(
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, right in zip(cells, widths, numeric, strict=True)
        ).rstrip()

    rule = "-+-".join("-" * width for width in widths)
    return "\n".join([line(answer.columns), rule, *(line(row) for row in shown)])


EXAMPLES = Path(__file__).with_name("example_queries.sql")


def example_queries() -> dict[str, str]:
    """The example queries by name, from the file analysts are pointed at: each from its "-- name:" line to
    the next, without comments or the closing semicolon."""
    queries = {}
    for section in EXAMPLES.read_text().split("\n-- name:")[1:]:
        name, *lines = section.splitlines()
        body = "\n".join(line for line in lines if not line.startswith("--")).strip()
        queries[name.strip()] = body.removesuffix(";").strip()
    return queries
