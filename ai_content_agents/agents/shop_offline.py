"""TikTokShopAgent's offline plan: status, then performance (in parallel), then an answer that lists what
came back. It never proposes a write. Handed to the generic offline model by TikTokShopAgent, next to the
shop tools whose names it knows.
"""

from __future__ import annotations

from typing import Any

from .offline import OFFLINE_BANNER, OfflineTurn

Reply = tuple[list[dict[str, Any]], str]
READS = ("shop_performance", "product_performance")


def shop_plan(turn: OfflineTurn) -> Reply:
    if turn.may_call and "shop_status" in turn.tools and not turn.called("shop_status"):
        return [turn.use("shop_status", {})], "tool_use"
    calls: list[tuple[dict[str, Any], Any, bool]] = turn.results("shop_status")
    _, detail, err = calls[0] if calls else ({}, None, True)
    ready = not err and isinstance(detail, dict) and bool(detail.get("ready"))
    wanted = [t for t in READS if t in turn.tools]
    if turn.may_call and ready and wanted and not any(turn.called(t) for t in wanted):
        return [turn.use(t, {"days": 7}, k) for k, t in enumerate(wanted)], "tool_use"
    lines = [OFFLINE_BANNER]
    if not ready:
        why = (detail.get("detail") if isinstance(detail, dict) else detail) or "unknown state"
        lines.append(f"TikTok Shop is not available: {why}")
        return turn.answer("\n".join(lines))
    for name, _, result, is_error in turn.done:
        if name != "shop_status":
            lines.append(f"{name}: {'error: ' if is_error else ''}{result}")
    return turn.answer("\n".join(lines))
