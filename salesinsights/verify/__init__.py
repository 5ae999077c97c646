"""Checking the lake against what the landing files say it must hold: ground truth computed without Spark,
and the medallion's tables and topics compared with it (for the tests, `make chaos` and the benchmarks)."""
