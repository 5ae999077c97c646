"""The venv's own Spark tools as a user starts them (`spark-sql`, `pyspark`, the venv's bin first on PATH):
with the spark-defaults.conf the project writes, they read a Delta table by path, in the platform's time
zone, and leave no metastore_db/ or derby.log in the folder they start in."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from deltalake import write_deltalake

from salesinsights.settings import Settings
from salesinsights.spark.shell_defaults import spark_defaults_path, write_spark_defaults
from tests.support import REPO

pytestmark = pytest.mark.e2e
VENV_BIN = REPO / ".venv" / "bin"


@pytest.fixture
def delta_table(tmp_path: Path) -> Path:
    path = tmp_path / "units"
    write_deltalake(str(path), pd.DataFrame({"units": [3, 4, 5]}))
    return path


@pytest.fixture
def start_folder(tmp_path: Path) -> Path:
    """Where the user happens to start the shell; the defaults as `make setup` writes them."""
    assert write_spark_defaults(Settings()) == spark_defaults_path()
    folder = tmp_path / "cwd"
    folder.mkdir()
    return folder


def run_shell(command: list[str], folder: Path, stdin: str | None = None, **extra: str) -> str:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SPARK_", "PYSPARK_"))}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env['PATH']}"
    env.update(extra)
    done = subprocess.run(
        command, cwd=folder, env=env, input=stdin, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_spark_sql_starts_with_delta(delta_table: Path, start_folder: Path) -> None:
    out = run_shell(
        ["spark-sql", "-e", f"SELECT sum(units) FROM delta.`{delta_table}`; SET spark.sql.session.timeZone"],
        start_folder,
    )
    assert out.split() == ["12", "spark.sql.session.timeZone", "UTC"]
    assert list(start_folder.iterdir()) == []


def test_pyspark_starts_with_delta(delta_table: Path, start_folder: Path) -> None:
    script = f'print("units", spark.read.format("delta").load("{delta_table}").count())\n'
    # Python runs the shell's start-up (which makes `spark`) only when interactive, as a terminal would be.
    out = run_shell(["pyspark"], start_folder, stdin=script, PYSPARK_DRIVER_PYTHON_OPTS="-i")
    assert "units 3" in out
    assert list(start_folder.iterdir()) == []
