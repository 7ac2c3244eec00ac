"""Start-up: how long a fresh interpreter takes to import the console script's module, as a ratio.

The command's module (`ai_content_agents.cli`, what `ai-content-agents --help` loads) against the floor
any typer + rich CLI pays: a fresh interpreter importing `typer` and `rich.console` alone. Runs alternate
(command, floor, command, floor, ...) so a busy moment lands on both; the medians make the ratio. A command
imports what it uses when it runs, so this stays near 1 (target <= 3).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMAND = "import ai_content_agents.cli"
FLOOR = "import typer, rich.console"


def _wall(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    return time.perf_counter() - started


def run(rounds: int = 15) -> dict[str, float]:
    _wall(COMMAND), _wall(FLOOR)  # warm the OS file cache and the .pyc files first
    command: list[float] = []
    floor: list[float] = []
    for _ in range(rounds):
        command.append(_wall(COMMAND))
        floor.append(_wall(FLOOR))
    cmd, base = statistics.median(command), statistics.median(floor)
    return {
        "startup_cli_import_s": round(cmd, 3),
        "startup_typer_rich_import_s": round(base, 3),
        "startup_ratio": round(cmd / base, 2),
    }
