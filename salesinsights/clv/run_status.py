"""The states of a CLV run in gold.clv_model_runs.status: plain values, so that readers without Spark (the
dashboard) name them as the write-audit-publish steps do."""

from __future__ import annotations

STAGED, AUDITED, REJECTED, PUBLISHED, SUPERSEDED = "staged", "audited", "rejected", "published", "superseded"
# The states in which a run's rows are in staging.
STAGED_STATES = (STAGED, AUDITED, REJECTED)
