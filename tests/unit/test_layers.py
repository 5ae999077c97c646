"""The layer order of salesinsights/ARCHITECTURE.md holds: every import inside the package (lazy ones inside
functions too) goes to a lower layer, every module has its layer, and the package imports neither Airflow
(its failure notifier and its assets aside) nor the folders above it (dags/, jobs/, plugins/, tests/)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from tests.support import REPO

PACKAGE = REPO / "salesinsights"
ABOVE_THE_PACKAGE = ("airflow", "dags", "jobs", "plugins", "tests")
# The DAGs' failure notifier (on Airflow's notifier API) and their Assets: the modules that import Airflow.
AIRFLOW_FACING = {("airflow_notifier", "airflow"), ("airflow_assets", "airflow")}


def layer_order(note: str) -> dict[str, int]:
    """Each unit's layer from the note's `layers` block: 0 for the top line, counting down."""
    match = re.search(r"```layers\n(.*?)```", note, re.DOTALL)
    assert match, "ARCHITECTURE.md has no ```layers block"
    lines = [line.split() for line in match.group(1).splitlines() if line.strip()]
    return {unit: depth for depth, units in enumerate(lines) for unit in units}


def unit_of(path: Path) -> str:
    """A module's unit: its subpackage, or the module itself at the package's top."""
    return path.relative_to(PACKAGE).with_suffix("").parts[0]


def imported_modules(path: Path) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def violations(order: dict[str, int]) -> Iterator[str]:
    for path in sorted(PACKAGE.rglob("*.py")):
        unit = unit_of(path)
        if unit == "__init__":
            continue
        if unit not in order:
            yield f"{path.relative_to(REPO)}: {unit} has no layer in ARCHITECTURE.md"
            continue
        for line, module in imported_modules(path):
            top, *rest = module.split(".")
            where = f"{path.relative_to(REPO)}:{line} imports {module}"
            if top in ABOVE_THE_PACKAGE and (unit, top) not in AIRFLOW_FACING:
                yield f"{where}: the package never imports {top}"
            elif top == "salesinsights" and rest and rest[0] != unit:
                target = rest[0]
                if target not in order:
                    yield f"{where}: {target} has no layer"
                elif order[target] <= order[unit]:
                    side = "its own layer" if order[target] == order[unit] else "a layer above"
                    yield f"{where}: {unit} may not import {target}, from {side}"


def test_every_import_goes_down_the_layers() -> None:
    order = layer_order((PACKAGE / "ARCHITECTURE.md").read_text())
    assert not list(violations(order)), "\n".join(violations(order))


def test_the_check_catches_imports_up_across_and_unplaced() -> None:
    """As an altered note would see the tree: the quality suites (the CLV run's gate uses them) put above the
    CLV run, then beside it, and a package left out of the note."""
    order = layer_order((PACKAGE / "ARCHITECTURE.md").read_text())
    above = list(violations({**order, "quality": order["runs"] - 1}))
    assert any(v.endswith("runs may not import quality, from a layer above") for v in above), above
    beside = list(violations({**order, "quality": order["runs"]}))
    assert any(v.endswith("runs may not import quality, from its own layer") for v in beside), beside
    unplaced = {unit: depth for unit, depth in order.items() if unit != "verify"}
    assert any("verify has no layer in ARCHITECTURE.md" in v for v in violations(unplaced))
