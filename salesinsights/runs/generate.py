"""`salesinsights generate`: write the synthetic data set as monthly gzip CSV files like the original ones."""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

from salesinsights.generator.generate import write_dataset
from salesinsights.generator.volumes import events_between
from salesinsights.ops import Exit, job_parser
from salesinsights.settings import get_settings


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    settings = get_settings()
    source = settings.source
    parser = job_parser("salesinsights generate", __doc__)
    parser.add_argument("--out", type=Path, default=settings.data / "source", help="output folder")
    parser.add_argument("--seed", type=int, default=source.seed)
    parser.add_argument(
        "--scale", type=float, default=source.scale, help="1.0: the real volume, ~20.7 M rows"
    )
    parser.add_argument("--start", type=date.fromisoformat, default=source.start, help="first day")
    parser.add_argument("--end", type=date.fromisoformat, default=source.end, help="day after the last")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 10:
        parser.error("--scale must lie in (0, 10]")
    if args.end <= args.start:
        parser.error("--end must be after --start")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    began = time.perf_counter()
    paths = write_dataset(args.out, args.seed, args.scale, args.start, args.end, progress=not args.quiet)
    rows = events_between(args.start, args.end, args.seed, args.scale)
    seconds = time.perf_counter() - began
    files = f"{len(paths)} file{'s' if len(paths) != 1 else ''}"
    print(f"wrote {rows:,} rows in {files} to {args.out} in {seconds:.1f} s")
    return Exit.OK
