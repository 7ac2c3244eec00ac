"""A fast start and a clean stop: `--help` loads no heavy library; Ctrl-C at any moment is one line and exit 130."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

HEAVY = ("anthropic", "apify_client", "requests", "pydantic_settings", "jinja2", "matplotlib", "httpx2",
         "ai_content_agents.pipeline", "ai_content_agents.agents", "ai_content_agents.newsletter",
         "ai_content_agents.integrations")


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "APIFY_", "AICA_", "TIKTOK_"))}


def test_the_command_module_and_help_load_no_heavy_library(tmp_path: Path) -> None:
    code = ("import sys, ai_content_agents.cli as c; c.app(['--help'], standalone_mode=False); "
            f"print('LOADED:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=_env(), capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Usage" in proc.stdout
    assert proc.stdout.splitlines()[-1] == "LOADED:"  # none of them was imported


def test_ctrl_c_while_the_command_loads_is_one_line_and_exit_130(tmp_path: Path) -> None:
    # the interrupt lands inside the import of typer, as a Ctrl-C during start-up would
    code = (
        "import sys\n"
        "class Interrupt:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'typer':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, Interrupt())\n"
        "from ai_content_agents.cli import main\n"
        "main()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=_env(), capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 130
    assert proc.stderr.strip() == "interrupted" and "Traceback" not in proc.stderr


def test_ctrl_c_during_a_run_is_one_line_and_exit_130(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "ai_content_agents", "newsletter", "--sample"], cwd=tmp_path,
                            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the command has started its work when it says so
        assert "Gathering" in line, line
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, err[-2000:]
    assert err.strip() == "interrupted" and "Traceback" not in err
    assert not (tmp_path / "out" / "latest").exists()  # stopped before the issue was published
