"""The whole bad-input corpus through the real platform (broker, producer, streaming job): nothing is lost,
every reason is right, late events are kept and counted, no process crashes, and the nightly data-quality
validation shows every bad row.

The conservation equation, exactly: the lines of every file the producer reads = events in silver +
quarantine rows + dead letters about a line + the header and blank lines its files-done records count. A
file it does not read leaves one dead letter of its own (or, with a hidden name, stays where it is)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from salesinsights.catalog import AUDIT_STREAM_BATCHES, SILVER_EVENTS, SILVER_QUARANTINE
from salesinsights.dashboard.app import create_app
from salesinsights.kafka_io import read_topic
from salesinsights.lake import processed_records
from salesinsights.lake import read_table as table
from salesinsights.quality import suites as S
from salesinsights.quality.outcomes import DayReport, ExpectationOutcome
from salesinsights.quality.results import read_results
from salesinsights.quality.validate import validate_day
from salesinsights.settings import Settings
from tests.bad_input.corpus import EVENT_DAY, Case, Fate, Kind, totals, write_phase
from tests.support import produce, start_streaming, stop, wait_until

# Every table of the archive but the CLV snapshot, which no CLV run has written here.
MEDALLION_SUITE_TABLES = sorted({spec.table for spec in S.SUITES} - {S.CLV, S.DEAD_LETTERS})


def _files(folder: Path) -> set[str]:
    return {path.name for path in folder.iterdir()} if folder.exists() else set()


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def _records(settings: Settings, topic: str) -> list[dict[str, Any]]:
    return [json.loads(value) for message in read_topic(settings.kafka, topic) if (value := message.value())]


def _committed(settings: Settings) -> int:
    return len(read_topic(settings.kafka, settings.kafka.raw_topic, timeout_s=120))


def _stream_until_processed(settings: Settings, what: str) -> None:
    committed = _committed(settings)
    wait_until(lambda: processed_records(settings) >= committed, 900, what)


def test_bad_input_corpus_is_conserved_exactly_with_every_reason(platform: Settings, tmp_path: Path) -> None:
    settings = platform
    outside = tmp_path / "outside"
    cases = write_phase(settings.landing_dir, outside, 1)
    outside_before = _tree(outside)
    produce(settings)
    streaming = start_streaming(settings)
    try:
        _stream_until_processed(settings, "phase 1")
        # Phase 2 meets a stream whose watermark has moved past its events, and names produced before.
        cases += write_phase(settings.landing_dir, outside, 2)
        produce(settings)
        _stream_until_processed(settings, "phase 2")
        assert streaming.poll() is None, "the streaming job stopped"

        _assert_conserved_with_every_reason(settings, cases)
        _assert_files_where_they_belong(settings, cases)
        assert _tree(outside) == outside_before, "a file outside the landing folder was touched"
        _assert_visible_in_nightly_results(settings, cases)
        _assert_visible_in_dashboard_health(settings, cases)
    finally:
        stop(streaming)


def _assert_conserved_with_every_reason(settings: Settings, cases: list[Case]) -> None:
    expected = totals(cases)
    done = {
        record["file"]: record["counts"] for record in _records(settings, settings.kafka.files_done_topic)
    }
    produced = {case.name: case for case in cases if case.fate is Fate.PRODUCED}
    assert done.keys() == produced.keys()
    for name, case in produced.items():
        assert done[name] == case.expected_counts(), case.kind

    letters = _records(settings, settings.kafka.dead_letter_topic)
    dead = Counter((letter["source_file"], letter["source_line"], letter["reason"]) for letter in letters)
    assert dead == expected.dead_letters

    quarantine = table(settings, SILVER_QUARANTINE)
    reasons = zip(quarantine["source_file"], quarantine["source_line"], quarantine["reason"], strict=True)
    assert Counter((name, int(line), reason) for name, line, reason in reasons) == expected.quarantine

    silver = table(settings, SILVER_EVENTS)
    assert silver["event_id"].is_unique
    assert Counter(silver["source_file"]) == +expected.silver

    line_letters = sum(count for (_, line, _), count in dead.items() if line is not None)
    header_and_blank = sum(
        int(counts["header_lines"]) + int(counts["blank_lines"]) for counts in done.values()
    )
    assert header_and_blank == expected.header_and_blank
    # rows in = rows in silver + quarantine + dead letters (+ header and blank lines)
    assert expected.lines == len(silver) + len(quarantine) + line_letters + header_and_blank

    audit = table(settings, AUDIT_STREAM_BATCHES)
    assert audit["kafka_records"].sum() == len(silver) + len(quarantine) == _committed(settings)
    assert audit["replays_collapsed"].sum() == 0
    assert audit["late_events"].sum() == expected.late == 2
    assert set(silver[silver["event_time"].dt.date < EVENT_DAY]["user_session"]) == {"late-a", "late-b"}


def _assert_files_where_they_belong(settings: Settings, cases: list[Case]) -> None:
    def names(*fates: Fate) -> set[str]:
        return {case.name for case in cases if case.fate in fates}

    assert _files(settings.produced_dir) == names(Fate.PRODUCED, Fate.ALREADY_PRODUCED)
    assert _files(settings.data / "rejected") == names(Fate.REJECTED)
    assert _files(settings.landing_dir) == names(Fate.IGNORED)


def _outcome(report: DayReport, suite: str, rule: str) -> ExpectationOutcome:
    return next(o for s in report.suites for o in s.expectations if (o.suite, o.rule) == (suite, rule))


def _counts_by_reason(report: DayReport, suite: str, rule: str) -> Counter[str]:
    """The reasons and counts a failed `rows <= 0` expectation names."""
    outcome = _outcome(report, suite, rule)
    assert not outcome.success
    return Counter({row["reason"]: int(row["rows"]) for row in json.loads(outcome.observed_value)["rows"]})


def _assert_visible_in_nightly_results(settings: Settings, cases: list[Case]) -> None:
    report = validate_day(settings, EVENT_DAY, "bad-input", MEDALLION_SUITE_TABLES)
    # On the tables Spark wrote, schemas, silver's rules and gold's reconciliation hold; the day fails on
    # the share of its records in quarantine, and the results list each reason with its count.
    assert {(o.suite, o.rule) for o in report.critical_failures} == {(S.QUARANTINE_SHARE, "quarantine_share")}
    quarantined = Counter(
        line.reason
        for case in cases
        for line in case.outcomes(Kind.QUARANTINE)
        if line.data.startswith(EVENT_DAY.isoformat().encode())
    )
    assert _counts_by_reason(report, S.QUARANTINE_SHARE, "no_quarantine") == quarantined
    silver = table(settings, SILVER_EVENTS)
    valid = (silver["event_date"] == EVENT_DAY).sum()
    share = json.loads(_outcome(report, S.QUARANTINE_SHARE, "quarantine_share").observed_value)
    assert share == pytest.approx(quarantined.total() / (valid + quarantined.total()))
    assert read_results(settings, "bad-input").num_rows == sum(len(s.expectations) for s in report.suites)

    # Dead letters carry no event time, and micro-batches run in wall-clock time: they belong to today.
    today = datetime.now(UTC).date()
    intake = validate_day(settings, today, "bad-input-intake", [S.DEAD_LETTERS, S.STREAM_BATCHES])
    assert intake.critical_failures == []
    dead = Counter(
        reason for (_, _, reason), count in totals(cases).dead_letters.items() for _ in range(count)
    )
    assert _counts_by_reason(intake, S.DEAD_LETTERS, "no_dead_letters") == dead
    assert json.loads(_outcome(intake, S.STREAM_BATCHES, "late_events").observed_value) == 2


def _assert_visible_in_dashboard_health(settings: Settings, cases: list[Case]) -> None:
    expected = totals(cases)
    with TestClient(create_app(settings, quality_refresh_seconds=0.5)) as client:
        wait_until(
            lambda: client.get("/api/health").json()["input_quality"]["refreshed_at"] is not None,
            30,
            "the dashboard's first input-quality refresh",
        )
        quality = client.get("/api/health").json()["input_quality"]
    quarantined = Counter(
        reason for (_, _, reason), count in expected.quarantine.items() for _ in range(count)
    )
    assert quality["quarantine_reasons"] == dict(quarantined)
    assert quality["quarantined"] == quarantined.total()
    dead = Counter(reason for (_, _, reason), count in expected.dead_letters.items() for _ in range(count))
    assert quality["dead_letters_readable"] is True
    assert quality["dead_letter_reasons"] == dict(dead)
    # The newest nightly run is the intake's (dead letters and stream batches), which passed.
    assert quality["last_validation"]["run_id"] == "bad-input-intake"
    assert quality["last_validation"]["critical_failures"] == []
