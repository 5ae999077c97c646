"""Spark entry point: one CLV run — stage, audit, publish, report — or one step of it (`--step`).

.venv/bin/python jobs/clv_nightly.py [--as-of 2020-02-29] [--horizon-months 12] [--discount-rate 0.01]
spark-submit jobs/clv_nightly.py --step audit --run-id clv-...
"""

from __future__ import annotations

import sys

from salesinsights.runs.clv.cli import main

if __name__ == "__main__":
    sys.exit(main())
