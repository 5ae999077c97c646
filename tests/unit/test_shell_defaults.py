"""The venv's spark-defaults.conf: the platform's own settings for Delta, written once, read back by Spark's
own parser rules (one `key value` per line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from salesinsights.settings import Settings
from salesinsights.spark.session import spark_conf
from salesinsights.spark.shell_defaults import SHELL_KEYS, write_spark_defaults


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def read_defaults(path: Path) -> dict[str, str]:
    entries = [line.split(None, 1) for line in path.read_text().splitlines() if not line.startswith("#")]
    return {key: value for key, value in entries}


def test_the_file_carries_the_platforms_delta_settings(settings: Settings, tmp_path: Path) -> None:
    path = write_spark_defaults(settings, tmp_path / "conf" / "spark-defaults.conf")
    written = read_defaults(path)
    platform = spark_conf(settings, "any")
    assert {key: written[key] for key in SHELL_KEYS} == {key: platform[key] for key in SHELL_KEYS}
    assert "io.delta.sql.DeltaSparkSessionExtension" in written["spark.sql.extensions"]
    metastore = settings.metastore_dir / "shell"
    assert written["spark.driver.extraJavaOptions"] == f"-Dderby.system.home={metastore}"
    assert str(metastore / "metastore_db") in written["spark.hadoop.javax.jdo.option.ConnectionURL"]


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
