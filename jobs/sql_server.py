"""Entry point: the SQL endpoint for BI tools (JDBC and Spark Connect).
See `salesinsights sql-server --help`."""

import sys

from salesinsights.runs.sql_server import main

if __name__ == "__main__":
    sys.exit(main())
