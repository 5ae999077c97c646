"""The spark-defaults.conf that the venv's own Spark tools read (`.venv/bin/pyspark`, `spark-sql`,
`spark-submit`, `spark-shell`), so that they start with Delta, its jars, the platform's time zone and its
warehouse folder, from the same settings as the platform.

The platform's applications set each of these keys themselves (spark/session.py), so the file changes
nothing for them (the two metastore keys matter only to a Hive catalogue, which only the SQL endpoint's
application has, with keys of its own). Tables by name are the SQL endpoint's (`make sql`): its metastore
is embedded Derby, which one JVM at a time may open, so a shell reads a table by its path, e.g.
delta.`data/lake/gold/product_sales_daily`.
"""

from __future__ import annotations

from pathlib import Path

import pyspark

from salesinsights.files import write_text_atomically
from salesinsights.settings import Settings
from salesinsights.spark.session import spark_conf
from salesinsights.spark.sql_server import derby_metastore_url

# The keys of the platform's own Spark settings that a shell needs to read the lake as the platform writes it.
SHELL_KEYS = (
    "spark.jars",
    "spark.sql.extensions",
    "spark.sql.catalog.spark_catalog",
    "spark.sql.session.timeZone",
    "spark.sql.warehouse.dir",
)
HEADER = "# Written from the settings by `salesinsights spark-defaults` (make setup, up); edits are lost.\n"


def spark_defaults_path() -> Path:
    """Where the pinned pyspark's launch scripts look: SPARK_HOME/conf, SPARK_HOME being the package."""
    return Path(pyspark.__file__).parent / "conf" / "spark-defaults.conf"


def shell_metastore(settings: Settings) -> Path:
    """spark-sql's own embedded catalogue (a scratch one, beside the endpoint's), not metastore_db/ and
    derby.log in whatever folder the shell starts in."""
    return settings.metastore_dir / "shell"


def shell_defaults(settings: Settings) -> dict[str, str]:
    conf = spark_conf(settings, "salesinsights-shell")
    metastore = shell_metastore(settings)
    return {key: conf[key] for key in SHELL_KEYS} | {
        "spark.hadoop.javax.jdo.option.ConnectionURL": derby_metastore_url(metastore),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={metastore}",
    }


def render(conf: dict[str, str]) -> str:
    return HEADER + "".join(f"{key} {value}\n" for key, value in conf.items())


def write_spark_defaults(settings: Settings, path: Path | None = None) -> Path:
    """Writes the file where it differs from the settings' (idempotent); returns its path."""
    path = path or spark_defaults_path()
    text = render(shell_defaults(settings))
    if not path.is_file() or path.read_text() != text:
        write_text_atomically(path, text)
    return path
