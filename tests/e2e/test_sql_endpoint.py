"""The SQL endpoint as analysts and BI tools use it, against the service itself (`jobs/sql_server.py`, what
the supervisor runs) over a lake written as the platform writes it: every table by name with its comments
through Hive's own JDBC client (beeline), a Python DB-API client (impyla) and Spark Connect; the answers
equal the lake, rows and tables added later included; nothing a client sends changes the lake or runs the
client's code; every server listens on the loopback address only; and, given a password, neither answers a
client without it. The venv's spark-sql and pyspark, started as a user starts them, see the same tables by
name through the metastore that the endpoint serves, which answers no one without its own password."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyspark
import pytest
from deltalake import DeltaTable
from impala.dbapi import connect
from pydantic import SecretStr
from pyspark.sql import SparkSession

from salesinsights.catalog import (
    AUDIT_STREAM_BATCHES,
    GOLD_CUSTOMER_LIFETIME_VALUE,
    GOLD_PRODUCT_SALES,
    GOLD_PRODUCT_SALES_DAILY,
    SILVER_EVENTS,
    Table,
)
from salesinsights.ops import Exit
from salesinsights.settings import KafkaSettings, Settings, SqlSettings
from salesinsights.spark.metastore import metastore, password_path
from salesinsights.spark.shell_defaults import write_spark_defaults
from salesinsights.spark.sql_health import STATUS_FILE
from salesinsights.spark.tables import ensure_table, spark_schema
from salesinsights.sql_client import example_queries
from tests.gold_lake import Event, daily_rows, generated_events, silver_row, window_rows
from tests.support import REPO, beeline, free_port, platform_env, run_beeline, sql_server, wait_until

DAY = date(2019, 10, 6)
PASSWORD = "analysts-only"
REFUSED = "The SalesInsights SQL endpoint is read-only"
DAILY = GOLD_PRODUCT_SALES_DAILY.qualified_name
# Every way SQL can change a table, its catalogue entry or the files beneath it.
WRITES = [
    f"INSERT INTO {DAILY} SELECT * FROM {DAILY} LIMIT 1",
    f"INSERT OVERWRITE {DAILY} SELECT * FROM {DAILY} WHERE units > 1",
    f"UPDATE {DAILY} SET revenue = 0",
    f"DELETE FROM {DAILY} WHERE units > 0",
    f"MERGE INTO {DAILY} AS t USING {DAILY} AS s "
    "ON t.product_id = s.product_id AND t.event_date = s.event_date WHEN MATCHED THEN DELETE",
    f"DROP TABLE {DAILY}",
    "DROP DATABASE gold CASCADE",
    f"ALTER TABLE {DAILY} ADD COLUMNS (note STRING)",
    f"ALTER TABLE {DAILY} SET TBLPROPERTIES ('delta.logRetentionDuration' = 'interval 1 hours')",
    f"TRUNCATE TABLE {DAILY}",
    f"OPTIMIZE {DAILY}",
    f"VACUUM {DAILY} RETAIN 0 HOURS",
    f"RESTORE TABLE {DAILY} TO VERSION AS OF 0",
    f"CREATE TABLE gold.copy USING DELTA AS SELECT * FROM {DAILY}",
    f"CREATE OR REPLACE TABLE {DAILY} (x INT) USING DELTA",
    "CREATE FUNCTION gold.pi AS 'org.apache.hadoop.hive.ql.udf.UDFPI'",
    "ADD JAR '/tmp/any.jar'",
    "SELECT java_method('java.lang.System', 'getProperty', 'user.home')",
]


# Hive's own JDBC client, a JVM each: a sample of the above.
BEELINE_WRITES = [WRITES[0], WRITES[3], WRITES[5], WRITES[11]]


def write_like_the_stream(
    spark: SparkSession, settings: Settings, table: Table, rows: list[dict[str, Any]]
) -> None:
    stamped = [row | {"updated_at": datetime.now(UTC), "last_batch": "test:0"} for row in rows]
    frame = spark.createDataFrame(stamped, spark_schema(table))
    frame.write.format("delta").mode("append").save(table.path(settings))


@pytest.fixture(scope="module")
def events() -> list[Event]:
    return generated_events(DAY, scale=0.02)


@pytest.fixture(scope="module")
def endpoint(
    spark: SparkSession, events: list[Event], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """The endpoint over a lake of one day: silver, the gold tables; the audit table comes later."""
    data = tmp_path_factory.mktemp("sql") / "data"
    sql = SqlSettings(
        thrift_port=free_port(),
        connect_port=free_port(),
        metastore_port=free_port(),
        password=SecretStr(PASSWORD),
    )
    settings = Settings(data_dir=data, sql=sql)
    for table in (SILVER_EVENTS, GOLD_PRODUCT_SALES, GOLD_PRODUCT_SALES_DAILY, GOLD_CUSTOMER_LIFETIME_VALUE):
        ensure_table(spark, settings, table)
    silver = [silver_row(event, f"e{index}") for index, event in enumerate(events)]
    spark.createDataFrame(silver, spark_schema(SILVER_EVENTS)).write.format("delta").mode("append").save(
        SILVER_EVENTS.path(settings)
    )
    write_like_the_stream(spark, settings, GOLD_PRODUCT_SALES, window_rows(events))
    write_like_the_stream(spark, settings, GOLD_PRODUCT_SALES_DAILY, daily_rows(events))
    env = platform_env(
        data,
        KafkaSettings(),
        SALESINSIGHTS_SQL__THRIFT_PORT=str(sql.thrift_port),
        SALESINSIGHTS_SQL__CONNECT_PORT=str(sql.connect_port),
        SALESINSIGHTS_SQL__METASTORE_PORT=str(sql.metastore_port),
        SALESINSIGHTS_SQL__REFRESH="PT2S",
        SALESINSIGHTS_SQL__PASSWORD=PASSWORD,
    )
    with sql_server(settings, env):
        yield settings


def connected(settings: Settings, password: str) -> Any:
    """A DB-API connection to the endpoint: impyla, HiveServer2's protocol over SASL PLAIN, as BI tools."""
    port = settings.sql.thrift_port
    return connect(host="127.0.0.1", port=port, auth_mechanism="PLAIN", user="analyst", password=password)


@pytest.fixture
def cursor(endpoint: Settings) -> Iterator[Any]:
    connection = connected(endpoint, PASSWORD)
    try:
        yield connection.cursor()
    finally:
        connection.close()


def query(cursor: Any, sql: str) -> list[tuple[Any, ...]]:
    cursor.execute(sql)
    return list(cursor.fetchall())


def test_every_table_is_listed_by_name_with_its_comments(endpoint: Settings, cursor: Any) -> None:
    assert {row[1] for row in query(cursor, "SHOW TABLES IN gold")} >= {
        "product_sales",
        "product_sales_daily",
    }
    assert "events" in {row[1] for row in query(cursor, "SHOW TABLES IN silver")}
    described = {row[0]: row for row in query(cursor, f"DESCRIBE TABLE EXTENDED {DAILY}")}
    assert described["revenue"][2] == GOLD_PRODUCT_SALES_DAILY.column("revenue").comment
    assert described["Comment"][1] == GOLD_PRODUCT_SALES_DAILY.description
    database = {row[0]: row[1] for row in query(cursor, "DESCRIBE DATABASE gold")}
    assert database["Comment"].startswith("Sales per product")
    # Hive's own client sees the same catalogue.
    assert ["gold", "product_sales_daily", "false"] in beeline(endpoint, "SHOW TABLES IN gold")


def test_answers_equal_the_lake_and_follow_it(
    spark: SparkSession, endpoint: Settings, cursor: Any, events: list[Event]
) -> None:
    expected = {
        (row["product_id"]): (row["revenue"], row["units"]) for row in daily_rows(events) if row["units"]
    }
    rows = query(
        cursor, f"SELECT product_id, revenue, units FROM {DAILY} WHERE event_date = DATE'{DAY}' AND units > 0"
    )
    assert {product: (Decimal(revenue), units) for product, revenue, units in rows} == expected
    # A join of silver and gold, as a BI tool's report would run it.
    joined = query(
        cursor,
        f"SELECT count(*) FROM {DAILY} g JOIN (SELECT product_id, count(*) AS n FROM silver.events "
        "WHERE event_type = 'purchase' GROUP BY product_id) s "
        "ON g.product_id = s.product_id WHERE g.units = s.n",
    )
    assert joined == [(len(expected),)]

    # A purchase that reaches gold is in the next answer; a table created later appears by name.
    late = Event(
        datetime(2019, 10, 6, 23, 0, tzinfo=UTC), "purchase", 999_999_999, "late", Decimal("12.34"), 1
    )
    write_like_the_stream(spark, endpoint, GOLD_PRODUCT_SALES_DAILY, daily_rows([late]))
    assert query(cursor, f"SELECT revenue FROM {DAILY} WHERE product_id = 999999999") == [(Decimal("12.34"),)]
    ensure_table(spark, endpoint, AUDIT_STREAM_BATCHES)
    wait_until(lambda: "stream_batches" in tables_in(cursor, "audit"), 60, "audit.stream_batches registered")


def tables_in(cursor: Any, database: str) -> set[str]:
    if (database,) not in query(cursor, "SHOW DATABASES"):
        return set()
    return {row[1] for row in query(cursor, f"SHOW TABLES IN {database}")}


def test_every_example_query_runs(cursor: Any, events: list[Event]) -> None:
    answers = {name: query(cursor, sql) for name, sql in example_queries().items()}
    sold = [(-Decimal(str(row["revenue"])), int(str(row["product_id"]))) for row in daily_rows(events)]
    expected = [(product, -negated) for negated, product in sorted(sold) if negated]
    top = [(product, Decimal(revenue)) for product, revenue, *_ in answers["top products today"]]
    assert top == expected[:10]
    assert answers["revenue by brand and category"] and answers["conversion funnel by category"]
    assert answers["clv by segment with last month's sales"] == []  # no CLV run on this lake yet


def lake_state(settings: Settings) -> dict[str, Any]:
    """Each table's Delta version and every file beneath the lake, with its size and modification time."""
    lake = Path(settings.lake)
    versions = {
        table.qualified_name: DeltaTable(table.path(settings)).version()
        for table in (SILVER_EVENTS, GOLD_PRODUCT_SALES, GOLD_PRODUCT_SALES_DAILY)
    }
    files = {
        str(path): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in lake.rglob("*")
        if path.is_file()
    }
    return {"versions": versions, "files": files}


def test_no_client_can_change_the_lake(endpoint: Settings, cursor: Any) -> None:
    before = lake_state(endpoint)
    rows_before = query(cursor, f"SELECT count(*), sum(revenue) FROM {DAILY}")
    for statement in WRITES:
        with pytest.raises(Exception, match=REFUSED):
            cursor.execute(statement)
    # Reading a file outside the lake by path (the platform's passwords live beside it) is refused too, and
    # so is reading the metastore's password beside the folders the endpoint writes.
    for outside in (endpoint.run_dir / STATUS_FILE, password_path(endpoint)):
        with pytest.raises(Exception, match=REFUSED):
            cursor.execute(f"SELECT * FROM text.`{outside}`")
    for statement in BEELINE_WRITES:
        done = run_beeline(endpoint, statement)
        assert done.returncode != 0 and REFUSED in done.stderr, done.stdout[-3000:] + done.stderr[-3000:]

    assert lake_state(endpoint) == before
    assert query(cursor, f"SELECT count(*), sum(revenue) FROM {DAILY}") == rows_before
    # Spark expands ${system:…} and ${env:…} in a client's SQL: the endpoint's JVM holds no secret there.
    (leaked,) = query(cursor, "SELECT '${system:derby.user.APP}${env:SALESINSIGHTS_SQL__PASSWORD}'")[0]
    assert password_path(endpoint).read_text() not in leaked and PASSWORD not in leaked, leaked
    assert "product_sales_daily" in {row[1] for row in query(cursor, "SHOW TABLES IN gold")}
    # What only reads still works: SET, USE, EXPLAIN, DESCRIBE HISTORY.
    query(cursor, "SET spark.sql.shuffle.partitions=2")
    cursor.execute("USE gold")
    assert query(cursor, "EXPLAIN SELECT * FROM product_sales_daily")
    assert query(cursor, f"DESCRIBE HISTORY {DAILY}")


def test_spark_connect_reads_the_lake_and_cannot_change_it(endpoint: Settings, cursor: Any) -> None:
    before = lake_state(endpoint)
    probe = subprocess.run(
        [
            sys.executable,
            str(REPO / "tests" / "connect_probe.py"),
            # With a token, Spark Connect's Python client skips TLS only for "localhost".
            f"sc://localhost:{endpoint.sql.connect_port}/;token={PASSWORD}",
            f"sc://localhost:{endpoint.sql.connect_port}/;token=guess",
            endpoint.lake,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr[-4000:]
    found = json.loads(probe.stdout.splitlines()[-1])
    count, revenue = query(cursor, f"SELECT count(*), CAST(sum(revenue) AS STRING) FROM {DAILY}")[0]
    assert (found["rows"], found["revenue"]) == (count, revenue)
    not_refused = {
        name: error for name, error in found["refused"].items() if error is None or "read-only" not in error
    }
    assert not not_refused, not_refused
    assert lake_state(endpoint) == before
    assert found["wrong_password"] is not None, "a client with a wrong token was answered"


def test_a_wrong_password_is_refused(endpoint: Settings) -> None:
    with pytest.raises(Exception, match=r"(?i)auth|password|sasl|login"):
        connected(endpoint, "guess").cursor().execute("SELECT 1")


def listening_addresses(port: int) -> set[str]:
    """The local addresses of the sockets listening on the port (Linux's /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].rsplit(":", 1)
            if fields[3] == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def test_every_server_listens_on_the_loopback_address_only(endpoint: Settings) -> None:
    # 127.0.0.1 as the kernel writes it, in IPv4 and as an IPv4-mapped IPv6 address.
    loopback = {"0100007F", "0000000000000000FFFF00000100007F"}
    for port in (endpoint.sql.thrift_port, endpoint.sql.connect_port, endpoint.sql.metastore_port):
        assert listening_addresses(port) and listening_addresses(port) <= loopback, port


def test_the_sql_command_answers_through_the_endpoint_and_in_duckdb_alike(
    endpoint: Settings, events: list[Event]
) -> None:
    env = platform_env(
        endpoint.data,
        KafkaSettings(),
        SALESINSIGHTS_SQL__THRIFT_PORT=str(endpoint.sql.thrift_port),
        SALESINSIGHTS_SQL__PASSWORD=PASSWORD,
    )
    statement = (
        "SELECT count(*) AS products, CAST(sum(revenue) AS DECIMAL(18, 2)) AS revenue "
        f"FROM {DAILY} WHERE event_date = DATE '{DAY}'"
    )

    def sql(*arguments: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "salesinsights.cli", "sql", *arguments]
        return subprocess.run(
            command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
        )

    outputs = []
    for engine in ("endpoint", "duckdb"):
        done = sql("--engine", engine, "--csv", statement)
        assert done.returncode == 0, done.stderr[-3000:]
        outputs.append(done.stdout.splitlines())
    assert outputs[0] == outputs[1]
    assert outputs[0][0] == "products,revenue"
    refused = sql(f"DELETE FROM {DAILY}")
    assert refused.returncode == Exit.USAGE and REFUSED in refused.stderr, refused.stderr[-3000:]


VENV_BIN = REPO / ".venv" / "bin"


@pytest.fixture
def shells_of(endpoint: Settings, tmp_path: Path) -> Iterator[Path]:
    """The venv's defaults as `make up` writes them for the endpoint's data folder (and back afterwards);
    the folder where the user happens to start a shell."""
    write_spark_defaults(endpoint)
    folder = tmp_path / "cwd"
    folder.mkdir()
    try:
        yield folder
    finally:
        write_spark_defaults(Settings())


def run_shell(command: list[str], folder: Path, stdin: str | None = None, **extra: str) -> str:
    """A shell with the venv's bin first on PATH and none of Spark's variables, as a user starts it."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SPARK_", "PYSPARK_"))}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env['PATH']}"
    env.update(extra)
    done = subprocess.run(
        command, cwd=folder, env=env, input=stdin, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_spark_sql_sees_the_tables_by_name_while_the_endpoint_runs(
    endpoint: Settings, cursor: Any, shells_of: Path
) -> None:
    total = f"SELECT CAST(sum(revenue) AS STRING) FROM {DAILY}"
    (expected,) = query(cursor, total)[0]
    by_path = f"SELECT count(*) FROM delta.`{GOLD_PRODUCT_SALES_DAILY.path(endpoint)}`"
    out = run_shell(["spark-sql", "-e", f"{total}; {by_path}; SET spark.sql.session.timeZone"], shells_of)
    (count,) = query(cursor, f"SELECT count(*) FROM {DAILY}")[0]
    assert out.split() == [expected, str(count), "spark.sql.session.timeZone", "UTC"]
    # No metastore_db/ nor derby.log where the shell started.
    assert list(shells_of.iterdir()) == []


def test_pyspark_sees_the_tables_by_name(endpoint: Settings, cursor: Any, shells_of: Path) -> None:
    script = f'print("rows", spark.table("{DAILY}").count())\n'
    # Python runs the shell's start-up (which makes `spark`) only when interactive, as a terminal would be.
    out = run_shell(["pyspark"], shells_of, stdin=script, PYSPARK_DRIVER_PYTHON_OPTS="-i")
    assert f"rows {query(cursor, f'SELECT count(*) FROM {DAILY}')[0][0]}" in out
    assert list(shells_of.iterdir()) == []


def test_the_metastore_answers_no_one_without_its_password(endpoint: Settings) -> None:
    """Derby's own client (ij), as any local user could run it: refused without the password, or with a
    wrong one; let in with it."""
    url = metastore(endpoint, served=False).url
    jars = Path(pyspark.__file__).parent / "jars"
    classpath = [
        *jars.glob("derbytools-*.jar"),
        *jars.glob("derbyshared-*.jar"),
        *(endpoint.jars / "metastore").glob("derbyclient-*.jar"),
    ]
    password = password_path(endpoint).read_text()
    attempts = (url, f"{url};user=APP;password=guess", f"{url};user=APP;password={password}")
    script = "".join(f"connect '{attempt}';\n" for attempt in attempts) + "SELECT count(*) FROM TBLS;\n"
    done = subprocess.run(
        ["java", "-cp", os.pathsep.join(map(str, classpath)), "org.apache.derby.tools.ij"],
        input=script,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = done.stdout + done.stderr
    assert output.count("Connection authentication failure") == 2, output
    # The third connection is in: the catalogue's tables (four at the start) are there to count.
    counted = re.search(r"-{5,}\s+(\d+)\s+1 row selected", output)
    assert output.count("ERROR") == 2 and counted and int(counted.group(1)) >= 4, output
