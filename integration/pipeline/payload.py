"""What one POS transaction looks like as a Fulfil `sale.sale`, and the walk-in party it sells to.

Everything here comes from `posted_with`, written by validation: the poster sends exactly what was
validated, with no map look-ups of its own.
"""

from decimal import Decimal

from django.core.cache import cache

from integration.models import PosTransaction
from integration.pipeline.money import fulfil_line_amount, money

WALK_IN_CACHE_SECONDS = 7 * 24 * 3600


def walk_in_code(txn: PosTransaction) -> str:
    """The anonymous customer of the store's warehouse: one per store, like Fulfil's POS channel."""
    return f"WALKIN-{txn.posted_with.get('warehouse_code') or txn.posted_with['warehouse']}"


def _walk_in_display(txn: PosTransaction) -> str:
    return (
        f"Walk-in — {txn.posted_with.get('warehouse_name') or txn.pos_location_name or txn.pos_location_id}"
    )


def _cache_key(client, code: str) -> str:
    return f"fulfil-walk-in:{getattr(client, 'base_url', '')}:{code}"


def walk_in_parties(*, client, txns: list[PosTransaction], record_call) -> dict[str, int]:
    """Walk-in party id per store code, found or created once and then cached (no calls after)."""
    names = {walk_in_code(t): _walk_in_display(t) for t in txns}
    found = {code: cache.get(_cache_key(client, code)) for code in names}
    missing = sorted(code for code, party in found.items() if not party)
    if not missing:
        return found
    rows = record_call(
        "party_lookup",
        lambda: client.search_read("party.party", [["code", "in", missing]], fields=["id", "code"]),
    )
    for row in rows:
        found[row["code"]] = found.get(row["code"]) or row["id"]
    still = [code for code in missing if not found.get(code)]
    if still:
        ids = record_call(
            "party_create",
            lambda: client.create("party.party", [{"code": code, "name": names[code]} for code in still]),
        )
        found.update(zip(still, ids, strict=True))
    for code in missing:
        cache.set(_cache_key(client, code), found[code], WALK_IN_CACHE_SECONDS)
    return found


def walk_in_forget(*, client, code: str) -> bool:
    """Drop a cached walk-in party id (Fulfil no longer knows it). True if one was cached."""
    return bool(cache.delete(_cache_key(client, code)))


def sale_values(txn: PosTransaction, *, party_id: int) -> dict:
    plan = txn.posted_with
    warehouse = plan["warehouse"]
    lines = []
    for line in txn.lines.all():
        planned = plan["lines"][str(line.pk)]
        lines.append(
            {
                "product": planned["product"],
                "quantity": line.quantity,
                "unit_price": Decimal(planned["unit_price"]),
                "taxes": [["add", planned["taxes"]]],
                "description": line.description or line.sku,
                "warehouse": warehouse,
                "delivery_mode": "pick_up",
                "channel_identifier": f"{txn.channel_identifier}:{line.line_id}",
            }
        )
    adjustment = Decimal(plan.get("tax_adjustment") or "0")
    if adjustment:
        # Accepted by finance in the workbench: the till's tax differs from Fulfil's by this much.
        lines.append(
            {
                "quantity": Decimal("1"),
                "unit_price": adjustment,
                "description": "POS tax difference accepted by finance (till rounding)",
                "warehouse": warehouse,
                "channel_identifier": f"{txn.channel_identifier}:tax-adjustment",
            }
        )
    values = {
        "party": party_id,
        "channel": plan["channel"],
        "channel_identifier": txn.channel_identifier,
        "reference": txn.pos_number or txn.pos_id,
        "sale_date": txn.business_date,
        "warehouse": warehouse,
        "lines": [["create", lines]],
    }
    if plan.get("origin_sale"):
        values["origin"] = f"sale.sale,{plan['origin_sale']}"
    return values


def expected_untaxed(txn: PosTransaction) -> Decimal:
    """The untaxed total Fulfil will hold for this transaction, to tell a twin from an impostor."""
    plan = txn.posted_with.get("lines", {})
    total = Decimal("0.00")
    for line in txn.lines.all():
        unit_price = Decimal(plan.get(str(line.pk), {}).get("unit_price", "0"))
        total += fulfil_line_amount(quantity=line.quantity, unit_price=unit_price)
    return money(total + Decimal(txn.posted_with.get("tax_adjustment") or "0"))
