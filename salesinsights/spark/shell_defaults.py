"""The configuration that the venv's own Spark tools read (`.venv/bin/pyspark`, `spark-sql`, `spark-submit`,
`spark-shell`), so that they start with Delta, its jars, the platform's time zone and warehouse folder, and
the lake's tables by name, from the same settings as the platform: spark-defaults.conf, and hive-site.xml
(0600: it holds the metastore's password) connecting them to the SQL endpoint's metastore (spark/metastore.py)
— Derby, which the endpoint serves, so the shells see the tables by name while the platform runs.

The platform's applications set each of the shared keys themselves (spark/session.py); the metastore's jars
on the driver's class path and hive-site.xml matter only to a Hive catalogue, which among them only the SQL
endpoint has, with a connection of its own.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyspark

from salesinsights.files import write_text_atomically
from salesinsights.settings import Settings
from salesinsights.spark.metastore import metastore, metastore_jars, metastore_password
from salesinsights.spark.session import spark_conf

# The keys of the platform's own Spark settings that a shell needs to read the lake as the platform writes it.
SHELL_KEYS = (
    "spark.jars",
    "spark.sql.extensions",
    "spark.sql.catalog.spark_catalog",
    "spark.sql.session.timeZone",
    "spark.sql.warehouse.dir",
)
# With a local master the platform keeps the driver's ports (a shell's web UI too) on its bind address.
BIND_KEYS = ("spark.driver.bindAddress", "spark.driver.host")
HEADER = "# Written from the settings by `salesinsights spark-defaults` (make setup, up); edits are lost.\n"
HIVE_SITE = "hive-site.xml"


def spark_defaults_path() -> Path:
    """Where the pinned pyspark's launch scripts look: SPARK_HOME/conf, SPARK_HOME being the package."""
    return Path(pyspark.__file__).parent / "conf" / "spark-defaults.conf"


def shell_defaults(settings: Settings) -> dict[str, str]:
    conf = spark_conf(settings, "salesinsights-shell")
    # The metastore's JDBC clients: Hive loads its driver from the application class path only.
    shared = {key: conf[key] for key in (*SHELL_KEYS, *BIND_KEYS) if key in conf}
    return shared | {"spark.driver.extraClassPath": os.pathsep.join(metastore_jars(settings))}


def render(conf: dict[str, str]) -> str:
    return HEADER + "".join(f"{key} {value}\n" for key, value in conf.items())


def write_if_changed(path: Path, text: str, mode: int) -> None:
    if not path.is_file() or path.read_text() != text or path.stat().st_mode & 0o777 != mode:
        write_text_atomically(path, text, mode=mode)
        path.chmod(mode)


def write_spark_defaults(settings: Settings, path: Path | None = None) -> Path:
    """Writes spark-defaults.conf, and hive-site.xml beside it, where they differ from the settings'
    (idempotent); returns the former's path."""
    path = path or spark_defaults_path()
    write_if_changed(path, render(shell_defaults(settings)), 0o644)
    hive_site = metastore(settings, served=False).hive_site(metastore_password(settings))
    write_if_changed(path.with_name(HIVE_SITE), hive_site, 0o600)
    return path
