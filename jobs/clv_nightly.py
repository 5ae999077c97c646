"""Entry point (also for spark-submit): one CLV run, or one step of it. See `salesinsights clv --help`."""

import sys

from salesinsights.runs.clv.cli import main

if __name__ == "__main__":
    sys.exit(main())
