"""What the producer decides about a landing file before it reads it: settled yet, and its name as text."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

from salesinsights.producer.service import _move, printable_name, settled


def test_a_file_is_settled_once_unchanged_for_the_settle_time(tmp_path: Path) -> None:
    path = tmp_path / "copied.csv"
    path.write_text("header\n")
    now = time.time()
    assert not settled(path, timedelta(seconds=2), now=now)
    assert settled(path, timedelta(seconds=2), now=now + 2.5)
    assert settled(path, timedelta(0), now=now + 0.01)
    with path.open("a") as writer:  # the writer goes on: the clock starts again
        writer.write("row\n")
    assert not settled(path, timedelta(seconds=2), now=time.time() + 1)
    assert not settled(tmp_path / "gone.csv", timedelta(0))


def test_a_name_that_is_not_utf8_is_shown_with_its_bytes(tmp_path: Path) -> None:
    name = os.fsdecode(b"bad\xffname.csv")
    assert printable_name(tmp_path / name) == "bad\\xffname.csv"
    assert printable_name(tmp_path / "ok.csv") == "ok.csv"


def test_a_rejected_file_never_replaces_one_rejected_before(tmp_path: Path) -> None:
    rejected = tmp_path / "rejected"
    for content in ("first", "second", "third"):
        (tmp_path / "bad.csv").write_text(content)
        _move(tmp_path / "bad.csv", rejected, keep_both=True)
    assert {path.name: path.read_text() for path in rejected.iterdir()} == {
        "bad.csv": "first",
        "bad.csv.1": "second",
        "bad.csv.2": "third",
    }
