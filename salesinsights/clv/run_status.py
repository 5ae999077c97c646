"""What a CLV run leaves for readers without Spark (the dashboard), named as the write-audit-publish steps
name it: the states of gold.clv_model_runs.status, and where the run's report is."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from salesinsights.settings import Settings

STAGED, AUDITED, REJECTED, PUBLISHED, SUPERSEDED = "staged", "audited", "rejected", "published", "superseded"
# The states in which a run's rows are in staging.
STAGED_STATES = (STAGED, AUDITED, REJECTED)


def report_path(settings: Settings, as_of: date, run_id: str | None = None) -> Path:
    """The published snapshot's report is clv_<as-of>.html (what the dashboard links); a run that is not
    published gets one of its own beside it, so it cannot pass for the date's."""
    suffix = f"_{run_id}" if run_id else ""
    return settings.clv_reports_dir / f"clv_{as_of.isoformat()}{suffix}.html"
