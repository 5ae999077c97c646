"""The generator's entry points: one day's CSV lines, or the whole data set as monthly gzip files."""

from __future__ import annotations

import gzip
from datetime import date, timedelta
from itertools import groupby
from pathlib import Path

from tqdm import tqdm

from salesinsights.generator.catalogue import build_catalogue
from salesinsights.generator.day import simulate_day
from salesinsights.generator.lines import format_lines
from salesinsights.generator.users import build_user_pool
from salesinsights.schema import CSV_HEADER

# zlib's default: level 9 takes three times as long for 3% smaller files.
_COMPRESS_LEVEL = 6
# Not strftime's %b, which follows the process locale.
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def generate_lines(day: date, seed: int, scale: float) -> list[str]:
    """The CSV data lines (no header, no newlines) of one UTC day, in time order.

    The same (day, seed, scale) gives the same lines in any process and in any order of generation."""
    events = simulate_day(day, seed, scale)
    return format_lines(day, events, build_user_pool(seed, scale), build_catalogue(seed))


def month_file_name(day: date) -> str:
    """Named like the original data set's files: 2019-Oct.csv.gz."""
    return f"{day.year}-{_MONTH_NAMES[day.month - 1]}.csv.gz"


def write_dataset(
    out_dir: Path, seed: int, scale: float, start: date, end: date, progress: bool = True
) -> list[Path]:
    """Write the days [start, end) as monthly gzip CSV files with the header; returns their paths.

    The gzip header carries no name or time, so the same arguments write byte-identical files. Each file
    appears under its final name only when complete."""
    out_dir.mkdir(parents=True, exist_ok=True)
    days = [start + timedelta(days=offset) for offset in range((end - start).days)]
    paths: list[Path] = []
    with tqdm(total=len(days), desc="generating", unit="day", disable=not progress) as bar:
        for name, month in groupby(days, key=month_file_name):
            path = out_dir / name
            partial = out_dir / f".{name}.partial"
            with (
                partial.open("wb") as raw,
                gzip.GzipFile(
                    filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=_COMPRESS_LEVEL
                ) as out,
            ):
                out.write(f"{CSV_HEADER}\n".encode())
                for day in month:
                    out.write("".join(f"{line}\n" for line in generate_lines(day, seed, scale)).encode())
                    bar.update()
            partial.replace(path)
            paths.append(path)
    return paths
