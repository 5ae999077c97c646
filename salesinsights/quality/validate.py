"""Running the suites: frames in, one outcome per expectation out; and the nightly validation of a day.

Each suite is validated on its own frame through a Great Expectations validation definition (pandas data
source, one dataframe asset per suite), so the context's result store keeps every run for the Data Docs.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Literal

import pandas as pd
from great_expectations import ValidationDefinition
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context import AbstractDataContext
from great_expectations.datasource.fluent import PandasDatasource
from great_expectations.util import convert_to_json_serializable

from salesinsights.quality.context import DOCS_SITE, data_docs_index, file_context
from salesinsights.quality.day import DayFrames, read_day
from salesinsights.quality.expect import CRITICAL
from salesinsights.quality.outcomes import DayReport, ExpectationOutcome, SuiteOutcome
from salesinsights.quality.results import store_results
from salesinsights.quality.suites import SUITE_BY_NAME, SUITES, build_suite
from salesinsights.settings import Settings

DATASOURCE = "salesinsights"
BATCH = "frame"
# Enough to name the offending values (the 20 most frequent, with counts) without copying a whole day.
RESULT_FORMAT: Literal["SUMMARY"] = "SUMMARY"


def _column(kwargs: Mapping[str, Any]) -> str | None:
    if "column" in kwargs:
        return str(kwargs["column"])
    if "column_A" in kwargs:
        return f"{kwargs['column_A']}, {kwargs['column_B']}"
    if "column_list" in kwargs:
        return ", ".join(kwargs["column_list"])
    return None


def _json(value: object) -> str:
    return json.dumps(convert_to_json_serializable(value), default=str)


def _observed(result: Mapping[str, Any], exception: Mapping[str, Any] | None) -> str:
    if exception and exception.get("raised_exception"):
        return _json({"exception": exception.get("exception_message")})
    if "observed_value" in result:
        return _json(result["observed_value"])
    observed = {
        "unexpected_count": result.get("unexpected_count"),
        "element_count": result.get("element_count"),
        "unexpected": result.get("partial_unexpected_counts", []),
    }
    if result.get("partial_unexpected_index_list"):
        observed["rows"] = result["partial_unexpected_index_list"]
    return _json(observed)


def _outcomes(suite: str, suite_result: Any) -> list[ExpectationOutcome]:
    table = SUITE_BY_NAME[suite].table
    outcomes = []
    for result in suite_result.results:
        config = result.expectation_config
        meta = config.meta or {}
        details = result.result or {}
        outcomes.append(
            ExpectationOutcome(
                suite=suite,
                table=table,
                expectation_type=config.type,
                column=_column(config.kwargs),
                success=bool(result.success),
                severity=str(meta.get("severity", CRITICAL)),
                rule=str(meta.get("rule", "")),
                description=config.description or "",
                observed_value=_observed(details, result.exception_info),
                unexpected_count=details.get("unexpected_count"),
                element_count=details.get("element_count"),
            )
        )
    return outcomes


def _validation_definition(context: AbstractDataContext, suite: str) -> ValidationDefinition:
    """The suite's validation definition: the suite as the code builds it now, on a dataframe asset."""
    sources = context.data_sources
    source = sources.get(DATASOURCE) if DATASOURCE in sources.all() else sources.add_pandas(DATASOURCE)
    assert isinstance(source, PandasDatasource)
    asset = (
        source.get_asset(suite) if suite in source.get_asset_names() else source.add_dataframe_asset(suite)
    )
    existing = [batch for batch in asset.batch_definitions if batch.name == BATCH]
    batch = existing[0] if existing else asset.add_batch_definition_whole_dataframe(BATCH)
    expectations = context.suites.add_or_update(build_suite(suite))
    return context.validation_definitions.add_or_update(
        ValidationDefinition(name=suite, data=batch, suite=expectations)
    )


def validate_frames(
    context: AbstractDataContext,
    frames: Mapping[str, pd.DataFrame],
    parameters: Mapping[str, Mapping[str, object]] | None = None,
    run: RunIdentifier | None = None,
) -> list[SuiteOutcome]:
    """Validates each frame with the suite of its name (in suite order)."""
    outcomes = []
    with warnings.catch_warnings():
        # Great Expectations matches a regex with pandas' str.contains, which warns about the capture groups
        # in the rulebook's patterns (rules.parse_value needs them); the match is right all the same.
        warnings.filterwarnings("ignore", "This pattern is interpreted as a regular expression", UserWarning)
        for suite in (spec.name for spec in SUITES if spec.name in frames):
            frame = frames[suite]
            row_ids = SUITE_BY_NAME[suite].row_ids
            result = _validation_definition(context, suite).run(
                batch_parameters={"dataframe": frame},
                expectation_parameters=dict((parameters or {}).get(suite, {})),
                result_format={"result_format": RESULT_FORMAT, "unexpected_index_column_names": list(row_ids)}
                if row_ids
                else RESULT_FORMAT,
                run_id=run,
            )
            outcomes.append(
                SuiteOutcome(suite, SUITE_BY_NAME[suite].table, len(frame), _outcomes(suite, result))
            )
    return outcomes


def suites_of_tables(tables: Collection[str] | None) -> list[str]:
    """The suites that guard the given tables (qualified names), or every suite."""
    return [spec.name for spec in SUITES if tables is None or spec.table in tables]


def validate_day_frames(
    settings: Settings,
    run_id: str,
    day: DayFrames,
    now: datetime,
    context: AbstractDataContext | None = None,
) -> DayReport:
    """Validates the frames of a day and stores each outcome in audit.dq_results (replacing an earlier
    attempt of the same run on that day). The Data Docs are rendered apart (`render_data_docs`)."""
    report = DayReport(run_id, day.day, now, skipped=day.skipped)
    run = RunIdentifier(run_name=f"{run_id}@{day.day.isoformat()}", run_time=now)
    report.suites = validate_frames(context or file_context(settings), day.frames, day.parameters, run)
    store_results(settings, report)
    report.data_docs = data_docs_index(settings)
    return report


def render_data_docs(settings: Settings, context: AbstractDataContext | None = None) -> None:
    (context or file_context(settings)).build_data_docs(site_names=[DOCS_SITE])


def validate_days(
    settings: Settings,
    days: Sequence[date],
    run_id: str,
    tables: Collection[str] | None = None,
    now: datetime | None = None,
) -> list[DayReport]:
    """Every suite of the given tables (default: all) on each event day of the lake, in order; the Data
    Docs rendered once at the end."""
    now = now or datetime.now(UTC)
    suites = suites_of_tables(tables)
    context = file_context(settings)
    reports = [
        validate_day_frames(settings, run_id, read_day(settings, day, suites, now), now, context)
        for day in days
    ]
    render_data_docs(settings, context)
    return reports


def validate_day(
    settings: Settings,
    day: date,
    run_id: str,
    tables: Collection[str] | None = None,
    now: datetime | None = None,
) -> DayReport:
    """Every suite of the given tables (default: all) on one event day of the lake."""
    return validate_days(settings, [day], run_id, tables, now)[0]
