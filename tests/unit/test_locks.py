"""The single-instance lock: a second holder is refused at once, and a killed holder leaves no stale lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from salesinsights.locks import AlreadyRunningError, single_instance
from salesinsights.settings import Settings
from salesinsights.spark.reset import STREAMING_LOCK, reset_checkpoint

HOLD = "import sys, time; from pathlib import Path; from salesinsights.locks import single_instance\n" + (
    "with single_instance(Path(sys.argv[1]), 'service'):\n    print('held', flush=True); time.sleep(60)"
)


def test_a_second_holder_is_refused_and_the_lock_is_free_again_after(tmp_path: Path) -> None:
    with single_instance(tmp_path, "service"):
        with (
            pytest.raises(AlreadyRunningError, match=f"pid {os.getpid()}"),
            single_instance(tmp_path, "service"),
        ):
            pass
        with single_instance(tmp_path, "other"):  # another service's lock is its own
            pass
    with single_instance(tmp_path, "service"):
        pass
    assert (tmp_path / "service.lock").stat().st_mode & 0o777 == 0o600


def test_a_holder_killed_with_sigkill_leaves_no_stale_lock(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE)
    assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
    with pytest.raises(AlreadyRunningError, match=f"pid {holder.pid}"), single_instance(tmp_path, "service"):
        pass
    holder.send_signal(signal.SIGKILL)
    holder.wait(10)
    with single_instance(tmp_path, "service"):
        pass


def test_a_checkpoint_is_moved_aside_only_while_the_stream_is_stopped(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    checkpoint = Path(settings.checkpoint_path("medallion"))
    assert reset_checkpoint(settings, "medallion") is None
    (checkpoint / "offsets").mkdir(parents=True)
    with single_instance(settings.run_dir, STREAMING_LOCK), pytest.raises(AlreadyRunningError):
        reset_checkpoint(settings, "medallion")
    assert checkpoint.exists()
    moved = reset_checkpoint(settings, "medallion")
    assert moved is not None and (moved / "offsets").is_dir() and not checkpoint.exists()
    assert moved.name.startswith("medallion.reset-")
