"""`shop proposals`, `shop approve ID`, `shop reject ID --reason`: the human side of shop writes.

The model can only record proposals; these commands are the one path that changes the shop, and
the limits are re-checked in code (agents/proposals.py) at approval time.
"""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from .common import console, fail, load_settings, open_store

STATUS_STYLE = {"pending": "yellow", "applied": "green", "failed": "red", "rejected": "dim", "approved": "cyan",
                "unknown": "magenta"}


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "operator"


def proposals(
    status: Annotated[str | None, typer.Option("--status", help="pending, applied, failed, rejected, unknown")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 50,
) -> None:
    """List price and stock change proposals recorded by TikTokShopAgent."""
    from ..agents.proposals import ProposalStore
    from rich.table import Table

    if status and status not in STATUS_STYLE:
        raise fail(f"unknown status {status!r}; choose from {', '.join(STATUS_STYLE)}")
    settings = load_settings()
    with open_store(settings) as store:
        rows = ProposalStore(store).list(status, limit)  # type: ignore[arg-type]
    if not rows:
        console.print("No proposals." if not status else f"No {status} proposals.")
        return
    table = Table("id", "created", "kind", "product / sku", "old → new", "status", "reason / result")
    for p in rows:
        change = f"{p.old if p.old is not None else '?'} → {p.new}{' ' + p.currency if p.currency else ''}"
        style = STATUS_STYLE.get(p.status, "")
        table.add_row(str(p.id), p.created_at.strftime("%Y-%m-%d %H:%M"), p.kind, f"{p.product_id} / {p.sku_id}",
                      change, f"[{style}]{p.status}[/]", p.result or p.reason)
    console.print(table)


def approve(
    proposal_id: Annotated[int, typer.Argument(help="The proposal id from `shop proposals`.")],
    by: Annotated[str | None, typer.Option("--by", help="Who approves (default: your login name).")] = None,
) -> None:
    """Apply one pending proposal, after re-checking the SKU allow-list and the change limits."""
    from ..agents.proposals import ProposalError
    from ..agents.proposals import ProposalStore

    from ..integrations.tiktok_shop.errors import TikTokShopError

    settings = load_settings()
    with open_store(settings) as store:
        ps = ProposalStore(store)
        p = ps.get(proposal_id)
        if p is None or p.status != "pending":
            raise fail(f"no pending proposal with id {proposal_id}" + (f" (it is {p.status})" if p else ""))
        try:
            from ..integrations.tiktok_shop.client import TikTokShopClient

            shop = TikTokShopClient.from_settings(settings, store)
        except TikTokShopError as exc:
            raise fail(f"cannot reach the shop, proposal left pending: {exc}") from None
        try:
            done = ps.approve(proposal_id, shop=shop, settings=settings, by=by or _user())
        except ProposalError as exc:
            raise fail(str(exc)) from None
    if done.status == "applied":
        console.print(f"[green]applied[/] proposal {done.id}: {done.result}")
    else:
        raise fail(f"proposal {done.id} {done.status}: {done.result}", code=1)


def reject(
    proposal_id: Annotated[int, typer.Argument(help="The proposal id from `shop proposals`.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the audit log).")],
    by: Annotated[str | None, typer.Option("--by")] = None,
) -> None:
    """Drop one pending proposal without touching the shop."""
    from ..agents.proposals import ProposalError
    from ..agents.proposals import ProposalStore

    settings = load_settings()
    with open_store(settings) as store:
        try:
            done = ProposalStore(store).reject(proposal_id, reason=reason, by=by or _user())
        except ProposalError as exc:
            raise fail(str(exc)) from None
    console.print(f"rejected proposal {done.id}")


def register(shop_app: typer.Typer) -> None:
    shop_app.command("proposals")(proposals)
    shop_app.command("approve")(approve)
    shop_app.command("reject")(reject)
