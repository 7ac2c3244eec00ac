"""The email a phone can read, with pictures, and the archive of every issue with an atomic `latest`."""

from __future__ import annotations

import json
import os
import re
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ai_content_agents.cli import app
from ai_content_agents.models import Masthead
from ai_content_agents.newsletter import archive, images
from ai_content_agents.newsletter import render as render_mod
from ai_content_agents.newsletter.compose import compose
from ai_content_agents.newsletter.template_writer import TemplateWriter

from . import stories as S

HISTORY = {"amazon:B0EXBLEND1": [(S.NOW - timedelta(days=2), {"position": 14.0}), (S.NOW - timedelta(days=1), {"position": 9.0})]}


def issue(sample: bool = True, run_id: str = "20261120T090000Z-test01", **mast: str):  # type: ignore[no-untyped-def]
    report = S.report(sample=sample)
    report.run_id = run_id
    return compose(report, TemplateWriter(), now=S.NOW, masthead=Masthead(**mast) if mast else None)


def test_html_is_fluid_with_short_links_preheader_alt_text_footer_and_color_scheme(tmp_path: Path) -> None:
    paths = render_mod.render(issue(), tmp_path, history=HISTORY)
    html = paths["html"].read_text()
    assert 'width="600"' not in html.replace("<!--[if mso]><table role=\"presentation\" width=\"600\"", "")
    assert "max-width:600px" in html and "width:100%" in html
    assert '<meta name="color-scheme" content="light dark">' in html and "prefers-color-scheme: dark" in html
    pre = re.search(r'<div style="display:none[^"]*">([^<]+)</div>', html)
    assert pre and pre.group(1).startswith("This week: LumaGlow")
    links = re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', html)
    story_links = [(u, t) for u, t in links if u.startswith("http")]
    assert story_links and all(not t.startswith("http") and len(t) <= 20 for _, t in story_links)
    assert ("https://www.amazon.com/dp/B0EXLEDMSK", "View on Amazon") in story_links
    assert any(t == "Watch on TikTok" for _, t in story_links)
    imgs = re.findall(r"<img [^>]*>", html)
    assert imgs and all(re.search(r'alt="[^"]{8,}"', i) for i in imgs)
    assert "Unsubscribe" in html and "{{unsubscribe_url}}" in html and "postal address" in html


def test_plain_text_part_and_masthead_from_settings(tmp_path: Path) -> None:
    nl = issue(name="Shelf Signals", tagline="Five minutes, five products", sender="Shelf Signals <hi@brand.test>",
               unsubscribe_url="*|UNSUB|*")
    paths = render_mod.render(nl, tmp_path)
    txt = paths["txt"].read_text()
    assert txt.startswith("*** SAMPLE DATA") and "Shelf Signals - Five minutes, five products" in txt
    assert "View on Amazon: https://www.amazon.com/dp/B0EXLEDMSK" in txt and "<" not in txt.replace("<hi@brand.test>", "")
    assert "Unsubscribe: *|UNSUB|*" in txt and "Sent by Shelf Signals <hi@brand.test>" in txt
    data = json.loads(paths["json"].read_text())
    assert data["name"] == "Shelf Signals" and data["sender"] == "Shelf Signals <hi@brand.test>"
    assert data["title"].startswith("SAMPLE DATA: Shelf Signals:")


def test_pictures_placeholder_for_example_hosts_real_thumbnails_live_and_a_chart_from_history(tmp_path: Path) -> None:
    sample = render_mod.render(issue(sample=True), tmp_path / "s", history=HISTORY)
    html = sample["html"].read_text()
    assert "images.example.com" not in html and 'src="images/placeholder.png"' in html
    assert (tmp_path / "s" / "images" / "placeholder.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    chart = json.loads(sample["json"].read_text())["charts"]
    assert [c["item_key"] for c in chart] == ["amazon:B0EXBLEND1"]
    assert chart[0]["alt"].startswith("Amazon rank of BlendGo Portable Blender across our runs: #14 on Nov 18 to #1 on Nov 20")
    png = tmp_path / "s" / chart[0]["file"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 2000
    assert f'src="{chart[0]["file"]}"' in html and "![Amazon rank of BlendGo" in sample["md"].read_text()
    assert images.showable("https://m.media-amazon.com/images/I/81abc.jpg", sample=False)
    assert not images.showable("https://images.example.com/x.jpg", sample=False)
    assert not images.showable("https://m.media-amazon.com/images/I/81abc.jpg", sample=True)


def test_files_are_created_with_the_users_umask_not_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        published = archive.publish(issue(), tmp_path / "out", history=HISTORY)
    finally:
        os.umask(old)
    for p in [*published.paths.values(), *(published.folder / "images").iterdir()]:
        assert stat.S_IMODE(p.stat().st_mode) == 0o644, p
    assert stat.S_IMODE(published.folder.stat().st_mode) == 0o755


def test_every_run_gets_its_own_folder_and_latest_switches(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = archive.publish(issue(run_id="run-a"), out)
    second = archive.publish(issue(sample=False, run_id="run-b"), out)
    again = archive.publish(issue(sample=False, run_id="run-b"), out)  # same date and run: a new folder, not an overwrite
    assert first.folder.name == "2026-11-20-run-a" and second.folder.name == "2026-11-20-run-b"
    assert again.folder.name == "2026-11-20-run-b-2" and first.folder.is_dir() and second.folder.is_dir()
    latest = out / "latest"
    assert latest.is_symlink() and os.readlink(latest) == os.path.join("issues", "2026-11-20-run-b-2")
    assert json.loads((latest / "newsletter.json").read_text())["run_id"] == "run-b"
    listed = archive.list_issues(out)
    assert {e.run_id for e in listed} == {"run-a", "run-b"} and len(listed) == 3
    assert [e.sample for e in listed if e.run_id == "run-a"] == [True]
    assert listed[0].top_stories[0] == "LumaGlow LED Face Mask"


def test_an_interrupted_write_leaves_the_previous_issue_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    archive.publish(issue(run_id="run-old"), out)
    real = render_mod.atomic_write
    written: list[str] = []

    def interrupted(path: Path, data: str | bytes) -> None:
        if path.suffix == ".html":  # Ctrl-C after the new .md is written, before the .html and .json
            raise KeyboardInterrupt
        written.append(path.name)
        real(path, data)

    monkeypatch.setattr(render_mod, "atomic_write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        archive.publish(issue(run_id="run-new"), out)
    assert written == ["newsletter.md"]
    latest = out / "latest"
    md, data = (latest / "newsletter.md").read_text(), json.loads((latest / "newsletter.json").read_text())
    assert data["run_id"] == "run-old" and "run-old" in md and "run-new" not in md
    assert [p.name for p in (out / "issues").iterdir()] == ["2026-11-20-run-old"]  # no half issue left behind


def test_latest_falls_back_to_a_pointer_file_without_symlinks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_symlinks(*a: object, **k: object) -> None:
        raise OSError("symlinks are not supported here")

    monkeypatch.setattr(os, "symlink", no_symlinks)
    published = archive.publish(issue(run_id="run-p"), tmp_path / "out")
    pointer = tmp_path / "out" / "latest"
    assert pointer.is_file() and pointer.read_text().strip() == os.path.join("issues", published.folder.name)
    assert archive.resolve_latest(tmp_path / "out") == published.folder.resolve()


def test_archive_command_lists_past_issues_and_newsletter_open_opens_the_html(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    archive.publish(issue(run_id="run-a"), out)
    archive.publish(issue(sample=False, run_id="run-b"), out)
    result = CliRunner().invoke(app, ["archive", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["run_id"], r["sample"], r["latest"]) for r in rows] == [("run-b", False, True), ("run-a", True, False)]
    assert rows[0]["top_stories"][:2] == ["LumaGlow LED Face Mask", "FoldFlat Under-Desk Walking Pad Treadmill"]
    table = CliRunner().invoke(app, ["archive", "--out", str(out)])
    assert "run-a" in table.output and "sample" in table.output and "live" in table.output
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url, *a, **k: opened.append(url) or True)
    result = CliRunner().invoke(app, ["newsletter", "--sample", "--out", str(out), "--open"])
    assert result.exit_code == 0, result.output
    assert len(opened) == 1 and opened[0].startswith("file://") and opened[0].endswith("/newsletter.html")
    assert Path(opened[0].removeprefix("file://")).is_file()
