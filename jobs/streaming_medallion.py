"""Entry point (also for spark-submit): the streaming application. See `salesinsights stream run --help`."""

import sys

from salesinsights.runs.stream import main

if __name__ == "__main__":
    sys.exit(main())
