"""The Airflow plugin: Airflow's own plugin manager loads it from plugins/, and the UI's plugin API accepts
its entry: the dashboard at the URL the settings give, embedded under the navigation bar's "Live sales"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support import REPO

# Run apart: Airflow reads its configuration once per process, and this needs a throwaway home.
_LOAD = """
import json
from airflow import plugins_manager
from airflow.api_fastapi.core_api.datamodels.plugins import PluginResponse

info = next(item for item in plugins_manager.get_plugin_info() if item["name"] == "salesinsights_links")
print(json.dumps(PluginResponse.model_validate(info).model_dump(mode="json")["external_views"]))
"""


def test_airflow_loads_the_dashboard_link_with_the_configured_url(tmp_path: Path) -> None:
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "SALESINSIGHTS_"))
    }
    env |= {
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "SALESINSIGHTS_SERVICES__DASHBOARD_PORT": "8123",
    }
    loaded = subprocess.run(
        [sys.executable, "-c", _LOAD], env=env, cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert loaded.returncode == 0, loaded.stderr

    dashboard, data_docs = json.loads(loaded.stdout.strip().splitlines()[-1])
    assert dashboard["href"] == "http://127.0.0.1:8123"
    assert dashboard["name"] == "Live sales" and dashboard["url_route"] == "live-sales"
    assert data_docs["href"] == "http://127.0.0.1:8123/data-docs/"
    assert data_docs["name"] == "Data quality" and data_docs["url_route"] == "data-quality"
    for view in (dashboard, data_docs):
        assert view["destination"] == "nav" and view["nav_top_level"] is True
        assert view["icon"].startswith("data:image/svg+xml;base64,")
