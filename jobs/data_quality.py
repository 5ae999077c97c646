"""Entry point (also for spark-submit): validate one event day with the Great Expectations suites.
See `salesinsights dq --help`."""

import sys

from salesinsights.runs.quality import main

if __name__ == "__main__":
    sys.exit(main())
