"""The calibrated synthetic generator of the cosmetics shop's event log (profile.py says what it is
calibrated on). Any day can be generated on its own, deterministically for (seed, scale)."""

from salesinsights.generator.generate import generate_lines, month_file_name, write_dataset

__all__ = ["generate_lines", "month_file_name", "write_dataset"]
