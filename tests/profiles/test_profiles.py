"""Brand profiles as a user meets them: the two shipped examples give visibly different issues on the sample,
`profile init/list/show`, `--profile PATH`, and one clear line for a broken profile."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ai_content_agents import sources
from ai_content_agents.cli import app
from ai_content_agents.config import Settings
from ai_content_agents.profiles import ProfileError, load, parse

runner = CliRunner()


def _issue(profile: str) -> tuple[dict, str]:
    result = runner.invoke(app, ["newsletter", "--sample", "--profile", profile])
    assert result.exit_code == 0, result.output
    folder = Path("out") / profile / "latest"
    return json.loads((folder / "newsletter.json").read_text()), (folder / "newsletter.md").read_text()


def test_skincare_and_kitchen_issues_lead_with_their_own_niche_and_say_sample_data() -> None:
    skin, skin_md = _issue("skincare")
    kitchen, kitchen_md = _issue("kitchen")
    for data, md in ((skin, skin_md), (kitchen, kitchen_md)):
        assert data["sample"] is True and data["title"].startswith("SAMPLE DATA")
        assert md.splitlines()[0].startswith("> **SAMPLE DATA**")
    assert skin["name"] == "Skin Signal" and kitchen["name"] == "Counter Space"
    assert skin["top_stories"] and kitchen["top_stories"]
    assert not set(skin["top_stories"]) & set(kitchen["top_stories"])  # different top stories
    assert "LED Face Mask" in skin["top_stories"][0] and any("Blender" in s for s in kitchen["top_stories"][:1])
    everything = " ".join(skin["top_stories"] + kitchen["top_stories"])
    for off_niche in ("Walking Pad", "Phone Grip"):  # the sample's strong stories that neither niche wants
        assert off_niche not in everything
    assert "Picked for: Founders and growth leads of independent skincare brands" in skin_md


def test_profile_init_writes_a_commented_file_that_loads_and_list_show_find_it() -> None:
    result = runner.invoke(app, ["profile", "init", "acme"])
    assert result.exit_code == 0, result.output
    path = Path(".data/profiles/acme.toml")
    text = path.read_text()
    assert text.count("#") > 10 and "[niche]" in text and "[sources]" in text and "acme" in text
    assert load("acme", Settings(_env_file=None)).newsletter.name == "acme Trend Report"
    again = runner.invoke(app, ["profile", "init", "acme"])
    assert again.exit_code == 2 and "already exists" in again.output
    listed = json.loads(runner.invoke(app, ["profile", "list", "--json"]).stdout)
    assert {r["name"] for r in listed} == {"acme", "kitchen", "skincare"}
    shown = runner.invoke(app, ["profile", "show", "skincare"])
    assert shown.exit_code == 0 and "niche_terms" in shown.output and "Skin Signal" in shown.output


def test_a_profile_from_a_path_sets_sources_weights_and_recipients(tmp_path: Path) -> None:
    path = tmp_path / "pets.toml"
    path.write_text("""
[newsletter]
name = "Pet Pulse"
[niche]
keywords = ["dog", "cat"]
exclude = ["cat litter"]
[sources]
reddit_subreddits = ["dogs", "cats"]
youtube_queries = ["dog toy review"]
enabled = ["reddit", "youtube"]
weights = { reddit = 0.5 }
[send]
recipients = ["team@example.com"]
""")
    base = Settings(_env_file=None, tiktok_hashtags=["keep"], source_weights={"x": 0.7})
    s = load(str(path), base).apply(base)
    assert s.profile == "pets" and s.newsletter_name == "Pet Pulse"
    assert s.reddit_subreddits == ["dogs", "cats"] and s.youtube_queries == ["dog toy review"]
    assert s.tiktok_hashtags == ["keep"]  # what the profile leaves out keeps its configured value
    assert sources.enabled(s) == ["reddit", "youtube"]
    assert s.source_weights == {"x": 0.7, "reddit": 0.5}
    assert s.niche_terms == ["dog", "cat"] and s.niche_only and s.exclude_terms == ["cat litter"]
    assert s.out_dir == base.out_dir / "pets"
    assert s.smtp_recipients == ["team@example.com"]
    result = runner.invoke(app, ["trends", "--sample", "--json", "--profile", str(path)])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("[newsletter\nname = 1", "is not valid TOML"),
        ("[newsletter]\ntitle = 'x'", "newsletter.title"),
        ("[sources]\nweights = { myspace = 1.0 }", "myspace"),
        ("[send]\nrecipients = ['not an address']", "send.recipients"),
    ],
)
def test_a_broken_profile_is_one_clear_line(tmp_path: Path, body: str, expected: str) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(body)
    result = runner.invoke(app, ["trends", "--sample", "--profile", str(path)])
    assert result.exit_code == 2
    assert "error:" in result.output and expected in result.output and "Traceback" not in result.output
    with pytest.raises(ProfileError):
        parse(body, "broken", "test")


def test_unknown_profile_names_the_known_ones_and_how_to_create_one() -> None:
    result = runner.invoke(app, ["newsletter", "--sample", "--profile", "nope"])
    assert result.exit_code == 2
    assert "kitchen, skincare" in result.output and "profile init nope" in result.output


def test_stored_runs_are_reused_only_for_the_same_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    from ai_content_agents import pipeline, runs
    from ai_content_agents.store import Store

    base = Settings(_env_file=None)
    skin = load("skincare", base).apply(base)
    store = Store(base.db_path)
    try:
        report = pipeline.gather(skin, store, mode="sample")
        runs.save(store, report, now=report.started_at)
        at = report.started_at
        assert runs.latest(store, max_age_h=1, now=at, profile="skincare") is not None
        assert runs.latest(store, max_age_h=1, now=at, profile="kitchen") is None
        assert runs.latest(store, max_age_h=1, now=at, profile="") is None
    finally:
        store.close()


def test_trend_agent_answers_leave_out_what_the_profile_excludes() -> None:
    from ai_content_agents.agents.trend import TrendAgent
    from ai_content_agents.store import Store

    base = Settings(_env_file=None)
    skin = load("skincare", base).apply(base)
    store = Store(base.db_path)
    try:
        listed = TrendAgent(skin, store, mode="sample").trend_tools.list_trends(limit=20, order="momentum")
        plain = TrendAgent(base, store, mode="sample").trend_tools.list_trends(limit=20, order="momentum")
    finally:
        store.close()
    titles = " ".join(t.title for t in listed.trends)
    assert "Walking Pad" not in titles and "Blender" not in titles and "LED" in titles
    assert "Walking Pad" in " ".join(t.title for t in plain.trends)  # without the profile it is there
