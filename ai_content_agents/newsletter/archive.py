"""Every issue in its own folder, and `out/latest` switched to the new one only once it is complete.

Layout under the output folder (default `out/`):
    issues/<date>-<run id>/newsletter.md, .html, .txt, .json, images/…   one folder per run, never overwritten
    latest -> issues/<date>-<run id>                                       a relative symlink (a pointer file
                                                                            holding that path where symlinks fail)
An issue is rendered into a hidden temporary folder beside the others, renamed into place (one atomic rename), and
only then is `latest` replaced (a new symlink moved over the old one with `os.replace`). An interrupted run leaves
the previous issue complete and `latest` pointing at it: readers see all-old or all-new, never a mix.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from ..models import Newsletter
from .render import render

ISSUES = "issues"
LATEST = "latest"


class Published(BaseModel):
    folder: Path
    latest: Path
    paths: dict[str, Path]


class IssueEntry(BaseModel):
    folder: Path
    issue_date: datetime | None = None
    run_id: str = ""
    sample: bool = False
    title: str = ""
    top_stories: list[str] = Field(default_factory=list)
    withheld: int = 0


def folder_name(nl: Newsletter) -> str:
    safe_run = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in nl.report.run_id) or "run"
    return f"{nl.issue_date:%Y-%m-%d}-{safe_run}"


def _free_name(issues: Path, name: str) -> Path:
    candidate, n = issues / name, 2
    while candidate.exists() or candidate.is_symlink():
        candidate, n = issues / f"{name}-{n}", n + 1
    return candidate


def _dir_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o777 & ~mask


def publish(nl: Newsletter, out_root: Path, *, history: dict[str, list[Any]] | None = None) -> Published:
    """Render `nl` into a new issue folder under `out_root/issues/`, then point `out_root/latest` at it."""
    issues = out_root / ISSUES
    issues.mkdir(parents=True, exist_ok=True)
    name = folder_name(nl)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".partial", dir=issues))
    try:
        os.chmod(tmp, _dir_mode())  # mkdtemp makes 0700; the issue is as readable as the user's umask allows
        paths = render(nl, tmp, history=history)
        while True:
            final = _free_name(issues, name)
            try:
                os.rename(tmp, final)  # atomic; fails rather than replace a folder that appeared meanwhile
                break
            except OSError:
                if not final.exists():
                    raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    latest = switch_latest(out_root, final)
    return Published(folder=final, latest=latest, paths={k: final / p.name for k, p in paths.items()})


def switch_latest(out_root: Path, target: Path) -> Path:
    """Point `out_root/latest` at `target` atomically: a new relative symlink replaces the old one."""
    link = out_root / LATEST
    rel = os.path.relpath(target, out_root)
    tmp = out_root / f".{LATEST}.{os.getpid()}.tmp"
    tmp.unlink(missing_ok=True)
    try:
        os.symlink(rel, tmp, target_is_directory=True)
    except (OSError, NotImplementedError):  # no symlinks here (some Windows setups): a pointer file instead
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(rel + "\n")
    if link.is_dir() and not link.is_symlink():
        tmp.unlink(missing_ok=True)
        raise IsADirectoryError(f"{link} is a real folder, not the 'latest' link; move it away and run again")
    os.replace(tmp, link)
    return link


def resolve_latest(out_root: Path) -> Path | None:
    """The folder `latest` points at (through the symlink or the pointer file), or None."""
    link = out_root / LATEST
    if link.is_symlink() or link.is_dir():
        return link.resolve()
    if link.is_file():
        target = (out_root / link.read_text(encoding="utf-8").strip()).resolve()
        return target if target.is_dir() else None
    return None


def list_issues(out_root: Path) -> list[IssueEntry]:
    """Past issues, newest first, read from each folder's newsletter.json (unreadable ones are listed bare)."""
    issues = out_root / ISSUES
    if not issues.is_dir():
        return []
    out: list[IssueEntry] = []
    for folder in issues.iterdir():
        if folder.name.startswith(".") or not folder.is_dir():
            continue
        entry = IssueEntry(folder=folder)
        try:
            data = json.loads((folder / "newsletter.json").read_text(encoding="utf-8"))
            entry = IssueEntry(
                folder=folder,
                issue_date=datetime.fromisoformat(data["issue_date"]),
                run_id=str(data.get("run_id", "")),
                sample=bool(data.get("sample")),
                title=str(data.get("title", "")),
                top_stories=[str(s) for s in data.get("top_stories", [])][:5],
                withheld=len(data.get("withheld", [])),
            )
        except (OSError, ValueError, KeyError, TypeError):
            pass
        out.append(entry)
    return sorted(out, key=lambda e: (e.issue_date.timestamp() if e.issue_date else 0.0, e.folder.name), reverse=True)
