"""`salesinsights sql-server` (`jobs/sql_server.py`, what the supervisor runs as `sql`): the SQL endpoint
for BI tools — JDBC/ODBC (the Spark Thrift Server) on 127.0.0.1:10000 and Spark Connect on 127.0.0.1:15002 —
over the lake's tables registered by name (`gold.product_sales_daily`, …; see spark/sql_server.py), read-only
for every client. With SALESINSIGHTS_SQL__PASSWORD set, both protocols require it; bound beyond the loopback
address without one, it refuses to start (exit 2).

It serves the metastore's Derby database to this machine's Spark shells on 127.0.0.1:1527 (password-protected;
see spark/metastore.py), unless the metastore is in Postgres (SALESINSIGHTS_SQL__METASTORE_URL).

Runs until SIGTERM/SIGINT. One instance per data folder (its Derby database admits one): a second start is
refused (exit 75)."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time

from salesinsights.ops import Exit, job_parser, run_service
from salesinsights.settings import ENV_PREFIX, Settings, get_settings
from salesinsights.spark.sql_health import write_sql_health

LOCK = "sql"
log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    job_parser("salesinsights sql-server", __doc__).parse_args(argv)
    settings = get_settings()
    return run_service(settings, LOCK, lambda: serve(settings))


def wait_until_listening(host: str, port: int, timeout_s: float) -> None:
    """The Thrift server starts listening on a thread of its own: healthy means clients can connect."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            socket.create_connection((host, port), timeout=2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def refuse_taken_port(host: str, port: int) -> None:
    """Raises OSError when the port is taken: Derby's server would fail on a thread of its own, unseen, and a
    shell would reach whichever server holds the port."""
    with socket.create_server((host, port)):
        pass


def serve(settings: Settings) -> int:
    # Spark loads only once the arguments are known to be good.
    from salesinsights.spark.metastore import (
        DERBY_HOST,
        hand_password,
        metastore,
        metastore_password,
        serve_derby,
    )
    from salesinsights.spark.session import build_spark
    from salesinsights.spark.sql_server import (
        NO_PYTHON_WORKERS,
        password_environment,
        register_tables,
        sql_server_conf,
        start_thrift_server,
        trust,
    )

    stop_requested = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop_requested.set())
    try:
        os.environ.update(password_environment(settings))
        password = metastore_password(settings)
    except ValueError as refused:
        log.error("%s", refused)
        return Exit.USAGE
    settings.metastore_dir.mkdir(parents=True, exist_ok=True)
    serves_derby = settings.sql.serves_derby
    if serves_derby:
        refuse_taken_port(DERBY_HOST, settings.sql.metastore_port)
    # The JVM gets the settings as Spark's, not the platform's environment, which a client's SQL could read
    # (`${env:…}`): the metastore's password may be there.
    for key in [key for key in os.environ if key.startswith(ENV_PREFIX)]:
        del os.environ[key]
    # The JVM takes its Python workers' interpreter from this variable, which no client can change.
    os.environ["PYSPARK_PYTHON"] = str(NO_PYTHON_WORKERS)
    spark = build_spark(settings, "salesinsights-sql", sql_server_conf(settings))
    hand_password(spark, password)
    if serves_derby:
        serve_derby(spark, settings, password)
    trust(spark)
    tables = register_tables(spark, settings)
    start_thrift_server(spark)
    wait_until_listening(settings.services.client_host, settings.sql.thrift_port, timeout_s=120)
    log.info(
        "JDBC on %s:%d, Spark Connect on %s:%d, the metastore at %s; tables: %s",
        settings.services.bind_host,
        settings.sql.thrift_port,
        settings.services.bind_host,
        settings.sql.connect_port,
        metastore(settings, served=False).url,
        ", ".join(tables),
    )
    while not stop_requested.is_set():
        write_sql_health(settings.run_dir, tables)
        stop_requested.wait(settings.sql.refresh.total_seconds())
        if not stop_requested.is_set():
            added = register_tables(spark, settings)
            if added:
                log.info("registered %s", ", ".join(added))
                tables += added
    # Derby's server ends with the JVM: its shutdown command would authenticate against system-level users,
    # and the user is the database's.
    spark.stop()
    return Exit.OK
