"""`ai-content-agents shop ...`: authorise a TikTok Shop, look at its data, and sync it locally.

WHY a thin layer: every command builds the client from settings, calls one library function and
prints a table (or `--json`). Errors become one red line with the action to take, never a traceback;
nothing printed contains a token or the app secret, and order output carries no buyer PII.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import parse_qs, urlsplit

import typer
from rich.console import Console

from .common import load_settings

if TYPE_CHECKING:  # the shop client is imported when a shop command runs, never by `--help`
    from ..config import Settings
    from ..integrations.tiktok_shop.client import TikTokShopClient

app = typer.Typer(help="TikTok Shop: authorise the shop, inspect products/orders/analytics, sync to the local store.",
                  no_args_is_help=True)
out = Console()
err = Console(stderr=True)

ShopOpt = typer.Option(None, "--shop", help="shop id, name or cipher (default: the only one, or AICA_TIKTOK_SHOP_DEFAULT_SHOP)")
JsonOpt = typer.Option(False, "--json", help="print JSON instead of a table")


def _settings() -> Settings:
    return load_settings()  # invalid settings: one line, not a traceback


def _state_path(settings: Settings) -> Any:
    return settings.data_dir / "tiktok_shop_oauth_state.json"


@contextmanager
def _friendly() -> Iterator[None]:
    from ..integrations.tiktok_shop import errors

    try:
        yield
    except errors.TikTokShopError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2 if isinstance(exc, (errors.ConfigError, errors.ShopNotAuthorized)) else 1) from None


def _client(settings: Settings, *, require_token: bool = True) -> TikTokShopClient:
    from ..integrations.tiktok_shop.client import TikTokShopClient

    from ..store import Store

    return TikTokShopClient.from_settings(settings, Store(settings.db_path), require_token=require_token)


def _emit(rows: list[dict[str, Any]], columns: list[str], title: str, as_json: bool) -> None:
    from rich.table import Table

    if as_json:
        typer.echo(json.dumps(rows, indent=2, default=str))
        return
    table = Table(title=title)
    for c in columns:
        table.add_column(c)
    for r in rows:
        table.add_row(*("" if r.get(c) is None else str(r.get(c)) for c in columns))
    out.print(table)


# --- authorisation -----------------------------------------------------------------------------
@app.command("auth-url")
def auth_url_cmd() -> None:
    """Print the seller consent URL (with a fresh CSRF state, remembered for `exchange`)."""
    from ..integrations.tiktok_shop import errors
    from ..integrations.tiktok_shop.auth import new_state
    from ..integrations.tiktok_shop.auth import save_state
    from ..integrations.tiktok_shop.client import shop_auth_url

    settings = _settings()
    with _friendly():
        if not settings.tiktok_shop_service_id:
            raise errors.ShopNotConfigured("TIKTOK_SHOP_SERVICE_ID is not set (Partner Center → your app → service id)")
        state = new_state()
        url = shop_auth_url(settings, state)
        save_state(_state_path(settings), state)
    typer.echo(url)
    err.print("Open this URL logged in as the seller. After consent you land on your app's redirect URL;"
              " copy the whole URL (or its `code`) and run: ai-content-agents shop exchange '<url or code>'",
              highlight=False)


def _code_and_state(value: str) -> tuple[str, str | None]:
    if "://" in value or value.startswith("?") or "code=" in value:
        q = parse_qs(urlsplit(value).query if "://" in value else value.lstrip("?"))
        code = (q.get("code") or [""])[0]
        states = q.get("state")
        state = states[0] if states else None
        return code, state
    return value, None


@app.command("exchange")
def exchange_cmd(
    code: str = typer.Argument(..., help="the whole redirect URL (code= and state=), or the auth code with --state"),
    state: str | None = typer.Option(None, "--state", help="the state from the redirect, if you pass a bare code"),
    no_state_check: bool = typer.Option(
        False, "--no-state-check", help="exchange a bare code WITHOUT the CSRF state check (prints a warning)"
    ),
) -> None:
    """Exchange the one-time auth code for tokens, store them (0600) and list the authorised shops.

    The redirect's `state` must match the one `shop auth-url` saved; it is then used up, so the same
    redirect cannot be exchanged twice.
    """
    from ..integrations.tiktok_shop import errors
    from ..integrations.tiktok_shop.auth import consume_state

    settings = _settings()
    with _friendly():
        auth_code, url_state = _code_and_state(code.strip())
        if not auth_code:
            raise errors.InvalidAuthCode("no `code` found in what you passed")
        got = state or url_state
        if got is None:
            if not no_state_check:
                raise errors.AuthError(
                    "no `state` to check: pass the whole redirect URL (it carries code= and state=) or --state",
                    action="paste the full redirect URL; or, knowingly, add --no-state-check",
                )
            err.print("[yellow]warning:[/yellow] exchanging the code WITHOUT checking the CSRF `state`: only do this"
                      " for a code you obtained yourself from `shop auth-url` just now.", highlight=False)
        elif not consume_state(_state_path(settings), got):
            raise errors.AuthError("the `state` does not match the one from `shop auth-url` (possible CSRF),"
                                   " or it was already used",
                                   action="run `shop auth-url` again and use the new URL")
        client = _client(settings, require_token=False)
        tokens = client.tokens.auth.exchange_code(auth_code)
        client.tokens.save(tokens)
        shops = client.authorized_shops()
    typer.echo(f"Authorised seller {tokens.seller_name or '?'}; access token valid until "
               f"{tokens.access_expires_at:%Y-%m-%d %H:%M} UTC, refresh token until {tokens.refresh_expires_at:%Y-%m-%d}.")
    _emit([{"id": s.id, "name": s.name, "region": s.region} for s in shops], ["id", "name", "region"], "Shops", False)


@app.command("refresh")
def refresh_cmd() -> None:
    """Refresh the access token now (the client also does this automatically before expiry)."""
    settings = _settings()
    with _friendly():
        client = _client(settings)
        tokens = client.tokens.refresh()
    typer.echo(f"Refreshed; access token valid until {tokens.access_expires_at:%Y-%m-%d %H:%M} UTC.")


# --- reads -------------------------------------------------------------------------------------
@app.command("shops")
def shops_cmd(as_json: bool = JsonOpt) -> None:
    """List the shops this authorisation covers."""
    with _friendly():
        shops = _client(_settings()).authorized_shops()
    _emit([{"id": s.id, "name": s.name, "region": s.region, "seller_type": s.seller_type} for s in shops],
          ["id", "name", "region", "seller_type"], "Authorised shops", as_json)


@app.command("products")
def products_cmd(
    shop: str | None = ShopOpt, status: str | None = typer.Option(None, help="e.g. ACTIVATE"),
    limit: int = typer.Option(50, min=1), as_json: bool = JsonOpt,
) -> None:
    """Search products (first LIMIT)."""
    with _friendly():
        rows = []
        for p in islice(_client(_settings()).search_products(status=status, shop=shop), limit):
            sku = p.skus[0] if p.skus else None
            price = sku.price if sku else None
            rows.append({"id": p.id, "title": p.title, "status": p.status, "skus": len(p.skus),
                         "price": None if price is None or price.sale_price is None else f"{price.sale_price} {price.currency or ''}".strip(),
                         "update_time": p.update_time})
    _emit(rows, ["id", "title", "status", "skus", "price", "update_time"], "Products", as_json)


@app.command("orders")
def orders_cmd(
    shop: str | None = ShopOpt, status: str | None = typer.Option(None, help="e.g. AWAITING_SHIPMENT"),
    days: int = typer.Option(7, min=1, help="orders updated in the last N days"),
    limit: int = typer.Option(50, min=1), as_json: bool = JsonOpt,
) -> None:
    """Recent orders (no buyer data is printed)."""
    since = int((datetime.now(UTC) - timedelta(days=days)).timestamp())
    with _friendly():
        rows = []
        for o in islice(_client(_settings()).search_orders(order_status=status, update_time_ge=since,
                                                            sort_order="DESC", shop=shop), limit):
            pay = o.payment
            rows.append({"id": o.id, "status": o.status, "items": len(o.line_items),
                         "total": None if pay is None or pay.total_amount is None else f"{pay.total_amount} {pay.currency or ''}".strip(),
                         "update_time": o.update_time})
    _emit(rows, ["id", "status", "items", "total", "update_time"], "Orders", as_json)


@app.command("inventory")
def inventory_cmd(
    product: Annotated[list[str] | None, typer.Option("--product", help="product id (repeatable)")] = None,
    sku: Annotated[list[str] | None, typer.Option("--sku", help="sku id (repeatable)")] = None,
    shop: str | None = ShopOpt, as_json: bool = JsonOpt,
) -> None:
    """Stock per SKU for the given products or SKUs."""
    with _friendly():
        items = _client(_settings()).search_inventory(product_ids=product or None, sku_ids=sku or None, shop=shop)
    rows = [{"product_id": i.product_id, "sku_id": s.id, "seller_sku": s.seller_sku,
             "available": s.total_available_quantity, "committed": s.total_committed_quantity}
            for i in items for s in i.skus]
    _emit(rows, ["product_id", "sku_id", "seller_sku", "available", "committed"], "Inventory", as_json)


@app.command("analytics")
def analytics_cmd(
    what: str = typer.Option("products", "--what", help="shop | products | videos"),
    days: int = typer.Option(7, min=1, max=90), limit: int = typer.Option(20, min=1, max=100),
    shop: str | None = ShopOpt, as_json: bool = JsonOpt,
) -> None:
    """Shop, top-product or top-video performance over the last DAYS days that have data (shop time zone)."""
    if what not in ("shop", "products", "videos"):
        err.print(f"[red]error:[/red] unknown --what {what!r}; use shop, products or videos", highlight=False)
        raise typer.Exit(2)
    with _friendly():
        client = _client(_settings())
        window = client.analytics_window(days, shop=shop)
        start, end = window.start, window.end
        rows: list[dict[str, Any]]
        if what == "shop":
            perf = client.shop_performance(start, end, shop=shop)
            rows = [{"start": i.start_date, "end": i.end_date, "gmv": i.gmv.amount if i.gmv else None,
                     "orders": i.orders, "units_sold": i.units_sold, "buyers": i.buyers}
                    for i in perf.performance.intervals]
            cols = ["start", "end", "gmv", "orders", "units_sold", "buyers"]
        elif what == "products":
            rows = [{"id": r.id, "gmv": r.gmv.amount if r.gmv else None, "units_sold": r.units_sold,
                     "orders": r.orders, "ctr": r.click_through_rate}
                    for r in client.product_performance_list(start, end, page_size=limit, max_results=limit, shop=shop)]
            cols = ["id", "gmv", "units_sold", "orders", "ctr"]
        else:
            rows = [{"id": v.id, "title": (v.title or "")[:60], "views": v.views,
                     "gmv": v.gmv.amount if v.gmv else None, "units_sold": v.units_sold}
                    for v in client.video_performance_list(start, end, page_size=limit, max_results=limit, shop=shop)]
            cols = ["id", "title", "views", "gmv", "units_sold"]
    if window.note:
        err.print(f"[yellow]note:[/yellow] {window.note}", highlight=False, soft_wrap=True)
    _emit(rows, cols, f"Analytics: {what}, {start} to {window.last_day} ({window.time_zone})", as_json)


@app.command("sync")
def sync_cmd(
    what: str = typer.Option("all", "--what", help="products | orders | all"),
    full: bool = typer.Option(False, "--full", help="ignore the watermark and resync everything"),
    shop: str | None = ShopOpt, as_json: bool = JsonOpt,
) -> None:
    """Incremental sync into the local SQLite store; safe to interrupt and re-run (it resumes)."""
    from ..integrations.tiktok_shop.sync import sync_orders, sync_products

    runs: list[tuple[str, Callable[..., Any]]] = []
    if what in ("products", "all"):
        runs.append(("products", sync_products))
    if what in ("orders", "all"):
        runs.append(("orders", sync_orders))
    if not runs:
        err.print(f"[red]error:[/red] unknown --what {what!r}; use products, orders or all")
        raise typer.Exit(2)
    reports = []
    with _friendly():
        client = _client(_settings())
        for _, fn in runs:
            reports.append(fn(client, client.store, shop=shop, full=full).model_dump())
    _emit(reports, ["kind", "resumed", "pages", "fetched", "inserted", "updated", "unchanged", "skipped",
                    "requests", "duration_s"], "Sync", as_json)
