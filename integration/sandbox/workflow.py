"""The sale workflow, Tryton-style: a transition applies only to records in a state it starts from and
silently skips the rest (calling `quote` twice is harmless); `process` on `pick_up` lines moves stock
at once, out of the line's warehouse (else the sale's), and negative lines move it back in.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import F
from django.utils import timezone

from integration.fulfil import encoding
from integration.sandbox.errors import SandboxUserError
from integration.sandbox.models import SandboxRecord, SandboxSequence, SandboxStock
from integration.sandbox.store import Env


def _next_number(name: str, prefix: str) -> str:
    seq, _ = SandboxSequence.objects.select_for_update().get_or_create(name=name)
    value = seq.next_value
    SandboxSequence.objects.filter(pk=seq.pk).update(next_value=F("next_value") + 1)
    return f"{prefix}{value:05d}"


def _set_state(env: Env, sale: dict, state: str, **extra: Any) -> None:
    row = SandboxRecord.objects.get(pk=sale["id"])
    row.data = {**row.data, "state": state}
    for key, value in extra.items():
        row.data[key] = encoding.to_wire(value)
    row.write_date = timezone.now()
    row.save(update_fields=["data", "write_date"])
    env.forget("sale.sale", [sale["id"]])


def sale_quote(env: Env, model: str, ids: list[int], *_) -> None:
    for sale in env.browse("sale.sale", ids):
        if sale.get("state") != "draft":
            continue
        lines = env.children("sale.line", [sale["id"]])
        for line in lines:
            if line.get("type", "line") == "line" and line.get("unit_price") is None:
                raise SandboxUserError(f"A unit price is required on every line of sale {sale['id']}.")
        number = sale.get("number") or _next_number("sale.sale", "SO")
        _set_state(env, sale, "quotation", number=number)


def sale_confirm(env: Env, model: str, ids: list[int], *_) -> None:
    for sale in env.browse("sale.sale", ids):
        if sale.get("state") != "quotation":
            continue
        sale_date = sale.get("sale_date") or timezone.localdate()
        _set_state(env, sale, "confirmed", sale_date=sale_date)


def sale_cancel(env: Env, model: str, ids: list[int], *_) -> None:
    for sale in env.browse("sale.sale", ids):
        if sale.get("state") in ("draft", "quotation"):
            _set_state(env, sale, "cancel")


def sale_draft(env: Env, model: str, ids: list[int], *_) -> None:
    for sale in env.browse("sale.sale", ids):
        if sale.get("state") in ("quotation", "confirmed", "cancel"):
            _set_state(env, sale, "draft")


def sale_process(env: Env, model: str, ids: list[int], *_) -> None:
    for sale in env.browse("sale.sale", ids):
        if sale.get("state") != "confirmed":
            continue
        lines = [ln for ln in env.children("sale.line", [sale["id"]]) if ln.get("type", "line") == "line"]
        original_costs = _original_costs(env, sale)
        waiting = False
        sources = set()
        for line in lines:
            if not line.get("product") or not line.get("quantity"):
                continue
            done = line.get("delivery_mode", "pick_up") == "pick_up"
            waiting = waiting or not done
            source = _create_move(env, sale, line, original_costs, done=done)
            if source:
                sources.add(source)
        extra: dict[str, Any] = {"shipment_state": "waiting" if waiting else "sent"}
        if sources:
            extra["cost_source"] = "current_cost" if "current_cost" in sources else "original_sale"
            if "current_cost" in sources:
                note = "Return not linked to an original sale: returned units costed at today's cost."
                comment = sale.get("comment") or ""
                if note not in comment:
                    extra["comment"] = f"{comment}\n{note}".strip()
        _set_state(env, sale, "processing" if waiting else "done", **extra)


def _original_costs(env: Env, sale: dict) -> dict[int, Decimal]:
    """Cost at which each product left in the original sale, for a return linked by `origin`."""
    origin = str(sale.get("origin") or "")
    if not origin.startswith("sale.sale,"):
        return {}
    original_id = int(origin.split(",", 1)[1])
    env.get("sale.sale", original_id)
    costs: dict[int, Decimal] = {}
    lines = env.children("sale.line", [original_id])
    for move in env.children("stock.move", [ln["id"] for ln in lines]):
        if move.get("state") == "done" and move.get("cost_price") is not None:
            costs.setdefault(move["product"], Decimal(str(move["cost_price"])))
    return costs


def _warehouse_locations(env: Env, warehouse_id: int) -> dict:
    warehouse = env.get("stock.location", warehouse_id)
    if warehouse.get("type") != "warehouse":
        raise SandboxUserError(f'Location "{warehouse.get("name")}" is not a warehouse.')
    return warehouse


def _customer_location(env: Env, sale: dict) -> int:
    party = env.get("party.party", sale["party"])
    if party.get("customer_location"):
        return party["customer_location"]
    found = env.search("stock.location", [["type", "=", "customer"]], limit=1)
    if not found:
        raise SandboxUserError(f'Party "{party.get("name")}" has no customer location.')
    return found[0]


def _create_move(env: Env, sale: dict, line: dict, original_costs: dict, *, done: bool) -> str | None:
    warehouse_id = line.get("warehouse") or sale.get("warehouse")
    if not warehouse_id:
        raise SandboxUserError(f"Sale line {line['id']} has no warehouse to ship from.")
    warehouse = _warehouse_locations(env, warehouse_id)
    customer = _customer_location(env, sale)
    quantity = Decimal(str(line["quantity"]))
    product = env.get("product.product", line["product"])
    cost_source = None
    if quantity > 0:
        from_loc, to_loc = warehouse.get("storage_location") or warehouse_id, customer
        cost = Decimal(str(product.get("cost_price") or 0))
    else:
        from_loc, to_loc = customer, warehouse.get("input_location") or warehouse_id
        if line["product"] in original_costs:
            cost, cost_source = original_costs[line["product"]], "original_sale"
        else:
            cost, cost_source = Decimal(str(product.get("cost_price") or 0)), "current_cost"
    env.create(
        "stock.move",
        [
            {
                "product": line["product"],
                "quantity": float(abs(quantity)),
                "from_location": from_loc,
                "to_location": to_loc,
                "state": "done" if done else "draft",
                "effective_date": timezone.localdate() if done else None,
                "planned_date": sale.get("sale_date") or timezone.localdate(),
                "origin": f"sale.line,{line['id']}",
                "unit_price": line.get("unit_price"),
                "cost_price": cost,
            }
        ],
    )
    if done:
        stock_move(
            product_id=line["product"], from_location=from_loc, to_location=to_loc, quantity=abs(quantity)
        )
    if cost_source:
        # Lines are locked once the sale left draft, so the flag is written past the business rules.
        row = SandboxRecord.objects.get(pk=line["id"])
        row.data = {**row.data, "cost_source": cost_source}
        row.save(update_fields=["data"])
        env.forget("sale.line", [line["id"]])
    return cost_source


def stock_move(*, product_id: int, from_location: int, to_location: int, quantity: Decimal) -> None:
    """Move stock between two locations. Virtual locations (customer, supplier) are not counted."""
    for location, delta in ((from_location, -quantity), (to_location, quantity)):
        row, _ = SandboxStock.objects.get_or_create(product_id=product_id, location_id=location)
        SandboxStock.objects.filter(pk=row.pk).update(quantity=F("quantity") + delta)
