"""The sample issue in a real browser: Debian's headless Chromium driven by Playwright (no browser download), at a
390 px phone and a 600 px desktop-client width: no horizontal scroll, every image loads, screenshots for review.

The screenshots land in test-artifacts/browser/ at the repository root (or $AICA_TEST_ARTIFACTS)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ai_content_agents import pipeline
from ai_content_agents.config import Settings
from ai_content_agents.newsletter import archive, images
from ai_content_agents.agents.editor import write_with_agents
from ai_content_agents.store import Store

from . import stories as S

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("AICA_TEST_ARTIFACTS") or ROOT / "test-artifacts") / "browser"
CHROMIUM = next((p for p in (os.environ.get("AICA_CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium",
                             shutil.which("chromium-browser")) if p and Path(p).is_file()), None)

if CHROMIUM is None:
    if os.environ.get("CI"):
        pytest.fail("Debian's chromium is missing: .ci/run installs it with apt-get", pytrace=False)
    pytest.skip("chromium is not installed (apt-get install -y chromium)", allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def sample_issue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("browser")
    settings = Settings(data_dir=tmp / "data", out_dir=tmp / "out", _env_file=None)
    store = Store(settings.db_path)
    try:
        report = pipeline.gather(settings, store, mode="sample")
        nl = write_with_agents(report, settings, store, now=S.NOW)
        history = images.history_for(nl.trends, sample=True)
        published = archive.publish(nl, settings.out_dir, history=history)
    finally:
        store.close()
    assert not nl.withheld
    return published.paths["html"]


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--no-first-run", "--disable-dev-shm-usage"],
        )
        try:
            yield b
        finally:
            b.close()


@pytest.mark.parametrize("width", [390, 600])
def test_the_issue_fits_the_screen_and_every_image_loads(browser, sample_issue: Path, width: int) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": width, "height": 900}, device_scale_factor=1)
    try:
        page.goto(sample_issue.as_uri(), wait_until="load")
        page.wait_for_function("Array.from(document.images).every(i => i.complete)", timeout=10_000)
        scroll = page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
        assert scroll <= width, f"horizontal scroll: content is {scroll}px wide in a {width}px viewport"
        broken = page.evaluate(
            "Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)")
        assert broken == []
        count = page.evaluate("document.images.length")
        charts = page.evaluate("Array.from(document.images).filter(i => i.src.includes('chart-')).length")
        assert count >= 3 and charts >= 1
        alts = page.evaluate("Array.from(document.images).map(i => i.alt)")
        assert all(a and len(a) >= 8 for a in alts)
        hidden = page.evaluate("(() => { const d = document.body.firstElementChild; return [d.innerText.length > 0,"
                               " getComputedStyle(d).display]; })()")
        assert hidden[1] == "none"  # the preheader is in the markup but not shown
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = ARTIFACTS / f"sample-issue-{width}px.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
    finally:
        page.close()
