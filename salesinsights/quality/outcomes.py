"""What a validation found: one outcome per expectation, grouped by suite and by the day validated."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from salesinsights.quality.expect import CRITICAL


@dataclass(frozen=True)
class ExpectationOutcome:
    suite: str
    table: str
    expectation_type: str
    column: str | None
    success: bool
    severity: str
    rule: str
    description: str
    observed_value: str  # JSON: the observed figure, or the unexpected values with their counts
    unexpected_count: int | None
    element_count: int | None

    @property
    def critical_failure(self) -> bool:
        return not self.success and self.severity == CRITICAL

    def __str__(self) -> str:
        target = f"({self.column})" if self.column else ""
        return (
            f"{self.suite}: {self.expectation_type}{target} [{self.rule}] {self.description}"
            f" — observed {self.observed_value}"
        )


@dataclass(frozen=True)
class SuiteOutcome:
    suite: str
    table: str
    rows: int
    expectations: list[ExpectationOutcome]

    @property
    def success(self) -> bool:
        return all(outcome.success for outcome in self.expectations)


@dataclass
class DayReport:
    run_id: str
    day: date
    validated_at: datetime
    suites: list[SuiteOutcome] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    data_docs: Path | None = None

    @property
    def critical_failures(self) -> list[ExpectationOutcome]:
        return [
            outcome for suite in self.suites for outcome in suite.expectations if outcome.critical_failure
        ]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [
            outcome
            for suite in self.suites
            for outcome in suite.expectations
            if not outcome.success and not outcome.critical_failure
        ]


def summary(report: DayReport) -> str:
    """What a run found, for a terminal or a task log: counts, then every failure and skipped suite."""
    expectations = [outcome for suite in report.suites for outcome in suite.expectations]
    lines = [
        f"Data quality of {report.day} (run {report.run_id}): {len(report.suites)} suites, "
        f"{len(expectations)} expectations, {len(report.critical_failures)} critical failures, "
        f"{len(report.warnings)} warnings"
    ]
    lines += [f"  FAILED {outcome}" for outcome in report.critical_failures]
    lines += [f"  warning {outcome}" for outcome in report.warnings]
    lines += [f"  skipped {suite}: {reason}" for suite, reason in sorted(report.skipped.items())]
    if report.data_docs is not None:
        lines.append(f"Data Docs: {report.data_docs.as_uri()}")
    return "\n".join(lines)
