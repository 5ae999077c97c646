"""Nightly customer lifetime value: the RFM summary in Spark, BG/NBD, MBG/NBD and Pareto/NBD backtested on a
holdout and the best chosen, Gamma-Gamma for spend, guards against extrapolation, distributed scoring, and a
write-audit-publish snapshot in gold."""
