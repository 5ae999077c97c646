"""Where the dashboard serves the Data Docs site of the nightly data-quality runs."""

from __future__ import annotations

DATA_DOCS_ROUTE = "/data-docs"
