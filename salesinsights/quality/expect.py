"""One place that builds an expectation: every one carries its severity and the rule it stands for."""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from great_expectations.expectations import Expectation
from great_expectations.expectations.metadata_types import FailureSeverity

Severity = Literal["critical", "warning", "info"]
# A failed critical expectation fails the nightly run and holds back what depends on it (CLV publication);
# a warning is recorded and shown; an info expectation only reports a figure (its bounds are open).
CRITICAL: Severity = "critical"
WARNING: Severity = "warning"
INFO: Severity = "info"

_E = TypeVar("_E", bound=Expectation)


def expect(kind: type[_E], severity: Severity, rule: str, description: str, **kwargs: Any) -> _E:
    """`rule` is the rulebook reason the expectation translates, or the name of a table-level check; it and
    the severity travel in `meta` to the results table."""
    return kind(
        severity=FailureSeverity(severity),
        description=description,
        meta={"severity": severity, "rule": rule},
        **kwargs,
    )
