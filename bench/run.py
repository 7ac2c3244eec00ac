"""Run every benchmark and print one JSON object: figure name → value.

Usage: python bench/run.py [--only gather,ranking,...]
Each bench module exposes `run() -> dict[str, float]`; figures are ratios against a baseline
measured in the same run wherever the machine's speed would otherwise matter.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BENCHES = ("gather", "ranking", "ratelimit", "shop_sync", "startup", "tokens", "reliability", "batch")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="comma-separated subset of: " + ", ".join(BENCHES))
    args = parser.parse_args(argv)
    chosen = [b.strip() for b in args.only.split(",")] if args.only else list(BENCHES)
    unknown = [b for b in chosen if b not in BENCHES]
    if unknown:
        parser.error(f"unknown bench(es): {', '.join(unknown)}")
    figures: dict[str, float] = {}
    for name in chosen:
        started = time.perf_counter()
        print(f"[bench] {name}…", file=sys.stderr, flush=True)
        module = importlib.import_module(f"bench.{name}")
        figures.update(module.run())
        print(f"[bench] {name} done in {time.perf_counter() - started:.1f}s", file=sys.stderr, flush=True)
    print(json.dumps(figures, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
