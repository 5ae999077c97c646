"""Benchmarks behind the `make bench-…` targets. Each prints its figures and ends with one line of
`key=value` pairs."""
