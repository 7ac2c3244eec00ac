"""Brand profiles: one TOML file per brand or niche, applied on top of the settings.

A profile says who the newsletter is for (name, tagline, sender, audience and voice notes for the writer),
what counts as on topic (niche keywords and exclusions: the relevance filter in ranking), what each source
searches (hashtags, queries, list URLs, subreddits, ...), how much each source counts, and who receives the
issue. Anything a profile leaves out keeps its value from the environment / `.env`.

Where profiles live: `<data dir>/profiles/<name>.toml`; `--profile PATH` reads any file. Two examples ship with
the package (`skincare`, `kitchen`); a name with no file of its own in the data dir falls back to them.

WHY the profile becomes a Settings copy: every module already reads its knobs from Settings, so a profile
reaches the sources, the ranking and the writers through the one shape they know, with no new parameters.
"""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from .config import ALL_SOURCES, Settings

PROFILES_DIR = "profiles"
EXAMPLES = ("skincare", "kitchen")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Term = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# one mailbox, no display name: what an SMTP RCPT TO needs (no header injection through a profile)
Address = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")]


class ProfileError(ValueError):
    """A profile that cannot be found or read: the message is one line for the user."""


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewsletterPart(_Part):
    name: Text | None = None
    tagline: Text | None = None
    sender: Text | None = None  # "Name <address>"
    audience: Text | None = None  # for the writer: who reads it
    voice: Text | None = None  # for the writer: how it should sound
    unsubscribe_url: Text | None = None
    postal_address: Text | None = None


class NichePart(_Part):
    keywords: list[Term] = Field(default_factory=list)  # a story naming one is on topic
    exclude: list[Term] = Field(default_factory=list)  # a story whose title holds every word of one is left out
    only: bool = True  # on topic only when a keyword is named (a product listing alone is not enough)


class SourcesPart(_Part):
    tiktok_hashtags: list[Term] | None = None
    tiktok_search_queries: list[Term] | None = None
    amazon_category_urls: list[Term] | None = None
    x_search_terms: list[Term] | None = None
    x_handles: list[Term] | None = None
    reddit_subreddits: list[Term] | None = None
    youtube_queries: list[Term] | None = None
    enabled: list[str] | None = None  # which sources run (default: as configured)
    weights: dict[str, float] = Field(default_factory=dict)  # e.g. {reddit = 0.5}

    @field_validator("enabled")
    @classmethod
    def _known_sources(cls, value: list[str] | None) -> list[str] | None:
        bad = [v for v in value or [] if v not in ALL_SOURCES]
        if bad:
            raise ValueError(f"unknown source(s) {', '.join(bad)}; known: {', '.join(ALL_SOURCES)}")
        return value

    @field_validator("weights")
    @classmethod
    def _weights(cls, value: dict[str, float]) -> dict[str, float]:
        bad = [k for k in value if k not in ALL_SOURCES]
        if bad:
            raise ValueError(f"weights for unknown source(s) {', '.join(bad)}; known: {', '.join(ALL_SOURCES)}")
        neg = [k for k, w in value.items() if not 0 <= w <= 10]
        if neg:
            raise ValueError(f"weights must be between 0 and 10 (bad: {', '.join(neg)})")
        return value


class SendPart(_Part):
    recipients: list[Address] = Field(default_factory=list)


class Profile(_Part):
    """One brand or niche, as written in its TOML file."""

    name: str = ""  # the file's stem unless set
    newsletter: NewsletterPart = Field(default_factory=NewsletterPart)
    niche: NichePart = Field(default_factory=NichePart)
    sources: SourcesPart = Field(default_factory=SourcesPart)
    send: SendPart = Field(default_factory=SendPart)

    def apply(self, settings: Settings) -> Settings:
        """A copy of `settings` with everything this profile sets (the rest unchanged)."""
        # each profile's issues in their own folder: OUT/<profile>/issues/…, OUT/<profile>/latest
        update: dict[str, Any] = {"profile": self.name, "out_dir": settings.out_dir / self.name}
        for field, value in self.newsletter.model_dump(exclude_none=True).items():
            update[f"newsletter_{field}"] = value
        if self.niche.keywords:
            update["niche_terms"] = list(self.niche.keywords)
            update["niche_only"] = self.niche.only
        if self.niche.exclude:
            update["exclude_terms"] = list(self.niche.exclude)
        src = self.sources.model_dump(exclude_none=True, exclude={"weights", "enabled"})
        update.update({k: list(v) for k, v in src.items()})
        if self.sources.weights:
            update["source_weights"] = {**settings.source_weights, **self.sources.weights}
        if self.sources.enabled is not None:
            update.update({f"enable_{s}": s in self.sources.enabled for s in ALL_SOURCES})
        if self.send.recipients:
            update["smtp_recipients"] = list(self.send.recipients)
        return settings.model_copy(update=update)


def profiles_dir(settings: Settings) -> Path:
    return settings.data_dir / PROFILES_DIR


def example_text(name: str) -> str:
    return resources.files("ai_content_agents").joinpath("data", "profiles", f"{name}.toml").read_text(encoding="utf-8")


def parse(text: str, name: str, origin: str) -> Profile:
    """A profile from TOML text; any problem is a ProfileError naming `origin` and the field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"profile {origin} is not valid TOML: {exc}") from None
    try:
        profile = Profile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'profile'}: {e['msg']}" for e in exc.errors()[:5])
        raise ProfileError(f"profile {origin} is invalid ({problems})") from None
    return profile if profile.name else profile.model_copy(update={"name": name})


def locate(value: str, settings: Settings) -> tuple[str, Path | None]:
    """(name, file) for `--profile VALUE`: a path to a .toml file, else a name in the data dir; None as the file
    means the bundled example of that name."""
    value = value.strip()
    looks_like_path = value.endswith(".toml") or "/" in value or "\\" in value
    if looks_like_path:
        path = Path(value).expanduser()
        if not path.is_file():
            raise ProfileError(f"no profile file at {path}")
        return path.stem, path
    if not NAME_RE.match(value):
        raise ProfileError(f"{value!r} is not a profile name (letters, digits, - and _) or a path to a .toml file")
    path = profiles_dir(settings) / f"{value}.toml"
    if path.is_file():
        return value, path
    if value in EXAMPLES:
        return value, None
    known = ", ".join(n for n, _ in available(settings)) or "none yet"
    raise ProfileError(
        f"no profile named {value!r} in {profiles_dir(settings)} (known: {known}); "
        f"create one with `ai-content-agents profile init {value}`"
    )


def load(value: str, settings: Settings) -> Profile:
    name, path = locate(value, settings)
    if path is None:
        return parse(example_text(name), name, f"{name} (bundled example)")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"cannot read profile {path}: {exc}") from None
    return parse(text, name, str(path))


def available(settings: Settings) -> list[tuple[str, Path | None]]:
    """Every profile a name can reach: the data dir's files, then the bundled examples not shadowed by one."""
    found: dict[str, Path | None] = {}
    folder = profiles_dir(settings)
    if folder.is_dir():
        for path in sorted(folder.glob("*.toml")):
            if NAME_RE.match(path.stem):
                found[path.stem] = path
    for name in EXAMPLES:
        found.setdefault(name, None)
    return sorted(found.items())


def starter(name: str, example: str | None = None) -> str:
    """The text `profile init NAME` writes: a bundled example, else the commented template."""
    if example is not None:
        if example not in EXAMPLES:
            raise ProfileError(f"no bundled example {example!r} (known: {', '.join(EXAMPLES)})")
        return example_text(example)
    return example_text("_template").replace("{{name}}", name)


def init(name: str, settings: Settings, example: str | None = None, force: bool = False) -> Path:
    """Write a starting profile to `<data dir>/profiles/<name>.toml`; refuses to overwrite unless `force`."""
    if not NAME_RE.match(name):
        raise ProfileError(f"{name!r} is not a profile name (letters, digits, - and _, at most 64)")
    path = profiles_dir(settings) / f"{name}.toml"
    if path.exists() and not force:
        raise ProfileError(f"{path} already exists; edit it, or pass --force to start over")
    text = starter(name, example)
    parse(text, name, "template")  # never write a file that would not load
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
