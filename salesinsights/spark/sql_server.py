"""The SQL endpoint for analysts and BI tools: one Spark application that registers the lake's tables by
name in a Hive metastore and serves them over JDBC/ODBC (the Spark Thrift Server, HiveServer2's protocol,
what Tableau, Power BI, Superset and DBeaver connect to) and Spark Connect (notebooks,
`pyspark --remote sc://127.0.0.1:15002`).

The metastore is Derby under data/metastore: this application opens it and serves it to this machine's Spark
shells (spark/metastore.py), or a Postgres database by setting. The platform's other applications (the
stream, the CLV and maintenance jobs) keep writing the tables by path. It registers every table of the
catalogue whose Delta log exists, at start and every `sql.refresh`, so a table created later (the CLV tables
after the first run) appears by name without a restart. The entries
are external tables over the Delta folders: every query reads the table's newest version, so what has
reached gold is in the next answer.

Clients only read, by three walls (jvm/sql-guard, compiled by `make setup`): a check in every client
session's analyzer refuses any statement but queries and SHOW/DESCRIBE/EXPLAIN/SET/USE, and any client code
(UDFs, Pandas/Arrow maps, reflection), with a message; the application's local file system writes only
under Hive's scratch folders and the warehouse and reads only those and the lake (not the metastore's
password); and its Python workers cannot start, so no client's Python (a UDF, a Python data source) runs
here. The application's own session, which
registers the tables, is the one trusted.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from deltalake import DeltaTable
from pyspark.sql import SparkSession

from salesinsights.catalog import TABLES, Layer, Table
from salesinsights.settings import Settings
from salesinsights.spark.metastore import metastore, metastore_jars, schema_conf
from salesinsights.spark.session import DELTA_EXTENSION, SCHEDULER_POOLS, local_jars
from salesinsights.spark.tables import sql_string

READ_ONLY_EXTENSION = "salesinsights.sqlguard.ReadOnlyExtensions"
READ_ONLY_FILE_SYSTEM = "salesinsights.sqlguard.ReadOnlyLocalFileSystem"
PASSWORD_CHECK = "salesinsights.sqlguard.PasswordAuthentication"
# What the application's Python workers would run: a refusal (see the file).
NO_PYTHON_WORKERS = Path(__file__).with_name("no_python_workers")

LAYER_COMMENTS: dict[Layer, str] = {
    "bronze": "Every Kafka record as received, once.",
    "silver": "Valid events, once each, and the quarantine of the invalid ones with their reasons.",
    "gold": "Sales per product and window or day, and customer lifetime value.",
    "audit": "The stream's micro-batches and the data-quality results.",
}


def sql_guard_jar(settings: Settings) -> Path:
    jar = settings.jars / "sql-guard" / "salesinsights-sql-guard.jar"
    if not jar.is_file():
        raise FileNotFoundError(f"{jar} is missing: run 'make setup' to compile the SQL endpoint's guard")
    return jar


def sql_server_conf(settings: Settings) -> dict[str, str]:
    """What the SQL endpoint's application adds to the platform's Spark settings."""
    metastore_dir = settings.metastore_dir
    host, sql = settings.services.bind_host, settings.sql
    # Hive's scratch folders, not the metastore's database or password beside them.
    hive = metastore_dir / "hive"
    writable = [str(hive), str(settings.warehouse_dir)]
    # The lake, and the scheduler's pools file (read at start) with the checksum file beside it.
    readable = [settings.lake, str(SCHEDULER_POOLS.parent)]
    java_options = [f"-Dderby.system.home={metastore_dir}"]
    hadoop = metastore(settings, served=True).hadoop_conf() | schema_conf()
    conf = {f"spark.hadoop.{key}": value for key, value in hadoop.items()}
    if sql.password:
        conf["spark.hadoop.hive.server2.authentication"] = "CUSTOM"
        # HiveServer2 looks the check's class up in a HiveConf of its own, which reads system properties.
        java_options.append(f"-Dhive.server2.custom.authentication.class={PASSWORD_CHECK}")
    return conf | {
        "spark.sql.catalogImplementation": "hive",
        "spark.hadoop.hive.metastore.schema.verification": "false",
        "spark.driver.extraJavaOptions": " ".join(java_options),
        # The Thrift server's sessions load classes through the application class loader: the Delta jars
        # must be on it (spark.jars alone gives "ClassNotFoundException: DeltaCatalog" on connecting).
        "spark.driver.extraClassPath": os.pathsep.join(
            [*local_jars(settings), *metastore_jars(settings), str(sql_guard_jar(settings))]
        ),
        "spark.sql.extensions": f"{DELTA_EXTENSION},{READ_ONLY_EXTENSION}",
        "spark.hadoop.fs.file.impl": READ_ONLY_FILE_SYSTEM,
        "spark.hadoop.salesinsights.sql.writable.roots": ",".join(writable),
        "spark.hadoop.salesinsights.sql.readable.roots": ",".join(readable),
        # Hive's scratch folders (default /tmp/hive) where the file system lets it write.
        "spark.hadoop.hive.exec.scratchdir": str(hive / "scratch"),
        "spark.hadoop.hive.exec.local.scratchdir": str(hive / "scratch-local"),
        "spark.hadoop.hive.downloaded.resources.dir": str(hive / "resources"),
        "spark.driver.memory": sql.driver_memory,
        "spark.plugins": "org.apache.spark.sql.connect.SparkConnectPlugin",
        "spark.connect.grpc.binding.address": host,
        "spark.connect.grpc.binding.port": str(sql.connect_port),
        # Delta answers min/max from its log with java.sql.Date, which the Thrift server's sessions (Java 8
        # time API) cannot take: "LocalDate cannot be cast to java.sql.Date" on `SELECT max(event_date)`.
        "spark.databricks.delta.optimizeMetadataQuery.enabled": "false",
        "spark.hadoop.hive.server2.thrift.bind.host": host,
        "spark.hadoop.hive.server2.thrift.port": str(sql.thrift_port),
    }


def registration_statements(settings: Settings, new: Iterable[Table]) -> list[str]:
    """The SQL that registers each table by `layer.name`, after the databases (one per layer) it needs."""
    new = list(new)
    layers = sorted({table.layer for table in new})
    return [
        *(
            f"CREATE DATABASE IF NOT EXISTS {layer} COMMENT {sql_string(LAYER_COMMENTS[layer])}"
            for layer in layers
        ),
        *(
            f"CREATE TABLE IF NOT EXISTS {table.qualified_name} USING DELTA "
            f"LOCATION {sql_string(table.path(settings))}"
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
    """Registers the catalogue's tables that have appeared in the lake since; the names it registered.
    Whether a table is there is delta-rs's answer, read from the log each time: Spark's caches the log of
    a table seen half-created (its _delta_log/ folder made, no commit yet) as absent until an update."""
    registered = registered_tables(spark)
    new = [
        table
        for table in TABLES
        if table.qualified_name not in registered and DeltaTable.is_deltatable(table.path(settings))
    ]
    for statement in registration_statements(settings, new):
        spark.sql(statement)
    return [table.qualified_name for table in new]


def password_environment(settings: Settings) -> dict[str, str]:
    """The endpoints' password, for the JVM's environment (where clients cannot list it): HiveServer2's
    CUSTOM check reads one variable, Spark Connect's token check the other. Raises ValueError when the
    services are bound beyond the loopback address without a password."""
    password = settings.sql.password
    if password is None:
        if not settings.services.on_loopback:
            raise ValueError(
                f"the SQL endpoint would listen on {settings.services.bind_host} with no password: set "
                "SALESINSIGHTS_SQL__PASSWORD, or bind the services to 127.0.0.1"
            )
        return {}
    secret = password.get_secret_value()
    return {"SQLGUARD_PASSWORD": secret, "SPARK_CONNECT_AUTHENTICATE_TOKEN": secret}


def trust(spark: SparkSession) -> None:
    """Exempts the application's own session (registering tables) from the read-only check; clients'
    sessions are new ones, never this."""
    guard = spark.sparkContext._jvm.salesinsights.sqlguard.TrustedSessions  # type: ignore[union-attr]
    guard.trust(spark._jsparkSession)


def start_thrift_server(spark: SparkSession) -> None:
    """HiveServer2's protocol on the session's context; it stops with the application."""
    server = spark.sparkContext._jvm.org.apache.spark.sql.hive.thriftserver.HiveThriftServer2  # type: ignore[union-attr]
    server.startWithContext(spark._jsparkSession.sqlContext())
