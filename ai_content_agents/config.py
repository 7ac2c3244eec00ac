"""One `Settings` object, read from the environment and `.env`.

Secrets are `SecretStr` so that a stray `print(settings)` or log line never shows them.
Vendor-standard names (APIFY_TOKEN, ANTHROPIC_API_KEY, ...) are read as-is; everything else
takes the `AICA_` prefix so it cannot collide with other tools' variables.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from decimal import Decimal
from pathlib import Path
import contextlib
import difflib
from collections.abc import Mapping
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .models import Masthead
from .redact import remember_settings

CsvList = Annotated[list[str], NoDecode]
JsonWeights = Annotated[dict[str, float], NoDecode]
JsonPrices = Annotated[dict[str, dict[str, float]], NoDecode]
_PRICE_KEYS = ("input", "output", "cache_read", "cache_write")
_URL_FIELDS = (
    "apify_api_url", "reddit_auth_url", "reddit_api_url", "reddit_public_url", "youtube_api_url",
    "tiktok_shop_api_base", "tiktok_shop_auth_base", "anthropic_base_url",
)  # fmt: skip


def _alias(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="AICA_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        env_ignore_empty=True,  # `KEY=` in .env means unset, not an empty secret
        allow_inf_nan=False,  # `inf` as a timeout or `nan` as a weight is a mistake, not a setting
    )

    # --- where state lives -------------------------------------------------------------
    # the brand profile to use when a command gets no --profile: a name (<data dir>/profiles/NAME.toml, else a
    # bundled example) or a path to a .toml file; empty: no profile
    profile: str = ""
    data_dir: Path = Path(".data")
    out_dir: Path = Path("out")

    # --- credentials (never logged) ----------------------------------------------------
    apify_token: SecretStr | None = Field(None, validation_alias=_alias("APIFY_TOKEN", "AICA_APIFY_TOKEN"))
    reddit_client_id: str | None = Field(None, validation_alias=_alias("REDDIT_CLIENT_ID", "AICA_REDDIT_CLIENT_ID"))
    reddit_client_secret: SecretStr | None = Field(
        None, validation_alias=_alias("REDDIT_CLIENT_SECRET", "AICA_REDDIT_CLIENT_SECRET")
    )
    reddit_user_agent: str = Field(
        "python:ai-content-agents:0.1.0 (by /u/ai-content-agents)",
        validation_alias=_alias("REDDIT_USER_AGENT", "AICA_REDDIT_USER_AGENT"),
    )
    youtube_api_key: SecretStr | None = Field(None, validation_alias=_alias("YOUTUBE_API_KEY", "AICA_YOUTUBE_API_KEY"))
    anthropic_api_key: SecretStr | None = Field(
        None, validation_alias=_alias("ANTHROPIC_API_KEY", "AICA_ANTHROPIC_API_KEY")
    )
    anthropic_base_url: str | None = Field(
        None, validation_alias=_alias("ANTHROPIC_BASE_URL", "AICA_ANTHROPIC_BASE_URL")
    )
    tiktok_shop_app_key: str | None = Field(
        None, validation_alias=_alias("TIKTOK_SHOP_APP_KEY", "AICA_TIKTOK_SHOP_APP_KEY")
    )
    tiktok_shop_app_secret: SecretStr | None = Field(
        None, validation_alias=_alias("TIKTOK_SHOP_APP_SECRET", "AICA_TIKTOK_SHOP_APP_SECRET")
    )
    tiktok_shop_service_id: str | None = Field(
        None, validation_alias=_alias("TIKTOK_SHOP_SERVICE_ID", "AICA_TIKTOK_SHOP_SERVICE_ID")
    )

    # --- which sources run (one switch per registered source, sources/__init__.py; a test checks they agree) --
    enable_tiktok: bool = True
    enable_amazon: bool = True
    enable_x: bool = True
    enable_reddit: bool = True
    enable_youtube: bool = True
    enable_tiktok_shop: bool = True

    # --- source inputs -----------------------------------------------------------------
    tiktok_hashtags: CsvList = ["tiktokmademebuyit", "tiktokshop", "amazonfinds", "founditonamazon", "kitchengadgets"]
    tiktok_search_queries: CsvList = []
    tiktok_results_per_page: int = Field(30, ge=1, le=1000)
    tiktok_commerce_weight: float = Field(1.5, ge=1.0)
    amazon_category_urls: CsvList = [
        "https://www.amazon.com/gp/movers-and-shakers/beauty/",
        "https://www.amazon.com/gp/movers-and-shakers/hpc/",
        "https://www.amazon.com/gp/movers-and-shakers/sporting-goods/",
        "https://www.amazon.com/gp/movers-and-shakers/home-garden/",
        "https://www.amazon.com/gp/movers-and-shakers/",
    ]
    amazon_max_items_per_url: int = Field(50, ge=1, le=100)
    x_search_terms: CsvList = [
        '"tiktok shop" min_faves:50',
        '"sold out" (restock OR restocked) min_faves:50',
        '"dtc brand" min_faves:20',
        '"amazon find" min_faves:50',
    ]
    x_handles: CsvList = []
    x_max_items: int = Field(200, ge=1, le=5000)
    reddit_subreddits: CsvList = [
        "shopify",
        "ecommerce",
        "dropship",
        "FulfillmentByAmazon",
        "smallbusiness",
        "EntrepreneurRideAlong",
        "BuyItForLife",
        "TikTokShop",
    ]
    reddit_time_filter: Literal["hour", "day", "week", "month", "year", "all"] = "day"
    reddit_limit: int = Field(50, ge=1, le=100)
    youtube_queries: CsvList = ["tiktok made me buy it", "amazon finds", "viral product review", "dtc brand"]
    youtube_published_within_days: int = Field(7, ge=1, le=90)
    youtube_max_results: int = Field(25, ge=1, le=50)
    youtube_search_cost_units: int = Field(100, ge=1)

    # --- Apify run limits (real money) -------------------------------------------------
    apify_run_timeout_s: int = Field(300, ge=10, le=86_400)
    apify_memory_mb: int = Field(1024, ge=128)
    apify_max_charge_usd: Decimal = Field(Decimal("0.50"), ge=0)
    apify_max_retries: int = Field(4, ge=0)
    # service base URLs: overridable so tests (and proxies) can point the source clients elsewhere
    apify_api_url: str = "https://api.apify.com"
    reddit_auth_url: str = "https://www.reddit.com/api/v1/access_token"
    reddit_api_url: str = "https://oauth.reddit.com"
    reddit_public_url: str = "https://www.reddit.com"
    youtube_api_url: str = "https://www.googleapis.com/youtube/v3"
    http_retries: int = Field(3, ge=0, le=20)  # extra tries on 429/5xx/timeouts (Reddit, YouTube); not refused/DNS/no route
    http_retry_max_wait_s: float = Field(30.0, ge=0, le=3600)  # cap on one Retry-After / x-ratelimit-reset wait

    # --- pipeline ----------------------------------------------------------------------
    source_timeout_s: float = Field(600.0, gt=0, le=86_400)
    run_deadline_s: float = Field(900.0, gt=0, le=86_400)
    stale_max_age_h: float = Field(72.0, ge=0, le=24 * 366)
    http_timeout_s: float = Field(30.0, gt=0, le=3600)
    write_deadline_s: float = Field(900.0, gt=0, le=86_400)  # the writing phase (plan, write, fact-check) as a whole

    # --- limits on what is read and kept (a scraper can send anything) ----------------------
    max_response_mb: float = Field(10.0, gt=0, le=1024)  # one HTTP response body (Reddit, YouTube, Apify)
    max_items_per_source: int = Field(5000, ge=1, le=1_000_000)
    max_title_chars: int = Field(300, ge=20, le=100_000)
    max_text_chars: int = Field(5000, ge=100, le=1_000_000)  # captions, post bodies, descriptions
    max_field_chars: int = Field(2048, ge=100, le=100_000)  # every other scraped text: urls, names, ids

    # --- the newsletter ----------------------------------------------------------------
    newsletter_name: str = "DTC Trend Report"
    newsletter_tagline: str = "What is selling, spreading and worth testing this week"
    newsletter_sender: str = ""  # "Name <address>" for the From: line of whoever sends it
    newsletter_unsubscribe_url: str = ""  # your email service's unsubscribe merge tag or URL
    newsletter_postal_address: str = ""  # the sender's postal address (required in marketing email in many places)
    newsletter_audience: str = ""  # who reads it, in a sentence: guides the writer (a profile usually sets it)
    newsletter_voice: str = ""  # how it should sound, in a sentence: guides the writer

    # --- sending (newsletter --send / --send-test) --------------------------------------
    smtp_host: str = ""
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"  # ssl: implicit TLS (port 465)
    smtp_user: str = ""
    smtp_password: SecretStr | None = None
    smtp_from: str = ""  # "Name <address>"; default: newsletter_sender
    smtp_recipients: CsvList = []  # a profile's [send] recipients replace these
    smtp_timeout_s: float = Field(30.0, gt=0)
    smtp_ca_file: Path | None = None  # a CA bundle to trust for the server (a company relay's own CA); default: the system's

    # --- watch (alerts for cron) ---------------------------------------------------------
    watch_breakout_min_score: float = Field(0.5, ge=0, le=1)  # a breakout alerts from this score up
    watch_climb_min_ranks: int = Field(5, ge=1)  # a climber: up this many places since the previous run...
    watch_climb_min_score_gain: float = Field(0.2, gt=0)  # ...or its score up by this much
    watch_cooldown_h: float = Field(72.0, ge=0)  # no story alerts twice within this many hours
    watch_history_runs: int = Field(5, ge=1, le=20)  # earlier stored runs a breakout must be new against
    watch_webhook_url: SecretStr | None = None  # a Slack-compatible incoming webhook; the URL is a secret

    # --- ranking -----------------------------------------------------------------------
    top_n: int = Field(20, ge=1, le=1000)
    source_weights: JsonWeights = {}  # overrides per source, e.g. {"reddit": 0.5}; default 1.0 each
    # One decay for every source: half-life = half the issue cadence (weekly → 84 h) unless set.
    issue_cadence_days: float = Field(7.0, gt=0, le=366)
    decay_half_life_h: float | None = Field(None, gt=0, le=24 * 366)
    niche_terms: CsvList = []  # words that make an item relevant without a product or commerce signal
    exclude_off_topic: bool = True  # keep items with no product, commerce signal or niche term out of the top N
    niche_only: bool = False  # with niche terms: a story must name one of them (a product alone is not enough)
    exclude_terms: CsvList = []  # stories whose title or type holds every word of one of these stay out of the top N
    featured_lookback_days: int = Field(28, ge=0)

    # --- Claude ------------------------------------------------------------------------
    writer_model: str = Field("claude-sonnet-5-5", min_length=1)
    fast_model: str = Field("claude-haiku-5-5", min_length=1)
    max_tokens: int = Field(4096, ge=256)
    agent_max_iterations: int = Field(8, ge=1)
    supports_tool_choice: bool = True
    supports_cache_control: bool = True
    supports_structured_output: bool = True  # output_config json_schema; off → JSON asked for in text, parsed leniently
    supports_batches: bool = True  # Message Batches API (/v1/messages/batches); off → concurrent ordinary calls
    # many brands (`newsletter --profiles a,b --batch`): ordinary calls at once (no batches, or retries of failed entries)
    batch_concurrency: int = Field(4, ge=1, le=64)
    batch_poll_initial_s: float = Field(10.0, gt=0)  # first wait between polls of a batch; doubles each poll
    batch_poll_max_s: float = Field(300.0, gt=0)  # longest wait between polls
    batch_max_wait_s: float = Field(3600.0, gt=0)  # past this the command stops; the same command picks the batch up
    batch_resume_max_age_h: float = Field(72.0, ge=0)  # an unfinished job older than this is not resumed
    # USD per million tokens by model-family prefix, overriding agents/usage.py DEFAULT_PRICES
    # (JSON env, e.g. AICA_MODEL_PRICES='{"claude-sonnet": {"input": 3, "output": 15}}'); check the current pricing page
    model_prices: JsonPrices = {}
    # `ask` / `trends` answer from the latest stored run younger than this; older → gather again
    run_max_age_h: float = Field(24.0, ge=0, le=24 * 366)
    anthropic_timeout_s: float = Field(120.0, gt=0, le=3600)  # read timeout of one model call
    anthropic_connect_timeout_s: float = Field(5.0, gt=0, le=600)
    anthropic_max_retries: int = Field(2, ge=0, le=20)  # ours; the SDK's own retries are off so they never stack
    anthropic_max_retry_after_s: float = Field(30.0, ge=0, le=3600)  # longest Retry-After waited; past it, a clear message

    # --- TikTok Shop -------------------------------------------------------------------
    tiktok_shop_region: str = "ROW"  # "US" or "ROW": picks the authorization host (checked by _region)
    tiktok_shop_api_base: str = "https://open-api.tiktokglobalshop.com"
    tiktok_shop_auth_base: str = "https://auth.tiktok-shops.com"
    tiktok_shop_default_shop: str | None = None
    tiktok_shop_time_zone: str | None = None  # IANA zone of the shop's analytics days; default: by the shop's region
    tiktok_shop_refresh_margin_s: int = Field(86_400, ge=0)
    tiktok_shop_rate: float = Field(5.0, gt=0)
    tiktok_shop_burst: int = Field(5, ge=1)
    tiktok_shop_analytics_rate: float = Field(0.5, gt=0)
    tiktok_shop_analytics_burst: int = Field(1, ge=1)
    tiktok_shop_max_retries: int = Field(5, ge=0)
    tiktok_shop_max_retry_time_s: float = Field(120.0, gt=0)
    shop_sku_allowlist: CsvList = []
    shop_max_price_change_pct: float = Field(10.0, ge=0)
    shop_max_stock_delta: int = Field(50, ge=0)

    @field_validator("reddit_time_filter", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator(
        "tiktok_hashtags",
        "tiktok_search_queries",
        "amazon_category_urls",
        "x_search_terms",
        "x_handles",
        "reddit_subreddits",
        "youtube_queries",
        "shop_sku_allowlist",
        "niche_terms",
        "exclude_terms",
        "smtp_recipients",
        mode="before",
    )
    @classmethod
    def _split_csv(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("source_weights", "model_prices", mode="before")
    @classmethod
    def _json(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValueError(f"not valid JSON ({exc.msg} at character {exc.pos}); allowed: a JSON object") from None
        return value

    @field_validator("source_weights")
    @classmethod
    def _weights(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = [k for k in value if k not in ALL_SOURCES]
        if unknown:
            raise ValueError(f"unknown source {unknown[0]!r}; allowed keys: {', '.join(ALL_SOURCES)}")
        bad = {k: v for k, v in value.items() if not math.isfinite(v) or v < 0}
        if bad:
            raise ValueError(f"weight {next(iter(bad.values()))!r} for {next(iter(bad))!r}; allowed: a number >= 0")
        return value

    @field_validator("model_prices")
    @classmethod
    def _prices(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for prefix, spec in value.items():
            wrong = [k for k in spec if k not in _PRICE_KEYS]
            if wrong or "input" not in spec or "output" not in spec:
                raise ValueError(
                    f"prices for {prefix!r} need 'input' and 'output' (optional 'cache_read', 'cache_write'), "
                    "USD per million tokens"
                )
            if any(not math.isfinite(v) or v < 0 for v in spec.values()):
                raise ValueError(f"prices for {prefix!r} must be numbers >= 0")
        return value

    @field_validator("writer_model", "fast_model")
    @classmethod
    def _model_name(cls, value: str) -> str:
        if not value.strip() or any(c.isspace() for c in value.strip()):
            raise ValueError("allowed: a model id without spaces, e.g. claude-sonnet-5-5")
        return value.strip()

    @field_validator("tiktok_shop_region")
    @classmethod
    def _region(cls, value: str) -> str:
        if value.upper() not in ("US", "ROW"):
            raise ValueError("allowed: US or ROW")
        return value.upper()

    @field_validator("tiktok_shop_time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("not a known time zone; allowed: an IANA name such as America/Los_Angeles") from None
        return value

    @field_validator(*_URL_FIELDS)
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            parts = urlsplit(value)
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("allowed: an http:// or https:// URL with a host")
        return value

    def model_post_init(self, context: Any) -> None:
        remember_settings(self)  # every configured secret is masked in every message from now on

    # --- derived -----------------------------------------------------------------------
    @property
    def db_path(self) -> Path:
        return self.data_dir / "ai_content_agents.sqlite3"

    def masthead(self) -> Masthead:
        return Masthead(
            name=self.newsletter_name,
            tagline=self.newsletter_tagline,
            sender=self.newsletter_sender,
            unsubscribe_url=self.newsletter_unsubscribe_url,
            postal_address=self.newsletter_postal_address,
            audience=self.newsletter_audience,
            voice=self.newsletter_voice,
        )

    def enabled_sources(self) -> list[str]:
        """The switched-on sources among those with a switch (`sources.enabled(settings)` also counts sources
        registered without one)."""
        return [n for n in ALL_SOURCES if self.source_enabled(n)]

    def source_enabled(self, name: str) -> bool:
        """`AICA_ENABLE_<NAME>`; a registered source without a switch of its own is on."""
        return bool(getattr(self, f"enable_{name}", True))


# The sources with an AICA_ENABLE_<NAME> switch, read off the switches themselves (settings are row 1 and cannot
# import the registry in sources/__init__.py; tests/sources/test_registry.py checks the two agree)
ALL_SOURCES: tuple[str, ...] = tuple(n.removeprefix("enable_") for n in Settings.model_fields if n.startswith("enable_"))


def known_variables() -> set[str]:
    """Every environment variable a setting reads: AICA_<FIELD>, plus vendor names (APIFY_TOKEN...)."""
    out: set[str] = set()
    for name, field in Settings.model_fields.items():
        out.add(f"AICA_{name.upper()}")
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            out |= {str(c).upper() for c in alias.choices if isinstance(c, str)}
    return out


def unknown_variables(environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")) -> list[str]:
    """AICA_* variables (in the environment or .env) that no setting reads, each with a suggestion when one is
    close: a typo such as AICA_ENABLE_REDIT=false would otherwise be ignored without a word."""
    names = {k.upper() for k in (os.environ if environ is None else environ)}
    if env_file is not None and env_file.is_file():
        from dotenv import dotenv_values

        names |= {k.upper() for k in dotenv_values(env_file)}
    known = known_variables()
    out = []
    for name in sorted(n for n in names if n.startswith("AICA_") and not n.startswith("AICA_TEST_")):
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            out.append(f"unknown setting {name} is ignored" + (f" (did you mean {close[0]}?)" if close else ""))
    return out


def env_name(field: str) -> str:
    """The environment variable a Settings field is read from (its first alias, else AICA_<NAME>)."""
    info = Settings.model_fields.get(field)
    alias = info.validation_alias if info is not None else None
    if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
        return alias.choices[0]
    return f"AICA_{field.upper()}"


def _shown(value: object, field: str) -> str:
    info = Settings.model_fields.get(field)
    if info is not None and "SecretStr" in str(info.annotation):
        return "(hidden)"
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = " ".join(str(text).split())
    return repr(text if len(text) <= 60 else text[:59] + "…")


def describe(exc: ValidationError) -> str:
    """Every problem in one line: the variable, the bad value, what is allowed."""
    problems = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc") or ()]
        field = loc[0] if loc else ""
        name = env_name(field) if field else "settings"
        name += "".join(f"[{part!r}]" for part in loc[1:])  # e.g. AICA_SOURCE_WEIGHTS['reddit']
        msg = str(err.get("msg", "")).removeprefix("Value error, ")
        problems.append(f"{name}={_shown(err.get('input'), field)}: {msg}" if field else msg)
    return "; ".join(problems)


def writable_dir(path: Path | str, name: str) -> str | None:
    """Why `path` cannot be used as a directory this program writes to (None: it can).

    Nothing is created: an existing directory gets a probe file written and removed; a missing one needs
    its nearest existing parent to be such a directory."""
    text = str(path)
    if not text.strip():
        return f"{name} is empty; allowed: a directory path"
    target = Path(text).expanduser()
    probe = target
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        what = "is" if probe == target else f"is under {str(probe)!r}, which is"
        return f"{name}={text!r} {what} not a directory; allowed: a writable directory (created if missing)"
    try:
        with tempfile.TemporaryFile(dir=probe, prefix=".aica-probe-"):
            pass
    except OSError as exc:
        verb = "is" if probe == target else f"cannot be created in {str(probe)!r}, which is"
        return (
            f"{name}={text!r} {verb} not writable ({os.strerror(exc.errno) if exc.errno else type(exc).__name__}); "
            "allowed: a writable directory"
        )
    return None


def remember_env_secrets(env_file: str | Path | None = ".env") -> None:
    """Mask the secrets in the environment (and `.env`) even before `Settings` validates: a bad setting's
    error line must not show a key that was pasted into the wrong variable."""
    from dotenv import dotenv_values

    from .redact import remember

    values: dict[str, str | None] = {}
    if env_file is not None:
        with contextlib.suppress(OSError, ValueError, UnicodeDecodeError):  # an unreadable .env adds nothing
            values.update(dotenv_values(env_file))
    values.update(os.environ)
    names = [
        n for f, info in Settings.model_fields.items() if "SecretStr" in str(info.annotation)
        for n in (env_name(f), f"AICA_{f.upper()}")
    ]
    for name in names:
        ident = values.get("REDDIT_CLIENT_ID") or values.get("AICA_REDDIT_CLIENT_ID") if "REDDIT" in name else None
        remember(values.get(name), ident=ident)


def secret(value: SecretStr | None) -> str | None:
    """The plain value of an optional secret, for the one place that sends it."""
    return value.get_secret_value() if value is not None else None
