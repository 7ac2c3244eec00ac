"""Shop change proposals: propose (by the agent) → approve or reject (by a person) → apply (by code).

WHY: the model never changes the shop. Its write tools only insert a `pending` row here; a person
runs `shop approve ID`, and this module re-reads the current value, re-checks the hard limits from
settings (SKU allow-list, max price change %, max stock delta) IN CODE, applies through the client
and records the outcome. Every TikTokShopAgent tool call lands in an audit log.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import logging
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, Protocol

from pydantic import BaseModel

from ..config import Settings
from ..store import Store
from .tools import redact, safe_error

log = logging.getLogger(__name__)

Kind = Literal["price", "inventory"]
Status = Literal["pending", "approved", "rejected", "applied", "failed", "unknown"]  # unknown: may have landed



class ProposalError(Exception):
    """A proposal cannot be decided (unknown id, not pending). The message is safe to show."""


class Proposal(BaseModel):
    id: int
    created_at: datetime
    run_id: str
    kind: Kind
    product_id: str
    sku_id: str
    old: Decimal | None = None
    new: Decimal
    currency: str | None = None
    reason: str = ""
    status: Status = "pending"
    decided_by: str | None = None
    decided_at: datetime | None = None
    result: str | None = None


class AuditEntry(BaseModel):
    id: int
    at: datetime
    run_id: str
    actor: str
    tool: str
    input: dict[str, Any]
    result_sha256: str
    is_error: bool
    approver: str | None = None


class ShopWriter(Protocol):
    """What applying a proposal needs from the TikTok Shop client."""

    def get_product(self, product_id: str) -> Any: ...

    def update_price(self, product_id: str, sku_id: str, amount: Decimal, currency: str) -> Any: ...

    def update_inventory(self, product_id: str, sku_id: str, quantity: int, warehouse_id: str | None = None) -> Any: ...


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _dec(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def check_limits(kind: Kind, sku_id: str, old: Decimal | None, new: Decimal, settings: Settings) -> list[str]:
    """Every reason this change is not allowed (empty = allowed). Pure, so it is tested with literals."""
    problems: list[str] = []
    allow = set(settings.shop_sku_allowlist)
    if not allow:
        problems.append("no SKU is allowed to change: AICA_SHOP_SKU_ALLOWLIST is empty")
    elif sku_id not in allow:
        problems.append(f"SKU {sku_id} is not in AICA_SHOP_SKU_ALLOWLIST")
    if kind == "price":
        if new <= 0:
            problems.append("the new price must be above zero")
        if old is None or old <= 0:
            problems.append("the current price is unknown, so the change cannot be bounded")
        else:
            pct = abs(new - old) / old * 100
            if pct > Decimal(str(settings.shop_max_price_change_pct)):
                problems.append(
                    f"price change {pct.quantize(Decimal('0.1'))}% exceeds the limit of "
                    f"{settings.shop_max_price_change_pct:g}% (AICA_SHOP_MAX_PRICE_CHANGE_PCT)"
                )
    else:
        if new != new.to_integral_value() or new < 0:
            problems.append("the new stock level must be a whole number of at least 0")
        if old is None:
            problems.append("the current stock level is unknown, so the change cannot be bounded")
        elif abs(new - old) > settings.shop_max_stock_delta:
            problems.append(
                f"stock change of {abs(new - old)} units exceeds the limit of {settings.shop_max_stock_delta}"
                " (AICA_SHOP_MAX_STOCK_DELTA)"
            )
    return problems


def current_value(shop: ShopWriter, kind: Kind, product_id: str, sku_id: str) -> tuple[Decimal | None, str | None]:
    """Re-read the SKU's current price (and currency) or total stock from the shop."""
    product = shop.get_product(product_id)
    sku = next((s for s in getattr(product, "skus", []) if str(s.id) == str(sku_id)), None)
    if sku is None:
        raise LookupError("sku not found")
    if kind == "price":
        price = sku.price
        if price is None:
            return None, None
        return _dec(price.sale_price or price.amount or price.tax_exclusive_price), price.currency
    stock = [w.quantity for w in sku.inventory if w.quantity is not None]
    return (Decimal(sum(stock)) if stock else None), None


class ProposalStore:
    """The proposals and audit tables, on the project's SQLite file."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # --- proposals ------------------------------------------------------------------------
    def propose(
        self,
        *,
        run_id: str,
        kind: Kind,
        product_id: str,
        sku_id: str,
        new: Decimal,
        old: Decimal | None = None,
        currency: str | None = None,
        reason: str = "",
    ) -> Proposal:
        with self.store.transaction() as db:
            cur = db.execute(
                "INSERT INTO shop_proposals (created_at, run_id, kind, product_id, sku_id, old_value, new_value,"
                " currency, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (_now(), run_id, kind, str(product_id), str(sku_id), None if old is None else str(old), str(new),
                 currency, reason[:500]),
            )
            new_id = int(cur.lastrowid or 0)
        proposal = self.get(new_id)
        assert proposal is not None
        return proposal

    def get(self, proposal_id: int) -> Proposal | None:
        rows = self.store.query("SELECT * FROM shop_proposals WHERE id = ?", (int(proposal_id),))
        return self._row(rows[0]) if rows else None

    def list(self, status: Status | None = None, limit: int = 50) -> list[Proposal]:
        if status:
            rows = self.store.query(
                "SELECT * FROM shop_proposals WHERE status = ? ORDER BY id DESC LIMIT ?", (status, limit)
            )
        else:
            rows = self.store.query("SELECT * FROM shop_proposals ORDER BY id DESC LIMIT ?", (limit,))
        return [self._row(r) for r in rows]

    @staticmethod
    def _row(r: Any) -> Proposal:
        return Proposal(
            id=r["id"], created_at=r["created_at"], run_id=r["run_id"], kind=r["kind"], product_id=r["product_id"],
            sku_id=r["sku_id"], old=_dec(r["old_value"]), new=Decimal(r["new_value"]), currency=r["currency"],
            reason=r["reason"], status=r["status"], decided_by=r["decided_by"], decided_at=r["decided_at"],
            result=r["result"],
        )

    def _set(self, proposal_id: int, status: Status, by: str, result: str, *, expect: Status | None = None) -> bool:
        sql = "UPDATE shop_proposals SET status = ?, decided_by = ?, decided_at = ?, result = ? WHERE id = ?"
        params: list[object] = [status, by, _now(), result[:500], int(proposal_id)]
        if expect:
            sql += " AND status = ?"
            params.append(expect)
        with self.store.transaction() as db:
            return db.execute(sql, params).rowcount == 1

    def _pending(self, proposal_id: int) -> Proposal:
        p = self.get(proposal_id)
        if p is None:
            raise ProposalError(f"no proposal with id {proposal_id}")
        if p.status != "pending":
            raise ProposalError(f"proposal {proposal_id} is {p.status}, not pending")
        return p

    def reject(self, proposal_id: int, *, reason: str, by: str) -> Proposal:
        self._pending(proposal_id)
        if not self._set(proposal_id, "rejected", by, f"rejected: {reason or 'no reason given'}", expect="pending"):
            raise ProposalError(f"proposal {proposal_id} was decided by someone else meanwhile")
        self.audit(run_id="cli", actor="operator", tool="reject", input={"id": proposal_id, "reason": reason},
                   result="rejected", approver=by)
        return self.get(proposal_id)  # type: ignore[return-value]

    def approve(self, proposal_id: int, *, shop: ShopWriter | None, settings: Settings, by: str) -> Proposal:
        """Re-check limits against the shop's current value, then apply. Never raises for shop errors:
        the outcome (applied / failed with a safe reason) is recorded and returned."""
        p = self._pending(proposal_id)
        old, currency, note = p.old, p.currency, ""
        if shop is None:
            return self._fail(p, by, "TikTok Shop is not configured or not authorised; nothing was changed")
        try:
            fresh, fresh_currency = current_value(shop, p.kind, p.product_id, p.sku_id)
            if fresh is not None:
                if old is not None and fresh != old:
                    note = f" (current value {fresh} differs from {old} at proposal time)"
                old = fresh
            currency = currency or fresh_currency
        except Exception as exc:  # noqa: BLE001 - fall back to the value recorded with the proposal
            log.warning("could not re-read %s/%s: %s", p.product_id, p.sku_id, redact(str(exc)))
            note = " (current value could not be re-read; checked against the value at proposal time)"
        problems = check_limits(p.kind, p.sku_id, old, p.new, settings)
        if p.kind == "price" and not currency:
            problems.append("the currency is unknown")
        if problems:
            return self._fail(p, by, "blocked by limits: " + "; ".join(problems) + note)
        if not self._set(p.id, "approved", by, "applying" + note, expect="pending"):
            raise ProposalError(f"proposal {p.id} was decided by someone else meanwhile")
        try:
            if p.kind == "price":
                out = shop.update_price(p.product_id, p.sku_id, p.new, str(currency))
            else:
                out = shop.update_inventory(p.product_id, p.sku_id, int(p.new))
        except Exception as exc:  # noqa: BLE001 - recorded, shown, never a traceback
            log.warning("applying proposal %s failed: %s", p.id, redact(str(exc)))
            if hasattr(exc, "read_value"):  # WriteOutcomeUnknown: it may have landed; never call it failed
                read = getattr(exc, "read_value", None)
                return self._fail(
                    p, by, f"OUTCOME UNKNOWN: the shop did not confirm the {p.kind} change and a re-read shows"
                    f" {read if read is not None else 'nothing readable'} (it was {old}, proposed {p.new}); check"
                    " Seller Center before doing anything else", expect="approved", status="unknown",
                )
            return self._fail(p, by, f"the shop rejected the change: {safe_error(exc)}", expect="approved")
        errs = list(getattr(out, "errors", []) or [])
        if errs:
            return self._fail(p, by, f"the shop reported {len(errs)} error(s); nothing confirmed", expect="approved")
        confirmed = getattr(out, "note", "")
        note += f" ({confirmed})" if confirmed else ""
        self._set(p.id, "applied", by, f"applied: {p.kind} {old} → {p.new}{note}", expect="approved")
        self.audit(run_id=p.run_id, actor="operator", tool=f"apply_{p.kind}", input=self._input(p),
                   result="applied", approver=by)
        return self.get(p.id)  # type: ignore[return-value]

    def _fail(self, p: Proposal, by: str, reason: str, expect: Status = "pending", status: Status = "failed") -> Proposal:
        self._set(p.id, status, by, reason, expect=expect)
        self.audit(run_id=p.run_id, actor="operator", tool=f"apply_{p.kind}", input=self._input(p),
                   result=reason, is_error=True, approver=by)
        return self.get(p.id)  # type: ignore[return-value]

    @staticmethod
    def _input(p: Proposal) -> dict[str, Any]:
        return {"id": p.id, "product_id": p.product_id, "sku_id": p.sku_id, "new": str(p.new)}

    # --- audit ----------------------------------------------------------------------------
    def audit(
        self,
        *,
        run_id: str,
        actor: str,
        tool: str,
        input: dict[str, Any],
        result: str,
        is_error: bool = False,
        approver: str | None = None,
    ) -> None:
        """One row per tool call: the input (which never holds secrets: tools take none) and a hash of the result."""
        digest = hashlib.sha256(result.encode("utf-8")).hexdigest()
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO shop_audit (at, run_id, actor, tool, input_json, result_sha256, is_error, approver)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (_now(), run_id, actor, tool, json.dumps(input, sort_keys=True, default=str), digest, int(is_error),
                 approver),
            )

    def audit_log(self, limit: int = 100) -> builtins.list[AuditEntry]:
        rows = self.store.query("SELECT * FROM shop_audit ORDER BY id DESC LIMIT ?", (limit,))
        return [
            AuditEntry(id=r["id"], at=r["at"], run_id=r["run_id"], actor=r["actor"], tool=r["tool"],
                       input=json.loads(r["input_json"]), result_sha256=r["result_sha256"], is_error=bool(r["is_error"]),
                       approver=r["approver"])
            for r in rows
        ]
