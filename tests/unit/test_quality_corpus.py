"""The bad-input corpus checked against the producer's reader and the rulebook, without Kafka: every file's
declared outcomes are what the code gives (tests/e2e/test_bad_input.py runs it through the real platform)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from salesinsights.producer.reader import DeadLetter, FileCounts, RawEvent, read_landing_file
from salesinsights.quality.frames import decode_record, field_texts
from salesinsights.rules import Stage, violations
from tests.bad_input.corpus import Case, Fate, Kind, cases, write_phase


def test_the_corpus_has_at_least_twenty_kinds_of_bad_input() -> None:
    kinds = [case.kind for case in cases() if case.kind != "clean generated day"]
    assert len(set(kinds)) == len(kinds) >= 20


@pytest.mark.parametrize("phase", [1, 2])
def test_every_produced_line_has_its_declared_outcome(tmp_path: Path, phase: int) -> None:
    landing = tmp_path / "landing"
    for case in write_phase(landing, tmp_path / "outside", phase):
        if case.fate is Fate.PRODUCED:
            _check(landing / case.name, case)


def _check(path: Path, case: Case) -> None:
    counts = FileCounts()
    items = list(read_landing_file(path, counts))
    assert counts.as_dict() == case.expected_counts(), case.kind
    letters = Counter((case.name, item.line, item.reason) for item in items if isinstance(item, DeadLetter))
    expected_letters: Counter[tuple[str, int | None, str]] = Counter(case.line_reasons(Kind.DEAD_LETTER))
    if case.file_reason:
        expected_letters[(case.name, None, case.file_reason)] += 1
    assert letters == expected_letters, case.kind
    quarantine: Counter[tuple[str, int, str]] = Counter()
    for item in items:
        if isinstance(item, RawEvent):
            record = decode_record(item.value)
            assert record is not None
            found = violations(field_texts(record), frozenset(Stage))
            if found:
                quarantine[(case.name, item.line, found[0].rule.reason)] += 1
    assert quarantine == case.line_reasons(Kind.QUARANTINE), case.kind
