"""Nightly customer lifetime value: the RFM summary in Spark, BG/NBD and Gamma-Gamma fitted by maximum
likelihood, distributed scoring, and a write-audit-publish snapshot in gold."""
