"""Where the dashboard serves what the nightly runs render: Data Docs and the CLV reports."""

from __future__ import annotations

DATA_DOCS_ROUTE = "/data-docs"
# Where it serves the nightly CLV runs' reports (data/reports/clv).
CLV_REPORTS_ROUTE = "/reports/clv"
