"""The Hive metastore that names the lake's tables: where it is, how a JVM connects to it, and the Derby
network server that lets more than one JVM share the default one.

By default the metastore is a Derby database under data/metastore. Embedded Derby admits one JVM, so the SQL
endpoint opens it embedded and serves it to this machine's other JVMs — the venv's `spark-sql` and `pyspark`,
through the hive-site.xml of shell_defaults — with Derby's network server on the loopback address. The server
requires a password: a Derby connection can define Java routines, so an open port would let any local user
run code as the platform's user. The password is generated once into data/metastore/password (0600), a file
the endpoint's clients cannot read (see sql_server_conf). With SALESINSIGHTS_SQL__METASTORE_URL the metastore
is a Postgres database instead, every JVM its client, and no Derby runs.

The password never goes into Spark's settings, which PySpark passes to spark-submit's command line (listed
by `ps` to every local user), nor stays in the JVM's system properties or environment, which a client's
SQL could read (`${system:…}`, `${env:…}`): Derby keeps its user in the database (see serve_derby), Hive's
client gets it in the Hadoop configuration at run time, the shells read hive-site.xml.
"""

from __future__ import annotations

import os
import secrets
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from salesinsights.files import write_text_atomically
from salesinsights.settings import Settings

if TYPE_CHECKING:  # `make status` reads DERBY_HOST without loading Spark.
    from pyspark.sql import SparkSession

# Derby serves the shells of this machine only, whatever address the endpoints are bound to.
DERBY_HOST = "127.0.0.1"
PASSWORD_KEY = "javax.jdo.option.ConnectionPassword"
EMBEDDED_DRIVER = "org.apache.derby.jdbc.EmbeddedDriver"
CLIENT_DRIVER = "org.apache.derby.jdbc.ClientDriver"


@dataclass(frozen=True)
class Metastore:
    """How a JVM reaches the metastore's database (all but the password)."""

    url: str
    driver: str
    user: str

    def hadoop_conf(self) -> dict[str, str]:
        """Hive's connection settings, by the names it reads them under."""
        return {
            "javax.jdo.option.ConnectionURL": self.url,
            "javax.jdo.option.ConnectionDriverName": self.driver,
            "javax.jdo.option.ConnectionUserName": self.user,
        }

    def hive_site(self, password: str) -> str:
        """A hive-site.xml that connects a Spark shell to the metastore (a secret: the password is in it)."""
        properties = self.hadoop_conf() | {
            PASSWORD_KEY: password,
            "hive.metastore.schema.verification": "false",
        }
        rendered = "".join(
            f"  <property><name>{name}</name><value>{escape(value)}</value></property>\n"
            for name, value in properties.items()
        )
        return f'<?xml version="1.0"?>\n<configuration>\n{rendered}</configuration>\n'


def metastore(settings: Settings, *, served: bool) -> Metastore:
    """The connection of the JVM that serves Derby (`served`: it opens the database embedded), or a
    client's."""
    sql = settings.sql
    if not sql.serves_derby:
        return Metastore(sql.metastore_url, "org.postgresql.Driver", sql.metastore_user)
    database = (settings.metastore_dir / "metastore_db").absolute()
    if served:
        return Metastore(
            f"jdbc:derby:;databaseName={database};create=true", EMBEDDED_DRIVER, sql.metastore_user
        )
    url = f"jdbc:derby://{DERBY_HOST}:{sql.metastore_port}/{database}"
    return Metastore(url, CLIENT_DRIVER, sql.metastore_user)


def password_path(settings: Settings) -> Path:
    return settings.metastore_dir / "password"


def model_classes() -> list[str]:
    """Hive's metastore classes, from the mapping in pyspark's hive-metastore jar (package.jdo)."""
    import pyspark

    jars = Path(pyspark.__file__).parent / "jars"
    jar = next(jars.glob("hive-metastore-*.jar"), None)
    if jar is None:
        raise FileNotFoundError(f"no hive-metastore jar in {jars}: is pyspark installed whole?")
    with zipfile.ZipFile(jar) as archive:
        mapping = ElementTree.fromstring(archive.read("package.jdo"))
    return [
        f"{package.get('name')}.{model.get('name')}"
        for package in mapping.iter("package")
        for model in package.iter("class")
    ]


def schema_conf() -> dict[str, str]:
    """DataNucleus creates the metastore's tables at start, all of them, rather than each at its class's first
    use: in Postgres that first use can come inside a transaction holding a lock that the new table's foreign
    key needs (TBL_PRIVS on TBLS, on the first CREATE TABLE), and the two connections wait for each other."""
    return {
        "datanucleus.schema.autoCreateAll": "true",
        "datanucleus.autoStartMechanism": "Classes",
        "datanucleus.autoStartClassNames": ",".join(model_classes()),
    }


def metastore_password(settings: Settings) -> str:
    """The configured password; with Derby and none configured, the one generated at first use."""
    configured = settings.sql.metastore_password
    if configured is not None:
        return configured.get_secret_value()
    if not settings.sql.serves_derby:
        raise ValueError("a Postgres metastore needs SALESINSIGHTS_SQL__METASTORE_PASSWORD")
    path = password_path(settings)
    if not path.is_file():
        # Written whole beside it, then linked into place: a concurrent first use reads one password or the
        # other's, never an empty file.
        candidate = path.with_name(f".{path.name}.{os.getpid()}.partial")
        write_text_atomically(candidate, secrets.token_urlsafe(24), mode=0o600)
        try:
            os.link(candidate, path)
        except FileExistsError:
            pass
        finally:
            candidate.unlink()
    if path.stat().st_mode & 0o077:
        raise PermissionError(f"{path} is readable by other users: chmod 600 it, or remove it for a new one")
    return path.read_text().strip()


def metastore_jars(settings: Settings) -> list[str]:
    """Derby's network server and client and Postgres's JDBC driver, which `make setup` fetched."""
    from salesinsights.spark.session import fetched_jars  # here: session loads Spark, `make status` must not

    return fetched_jars(settings, "metastore")


def hand_password(spark: SparkSession, password: str) -> None:
    """The password into the JVM's Hadoop configuration, from which Spark builds Hive's client at the
    catalogue's first use: call before that."""
    spark.sparkContext._jsc.hadoopConfiguration().set(PASSWORD_KEY, password)


def serve_derby(spark: SparkSession, settings: Settings, password: str, timeout_s: float = 60) -> None:
    """Starts Derby's network server in the JVM, every connection (embedded ones too) needing the user's
    password, until the JVM ends. The user is defined in the database itself: as a Java system property,
    where Derby's BUILTIN check also looks, a client's SQL could read it (`${system:…}`), so that property
    lives only until the database holds the user."""
    jvm = spark.sparkContext._jvm
    system = jvm.java.lang.System  # type: ignore[union-attr]
    user = settings.sql.metastore_user
    system.setProperty("derby.connection.requireAuthentication", "true")
    system.setProperty("derby.authentication.provider", "BUILTIN")
    system.setProperty(f"derby.user.{user}", password)
    url = metastore(settings, served=True).url
    connection = jvm.java.sql.DriverManager.getConnection(url, user, password)  # type: ignore[union-attr]
    try:
        call = connection.prepareCall("CALL SYSCS_UTIL.SYSCS_SET_DATABASE_PROPERTY(?, ?)")
        call.setString(1, f"derby.user.{user}")
        call.setString(2, password)
        call.execute()
    finally:
        connection.close()
    system.clearProperty(f"derby.user.{user}")
    address = jvm.java.net.InetAddress.getByName(DERBY_HOST)  # type: ignore[union-attr]
    server = jvm.org.apache.derby.drda.NetworkServerControl(  # type: ignore[union-attr]
        address, settings.sql.metastore_port, user, password
    )
    server.start(None)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            server.ping()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
