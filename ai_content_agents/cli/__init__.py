"""The `ai-content-agents` command.

Ctrl-C at any moment, while the command is still loading included, prints one line and exits 130.
"""

from __future__ import annotations

try:
    from .app import app, main
except KeyboardInterrupt:  # pragma: no cover - Ctrl-C during the imports above (timing-dependent)
    import sys

    sys.stderr.write("interrupted\n")
    raise SystemExit(130) from None

__all__ = ["app", "main"]
