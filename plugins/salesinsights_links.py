"""Airflow UI: "Live sales" in the navigation bar shows the live sales dashboard inside Airflow, and "Data
quality" the Data Docs of the nightly validations, which the dashboard serves at /data-docs/.

Airflow 3 replaced Flask-AppBuilder menu items with `external_views`. An entry with a `url_route` is shown in
an iframe at /plugin/<url_route>; one without is meant as a plain link, but Airflow 3.3.2 renders a lone
top-level link as a button that does not navigate, so the dashboard is embedded instead (its own address
still opens it full-page). The URL comes from the project settings, so a moved port moves the link with it.
"""

from __future__ import annotations

import base64
from pathlib import Path

from airflow.plugins_manager import AirflowPlugin

import salesinsights.dashboard
from salesinsights.dashboard.address import DATA_DOCS_ROUTE
from salesinsights.settings import get_settings

# Inlined, so the icon shows even while the dashboard is down.
_ICON = Path(salesinsights.dashboard.__file__).with_name("static") / "icon.svg"
_ICON_URI = "data:image/svg+xml;base64," + base64.b64encode(_ICON.read_bytes()).decode()


_DASHBOARD = get_settings().services.dashboard_url


class SalesInsightsLinks(AirflowPlugin):
    name = "salesinsights_links"
    external_views = [  # noqa: RUF012 (Airflow's plugin API is class attributes)
        {
            "name": "Live sales",
            "href": _DASHBOARD,
            "destination": "nav",
            "url_route": "live-sales",
            "nav_top_level": True,
            "icon": _ICON_URI,
        },
        {
            "name": "Data quality",
            "href": f"{_DASHBOARD}{DATA_DOCS_ROUTE}/",
            "destination": "nav",
            "url_route": "data-quality",
            "nav_top_level": True,
            "icon": _ICON_URI,
        },
    ]
