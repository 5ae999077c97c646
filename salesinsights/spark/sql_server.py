"""The SQL endpoint for analysts and BI tools: one Spark application that registers the lake's tables by
name in a Hive metastore and serves them over JDBC/ODBC (the Spark Thrift Server, HiveServer2's protocol,
what Tableau, Power BI, Superset and DBeaver connect to) and Spark Connect (notebooks,
`pyspark --remote sc://127.0.0.1:15002`).

The metastore is embedded Derby under data/metastore, which one JVM at a time may open: this application
owns it, and the others (the stream, the CLV and maintenance jobs) keep writing the tables by path. It
registers every table of the catalogue whose Delta log exists, at start and every `sql.refresh`, so a
table created later (the CLV tables after the first run) appears by name without a restart. The entries
are external tables over the Delta folders: every query reads the table's newest version, so what has
reached gold is in the next answer.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from delta.tables import DeltaTable
from pyspark.sql import SparkSession

from salesinsights.catalog import TABLES, Layer, Table
from salesinsights.settings import Settings
from salesinsights.spark.session import local_jars

LAYER_COMMENTS: dict[Layer, str] = {
    "bronze": "Every Kafka record as received, once.",
    "silver": "Valid events, once each, and the quarantine of the invalid ones with their reasons.",
    "gold": "Sales per product and window or day, and customer lifetime value.",
    "audit": "The stream's micro-batches and the data-quality results.",
}


def sql_server_conf(settings: Settings) -> dict[str, str]:
    """What the SQL endpoint's application adds to the platform's Spark settings."""
    metastore = settings.metastore_dir
    host, sql = settings.services.bind_host, settings.sql
    return {
        "spark.sql.catalogImplementation": "hive",
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={metastore / 'metastore_db'};create=true"
        ),
        "spark.hadoop.datanucleus.schema.autoCreateAll": "true",
        "spark.hadoop.hive.metastore.schema.verification": "false",
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={metastore}",
        # The Thrift server's sessions load classes through the application class loader: the Delta jars
        # must be on it (spark.jars alone gives "ClassNotFoundException: DeltaCatalog" on connecting).
        "spark.driver.extraClassPath": os.pathsep.join(local_jars(settings)),
        "spark.driver.memory": sql.driver_memory,
        "spark.plugins": "org.apache.spark.sql.connect.SparkConnectPlugin",
        "spark.connect.grpc.binding.address": host,
        "spark.connect.grpc.binding.port": str(sql.connect_port),
        "spark.hadoop.hive.server2.thrift.bind.host": host,
        "spark.hadoop.hive.server2.thrift.port": str(sql.thrift_port),
    }


def _quoted(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def registration_statements(settings: Settings, new: Iterable[Table]) -> list[str]:
    """The SQL that registers each table by `layer.name`, after the databases (one per layer) it needs."""
    new = list(new)
    layers = sorted({table.layer for table in new})
    return [
        *(
            f"CREATE DATABASE IF NOT EXISTS {layer} COMMENT {_quoted(LAYER_COMMENTS[layer])}"
            for layer in layers
        ),
        *(
            f"CREATE TABLE IF NOT EXISTS {table.qualified_name} USING DELTA "
            f"LOCATION {_quoted(table.path(settings))}"
            for table in new
        ),
    ]


def registered_tables(spark: SparkSession) -> set[str]:
    return {
        f"{database.name}.{table.name}"
        for database in spark.catalog.listDatabases()
        for table in spark.catalog.listTables(database.name)
    }


def register_tables(spark: SparkSession, settings: Settings) -> list[str]:
    """Registers the catalogue's tables that have appeared in the lake since; the names it registered."""
    registered = registered_tables(spark)
    new = [
        table
        for table in TABLES
        if table.qualified_name not in registered and DeltaTable.isDeltaTable(spark, table.path(settings))
    ]
    for statement in registration_statements(settings, new):
        spark.sql(statement)
    return [table.qualified_name for table in new]


def start_thrift_server(spark: SparkSession) -> None:
    """HiveServer2's protocol on the session's context; it stops with the application."""
    server = spark.sparkContext._jvm.org.apache.spark.sql.hive.thriftserver.HiveThriftServer2  # type: ignore[union-attr]
    server.startWithContext(spark._jsparkSession.sqlContext())
