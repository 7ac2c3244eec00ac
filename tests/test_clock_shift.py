"""The clock-shift mode really moves the wall clock (a second CI run that silently ran unshifted would prove nothing)."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path


def test_wall_clock_is_shifted_by_the_requested_days(tmp_path: Path, clock_shift_days: float) -> None:
    marker = tmp_path / "now"
    marker.write_text("x")
    real = os.stat(marker).st_mtime  # the kernel stamps files with the real clock
    shifted_days = (time.time() - real) / 86_400
    assert abs(shifted_days - clock_shift_days) < 1 / 24
    assert abs(datetime.now(UTC).timestamp() - time.time()) < 60


def test_shifted_clock_still_ticks_for_waits_and_threads() -> None:
    before_wall, before_mono = time.time(), time.monotonic()
    done = threading.Event()
    threading.Thread(target=lambda: (time.sleep(0.05), done.set()), daemon=True).start()
    assert done.wait(timeout=30)
    assert time.time() > before_wall and time.monotonic() > before_mono
