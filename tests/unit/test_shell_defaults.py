"""The venv's spark-defaults.conf and hive-site.xml: the platform's own settings for Delta, the metastore's
connection with its password in a file of the user's only, written once, read back as Spark reads them."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from xml.etree import ElementTree

import pytest
from pydantic import SecretStr

from salesinsights.settings import Settings, SqlSettings
from salesinsights.spark.metastore import (
    PASSWORD_KEY,
    metastore,
    metastore_jars,
    metastore_password,
    password_path,
    schema_conf,
)
from salesinsights.spark.session import spark_conf
from salesinsights.spark.shell_defaults import SHELL_KEYS, write_spark_defaults


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def read_defaults(path: Path) -> dict[str, str]:
    entries = [line.split(None, 1) for line in path.read_text().splitlines() if not line.startswith("#")]
    return {key: value for key, value in entries}


def hive_site(path: Path) -> dict[str, str]:
    root = ElementTree.parse(path).getroot()
    return {node.findtext("name", ""): node.findtext("value", "") for node in root.iter("property")}


def test_the_file_carries_the_platforms_delta_settings(settings: Settings, tmp_path: Path) -> None:
    path = write_spark_defaults(settings, tmp_path / "conf" / "spark-defaults.conf")
    written = read_defaults(path)
    platform = spark_conf(settings, "any")
    assert {key: written[key] for key in SHELL_KEYS} == {key: platform[key] for key in SHELL_KEYS}
    assert "io.delta.sql.DeltaSparkSessionExtension" in written["spark.sql.extensions"]
    assert written["spark.driver.extraClassPath"].split(os.pathsep) == metastore_jars(settings)
    assert written["spark.driver.bindAddress"] == written["spark.driver.host"] == "127.0.0.1"
    # No password in the file every local user may read.
    password = metastore_password(settings)
    assert not any("password" in key.lower() or password in value for key, value in written.items())


def test_the_shells_connect_to_the_endpoints_derby_with_its_password(
    settings: Settings, tmp_path: Path
) -> None:
    path = write_spark_defaults(settings, tmp_path / "spark-defaults.conf").with_name("hive-site.xml")
    properties = hive_site(path)
    database = settings.metastore_dir.absolute() / "metastore_db"
    url = f"jdbc:derby://127.0.0.1:1527/{database}"
    assert properties["javax.jdo.option.ConnectionURL"] == url
    assert properties["javax.jdo.option.ConnectionDriverName"] == "org.apache.derby.jdbc.ClientDriver"
    generated = password_path(settings)
    assert properties["javax.jdo.option.ConnectionPassword"] == generated.read_text() != ""
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(generated.stat().st_mode) == 0o600
    # Generated once: the endpoint, started later, reads the same.
    assert metastore_password(settings) == generated.read_text()
    # A password file others may read is refused, not used.
    generated.chmod(0o644)
    with pytest.raises(PermissionError, match="chmod 600"):
        metastore_password(settings)


def test_a_postgres_metastore_by_setting(tmp_path: Path) -> None:
    url = "jdbc:postgresql://127.0.0.1:5432/metastore"
    sql = SqlSettings(metastore_url=url, metastore_user="hive", metastore_password=SecretStr("pg-secret"))
    settings = Settings(data_dir=tmp_path / "data", sql=sql)
    path = write_spark_defaults(settings, tmp_path / "spark-defaults.conf").with_name("hive-site.xml")
    properties = hive_site(path)
    assert properties["javax.jdo.option.ConnectionURL"] == url
    assert properties["javax.jdo.option.ConnectionDriverName"] == "org.postgresql.Driver"
    assert (properties["javax.jdo.option.ConnectionUserName"], properties[PASSWORD_KEY]) == (
        "hive",
        "pg-secret",
    )
    # The endpoint opens it by the same URL; nothing generated.
    assert metastore(settings, served=True) == metastore(settings, served=False)
    assert not password_path(settings).exists()
    with pytest.raises(ValueError, match="METASTORE_PASSWORD"):
        metastore_password(Settings(data_dir=tmp_path / "data", sql=SqlSettings(metastore_url=url)))
    with pytest.raises(ValueError, match="postgresql"):
        SqlSettings(metastore_url="jdbc:mysql://127.0.0.1/metastore")


def test_writing_again_leaves_an_unchanged_file_alone(settings: Settings, tmp_path: Path) -> None:
    path = write_spark_defaults(settings, tmp_path / "spark-defaults.conf")
    written = path.stat()
    # A rewrite renames a new file over it: another inode.
    again = write_spark_defaults(settings, path).stat()
    assert (again.st_ino, again.st_mtime_ns) == (written.st_ino, written.st_mtime_ns)


def test_a_stale_file_is_replaced(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "spark-defaults.conf"
    path.write_text("spark.sql.extensions something.Else\n")
    stale = path.stat().st_ino
    write_spark_defaults(settings, path)
    assert path.stat().st_ino != stale
    assert read_defaults(path)["spark.sql.extensions"] == spark_conf(settings, "any")["spark.sql.extensions"]


def test_every_metastore_class_is_made_at_start() -> None:
    """Hive's own mapping names the classes whose tables DataNucleus makes before any transaction."""
    classes = schema_conf()["datanucleus.autoStartClassNames"].split(",")
    model = "org.apache.hadoop.hive.metastore.model."
    assert {f"{model}MTable", f"{model}MTablePrivilege", f"{model}MDatabase"} <= set(classes)
    assert len(classes) == len(set(classes)) >= 30
