"""Writes every suite as JSON into expectations/ (`make expectations`), so that the suites are versioned and
reviewed with the code; tests/unit/test_quality_suites.py fails when the files differ from what the code
builds.

python -m salesinsights.quality.export [--check]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from salesinsights.quality.suites import SUITES, build_suite
from salesinsights.settings import get_settings


def expectations_dir() -> Path:
    return get_settings().home / "expectations"


def rendered_suites() -> dict[str, str]:
    """File name → JSON text of every suite, byte for byte what export writes."""
    return {
        f"{spec.name}.json": json.dumps(build_suite(spec.name).to_json_dict(), indent=2, sort_keys=True)
        + "\n"
        for spec in SUITES
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="only report files that differ; exit 1 if any")
    args = parser.parse_args(argv)
    folder = expectations_dir()
    wanted = rendered_suites()
    stale = sorted(
        name
        for name in {*wanted, *(path.name for path in folder.glob("*.json"))}
        if name not in wanted or not (folder / name).is_file() or (folder / name).read_text() != wanted[name]
    )
    if args.check:
        for name in stale:
            print(f"{folder / name} differs from the code; run `make expectations`")
        return 1 if stale else 0
    folder.mkdir(exist_ok=True)
    for name in stale:
        if name in wanted:
            (folder / name).write_text(wanted[name])
        else:
            (folder / name).unlink()  # a suite the code no longer builds
        print(f"wrote {folder / name}" if name in wanted else f"removed {folder / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
