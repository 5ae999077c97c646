"""The SQL endpoint's registration of the lake's tables by name: one database per layer (with its comment),
one external Delta table per catalogue table whose log exists, nothing registered twice; and its settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from salesinsights.catalog import GOLD_PRODUCT_SALES_DAILY, SILVER_EVENTS, TABLES
from salesinsights.settings import ServiceSettings, Settings, SqlSettings
from salesinsights.spark.metastore import metastore_password, password_path
from salesinsights.spark.sql_server import (
    LAYER_COMMENTS,
    password_environment,
    registration_statements,
    sql_server_conf,
)


def test_each_new_table_is_registered_by_name_at_its_location(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "it's data")
    statements = registration_statements(settings, [SILVER_EVENTS, GOLD_PRODUCT_SALES_DAILY])
    assert statements == [
        f"CREATE DATABASE IF NOT EXISTS gold COMMENT '{LAYER_COMMENTS['gold']}'",
        f"CREATE DATABASE IF NOT EXISTS silver COMMENT '{LAYER_COMMENTS['silver']}'",
        "CREATE TABLE IF NOT EXISTS silver.events USING DELTA "
        f"LOCATION '{tmp_path}/it\\'s data/lake/silver/events'",
        "CREATE TABLE IF NOT EXISTS gold.product_sales_daily USING DELTA "
        f"LOCATION '{tmp_path}/it\\'s data/lake/gold/product_sales_daily'",
    ]
    assert registration_statements(settings, []) == []


def test_every_layer_of_the_catalogue_has_a_database_comment() -> None:
    assert {table.layer for table in TABLES} <= LAYER_COMMENTS.keys()


def test_the_endpoint_listens_where_the_settings_say_and_keeps_its_metastore_under_data(
    tmp_path: Path,
) -> None:
    jars, guard = fetched_jars(tmp_path)
    settings = Settings(data_dir=tmp_path / "data", jars_dir=tmp_path / "jars")
    conf = sql_server_conf(settings)
    assert conf["spark.hadoop.hive.server2.thrift.bind.host"] == "127.0.0.1"
    assert conf["spark.connect.grpc.binding.address"] == "127.0.0.1"
    assert (conf["spark.hadoop.hive.server2.thrift.port"], conf["spark.connect.grpc.binding.port"]) == (
        "10000",
        "15002",
    )
    # The endpoint opens its Derby database embedded (and serves it to the shells).
    database = tmp_path / "data" / "metastore" / "metastore_db"
    url = f"jdbc:derby:;databaseName={database};create=true"
    assert conf["spark.hadoop.javax.jdo.option.ConnectionURL"] == url
    password = metastore_password(settings)
    assert not any("password" in key.lower() or password in value for key, value in conf.items())
    derby = tmp_path / "jars" / "metastore" / "derbyclient.jar"
    assert conf["spark.driver.extraClassPath"] == f"{jars / 'delta.jar'}:{derby}:{guard}"


def fetched_jars(tmp_path: Path) -> tuple[Path, Path]:
    """What `make setup` leaves: the fetched Spark and metastore jars and the compiled guard."""
    jars = tmp_path / "jars" / "spark"
    jars.mkdir(parents=True)
    (jars / "delta.jar").touch()
    (tmp_path / "jars" / "metastore").mkdir()
    (tmp_path / "jars" / "metastore" / "derbyclient.jar").touch()
    guard = tmp_path / "jars" / "sql-guard" / "salesinsights-sql-guard.jar"
    guard.parent.mkdir()
    guard.touch()
    return jars, guard


def test_clients_write_only_the_endpoints_own_folders_and_read_only_the_lake(tmp_path: Path) -> None:
    fetched_jars(tmp_path)
    settings = Settings(data_dir=tmp_path / "data", jars_dir=tmp_path / "jars")
    conf = sql_server_conf(settings)
    assert conf["spark.sql.extensions"].split(",") == [
        "io.delta.sql.DeltaSparkSessionExtension",
        "salesinsights.sqlguard.ReadOnlyExtensions",
    ]
    assert conf["spark.hadoop.fs.file.impl"] == "salesinsights.sqlguard.ReadOnlyLocalFileSystem"
    data = tmp_path / "data"
    writable = conf["spark.hadoop.salesinsights.sql.writable.roots"].split(",")
    assert writable == [str(data / "metastore" / "hive"), str(data / "warehouse")]
    readable = conf["spark.hadoop.salesinsights.sql.readable.roots"].split(",")
    assert readable[0] == str(data / "lake")
    scratch = [conf[f"spark.hadoop.hive.{key}"] for key in ("exec.scratchdir", "exec.local.scratchdir")]
    assert all(path.startswith(str(data / "metastore" / "hive")) for path in scratch)
    # Neither the metastore's database nor its password is under a root a client may read.
    secrets = (password_path(settings), data / "metastore" / "metastore_db" / "seg0")
    assert not any(str(secret).startswith(f"{root}/") for secret in secrets for root in readable + writable)


def test_without_the_compiled_guard_the_endpoint_does_not_start(tmp_path: Path) -> None:
    _, guard = fetched_jars(tmp_path)
    guard.unlink()
    with pytest.raises(FileNotFoundError, match="make setup"):
        sql_server_conf(Settings(data_dir=tmp_path / "data", jars_dir=tmp_path / "jars"))


def test_beyond_the_loopback_address_the_endpoint_needs_a_password(tmp_path: Path) -> None:
    fetched_jars(tmp_path)
    open_to_all = ServiceSettings(bind_host="0.0.0.0")
    with pytest.raises(ValueError, match="SALESINSIGHTS_SQL__PASSWORD"):
        password_environment(Settings(data_dir=tmp_path, services=open_to_all))
    assert password_environment(Settings(data_dir=tmp_path)) == {}

    guarded = Settings(
        data_dir=tmp_path,
        jars_dir=tmp_path / "jars",
        services=open_to_all,
        sql=SqlSettings(password=SecretStr("s3cret")),
    )
    assert set(password_environment(guarded).values()) == {"s3cret"}
    conf = sql_server_conf(guarded)
    assert conf["spark.hadoop.hive.server2.authentication"] == "CUSTOM"
    assert "s3cret" not in str(conf), "the password stays out of the Spark configuration clients can list"
