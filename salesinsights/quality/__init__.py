"""Data quality: Great Expectations suites over the lake, generated from the rulebook.

`suites` builds every suite (the row rules come from `salesinsights.rules`, the one definition the producer
and the streaming job apply too); `day` reads one event day of every table with delta-rs into the frames the
suites validate; `validate` runs them; `results` keeps each outcome in audit.dq_results, and the Great
Expectations file context keeps the rendered Data Docs. `jobs/data_quality.py` is the entry point.
"""
