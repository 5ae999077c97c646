"""Entry point (also for spark-submit): compact and vacuum the Delta tables.
See `salesinsights maintenance --help`."""

import sys

from salesinsights.runs.maintenance import main

if __name__ == "__main__":
    sys.exit(main())
