"""The metastore in Postgres by setting (SALESINSIGHTS_SQL__METASTORE_URL): the SQL endpoint registers the
lake's tables there, in a real PostgreSQL server of the test's own, and answers by name from it; no Derby
database is made and no Derby server listens."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from impala.dbapi import connect

from salesinsights.catalog import GOLD_PRODUCT_SALES_DAILY
from salesinsights.settings import KafkaSettings, Settings, SqlSettings
from tests.gold_lake import GoldLake, daily_rows, generated_events
from tests.postgres import Postgres, postgres_server
from tests.support import free_port, platform_env, sql_server

pytestmark = pytest.mark.e2e
DAY = date(2019, 10, 9)
USER, PASSWORD = "hive", "metastore-secret"


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    with postgres_server() as server:
        server.psql(f"CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'")
        server.psql(f"CREATE DATABASE metastore OWNER {USER}")
        yield server


def test_the_tables_are_named_in_postgres(postgres: Postgres, tmp_path: Path) -> None:
    url = f"jdbc:postgresql://127.0.0.1:{postgres.port}/metastore"
    sql = SqlSettings(thrift_port=free_port(), connect_port=free_port(), metastore_port=free_port())
    settings = Settings(data_dir=tmp_path / "data", sql=sql)
    events = generated_events(DAY, scale=0.01)
    GoldLake(settings).add(events)
    env = platform_env(
        settings.data,
        KafkaSettings(),
        SALESINSIGHTS_SQL__THRIFT_PORT=str(sql.thrift_port),
        SALESINSIGHTS_SQL__CONNECT_PORT=str(sql.connect_port),
        SALESINSIGHTS_SQL__METASTORE_PORT=str(sql.metastore_port),
        SALESINSIGHTS_SQL__METASTORE_URL=url,
        SALESINSIGHTS_SQL__METASTORE_USER=USER,
        SALESINSIGHTS_SQL__METASTORE_PASSWORD=PASSWORD,
    )
    with sql_server(settings, env):
        connection = connect(
            host="127.0.0.1", port=sql.thrift_port, auth_mechanism="PLAIN", user="analyst", password="-"
        )
        cursor = connection.cursor()
        cursor.execute(f"SELECT CAST(sum(revenue) AS STRING) FROM {GOLD_PRODUCT_SALES_DAILY.qualified_name}")
        revenue = Decimal(cursor.fetchall()[0][0])
        cursor.execute("SELECT '${env:SALESINSIGHTS_SQL__METASTORE_PASSWORD}'")
        leaked = cursor.fetchall()[0][0]
        connection.close()
        registered = postgres.psql(
            'SELECT d."NAME", t."TBL_NAME" FROM "TBLS" t JOIN "DBS" d USING ("DB_ID")', "metastore"
        )
        assert not (settings.metastore_dir / "metastore_db").exists()
        assert not (settings.metastore_dir / "password").exists()
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", sql.metastore_port), timeout=2)
    assert PASSWORD not in leaked, leaked
    assert revenue == sum(Decimal(str(row["revenue"])) for row in daily_rows(events))
    assert set(registered.split()) >= {"gold|product_sales_daily", "silver|events", "audit|stream_batches"}
