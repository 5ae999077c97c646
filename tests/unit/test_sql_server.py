"""The SQL endpoint's registration of the lake's tables by name: one database per layer (with its comment),
one external Delta table per catalogue table whose log exists, nothing registered twice; and its settings."""

from __future__ import annotations

from pathlib import Path

from salesinsights.catalog import GOLD_PRODUCT_SALES_DAILY, SILVER_EVENTS, TABLES
from salesinsights.settings import Settings
from salesinsights.spark.sql_server import LAYER_COMMENTS, registration_statements, sql_server_conf


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
    jars = tmp_path / "jars" / "spark"
    jars.mkdir(parents=True)
    (jars / "delta.jar").touch()
    settings = Settings(data_dir=tmp_path / "data", jars_dir=tmp_path / "jars")
    conf = sql_server_conf(settings)
    assert conf["spark.hadoop.hive.server2.thrift.bind.host"] == "127.0.0.1"
    assert conf["spark.connect.grpc.binding.address"] == "127.0.0.1"
    assert (conf["spark.hadoop.hive.server2.thrift.port"], conf["spark.connect.grpc.binding.port"]) == (
        "10000",
        "15002",
    )
    assert (
        str(tmp_path / "data" / "metastore" / "metastore_db")
        in conf["spark.hadoop.javax.jdo.option.ConnectionURL"]
    )
    assert conf["spark.driver.extraClassPath"] == str(jars / "delta.jar")
