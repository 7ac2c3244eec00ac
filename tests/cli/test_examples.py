"""The shipped example runs as a user would run it: offline, no keys, no network."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_start_runs_offline(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "APIFY_", "AICA_", "TIKTOK_"))}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quick_start.py")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "proposal 1: applied" in proc.stdout  # the approval flow ran end to end
    assert "Written offline" in proc.stdout
    assert "1520.00 USD" in proc.stdout and "tool shop_performance failed" not in proc.stdout  # shop tools answered
    assert "Traceback" not in proc.stderr
