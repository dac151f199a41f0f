"""Model methods the sandbox answers over RPC: CRUD for every model, the sale workflow (workflow.py),
`sale.channel/create_order`, `get_product_inventory`, `res.user/get_preferences`, payment transactions.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from integration.sandbox.errors import SandboxBadRequest, SandboxUserError
from integration.sandbox.models import SandboxRecord
from integration.sandbox.store import Env
from integration.sandbox.workflow import (
    sale_cancel,
    sale_confirm,
    sale_draft,
    sale_process,
    sale_quote,
)

READ_METHODS = {"search", "search_read", "search_count", "read", "get_preferences", "get_product_inventory"}


def dispatch(env: Env, model: str, method: str, args: Any) -> Any:
    env.model(model)
    if isinstance(args, dict):
        return _keyword_call(env, model, method, args)
    if not isinstance(args, list):
        raise SandboxBadRequest("The body is a JSON array of positional arguments")
    handler = _GENERIC.get(method) or _SPECIFIC.get((model, method))
    if handler is None:
        raise SandboxBadRequest(f'Method "{method}" of "{model}" is not available over RPC')
    return handler(env, model, *args)


def _keyword_call(env: Env, model: str, method: str, kwargs: dict) -> Any:
    """`{"filters": domain, "fields": [...], "offset": n, "limit": n, "order": [...]}` (practitioner form)."""
    domain = kwargs.get("filters", kwargs.get("domain", []))
    if method == "search_read":
        return _search_read(
            env,
            model,
            domain,
            kwargs.get("offset"),
            kwargs.get("limit"),
            kwargs.get("order"),
            kwargs.get("fields"),
        )
    if method == "search_count":
        return _search_count(env, model, domain)
    if method == "search":
        return env.search(model, domain, kwargs.get("offset"), kwargs.get("limit"), kwargs.get("order"))
    raise SandboxBadRequest(f'Method "{method}" takes positional arguments (a JSON array)')


def _search(env, model, domain=None, offset=None, limit=None, order=None, count=False, *_):
    ids = env.search(model, domain or [], offset, limit, order)
    return len(ids) if count else ids


def _search_read(env, model, domain=None, offset=None, limit=None, order=None, fields=None, *_):
    ids = env.search(model, domain or [], offset, limit, order)
    return env.read(model, ids, fields)


def _search_count(env, model, domain=None, *_):
    return len(env.search(model, domain or []))


def _read(env, model, ids, fields=None, *_):
    return env.read(model, list(ids), fields)


def _create(env, model, vals_list, *_):
    return env.create(model, vals_list)


def _write(env, model, *pairs):
    if len(pairs) < 2 or len(pairs) % 2:
        raise SandboxBadRequest("write takes pairs of [ids], {values}")
    for i in range(0, len(pairs), 2):
        env.write(model, list(pairs[i]), pairs[i + 1])


def _delete(env, model, ids, *_):
    env.delete(model, list(ids))


_GENERIC = {
    "search": _search,
    "search_read": _search_read,
    "search_count": _search_count,
    "read": _read,
    "create": _create,
    "write": _write,
    "delete": _delete,
}


# --- sale.channel.create_order ------------------------------------------------------------------


def channel_create_order(env: Env, model: str, channel_id: int, order: dict, *_) -> dict:
    """Idempotent on channel_identifier: the same order twice returns the first sale."""
    identifier = order.get("channel_identifier")
    if not identifier:
        raise SandboxUserError("channel_identifier is required")
    channel = env.get("sale.channel", int(channel_id))
    existing = env.search("sale.sale", [["channel_identifier", "=", identifier]])
    if not existing:
        existing = [_create_order_sale(env, channel, order)]
    return env.read(
        "sale.sale",
        existing,
        ["id", "number", "reference", "state", "channel_identifier", "total_amount", "tax_amount"],
    )[0]


def _create_order_sale(env: Env, channel: dict, order: dict) -> int:
    lines = []
    for item in order.get("sale_lines") or []:
        product_ids = env.search("product.product", [["code", "=", item.get("sku")]], limit=1)
        if not product_ids:
            raise SandboxUserError(f'No product with SKU "{item.get("sku")}".')
        taxes = []
        for tax_line in item.get("tax_lines") or []:
            found = env.search("account.tax", [["name", "=", tax_line.get("name")]], limit=1)
            if not found:
                raise SandboxUserError(f'Unknown tax "{tax_line.get("name")}".')
            taxes.append(found[0])
        lines.append(
            {
                "product": product_ids[0],
                "quantity": float(item.get("quantity") or 0),
                "unit_price": Decimal(str(item.get("unit_price") or 0)),
                "description": item.get("description") or "",
                "channel_identifier": item.get("channel_identifier"),
                "delivery_mode": item.get("fulfil_strategy") or channel.get("delivery_mode") or "pick_up",
                "warehouse": item.get("warehouse"),
                "taxes": [["add", taxes]],
            }
        )
    sale_date = order.get("confirmed_at")
    if isinstance(sale_date, str):
        sale_date = dt.date.fromisoformat(sale_date[:10])
    elif isinstance(sale_date, dt.datetime):
        sale_date = sale_date.date()
    sale_id = env.create(
        "sale.sale",
        [
            {
                "channel": channel["id"],
                "party": channel.get("anonymous_customer"),
                "warehouse": channel.get("warehouse"),
                "currency": channel.get("currency"),
                "channel_identifier": order["channel_identifier"],
                "reference": order.get("reference"),
                "sale_date": sale_date,
                "comment": order.get("comment"),
                "lines": [["create", lines]],
            }
        ],
    )[0]
    if order.get("amount") is not None:
        total = env.sale_amounts(env.get("sale.sale", sale_id))["total_amount"]
        if Decimal(str(order["amount"])) != total:
            raise SandboxUserError(
                f"Order amount {order['amount']} does not match the computed total {total}."
            )
    for payment in order.get("payments") or []:
        if payment.get("state", "success") != "success":
            continue
        gateway = env.search("payment_gateway.gateway", [["code", "=", payment.get("method")]], limit=1)
        if not gateway:
            raise SandboxUserError(f'No payment gateway with code "{payment.get("method")}".')
        env.create(
            "sale.payment",
            [
                {
                    "sale": sale_id,
                    "gateway": gateway[0],
                    "amount": Decimal(str(payment["amount"])),
                    "reference": payment.get("provider_reference"),
                }
            ],
        )
    if order.get("status", "completed") == "completed":
        sale_quote(env, "sale.sale", [sale_id])
        sale_confirm(env, "sale.sale", [sale_id])
        sale_process(env, "sale.sale", [sale_id])
    return sale_id


# --- products, users, transactions ----------------------------------------------------------------


def product_inventory(env: Env, model: str, product_ids: list[int], warehouse_ids: list[int], *_) -> dict:
    out: dict[str, dict] = {str(p): {} for p in product_ids}
    for warehouse_id in warehouse_ids:
        quantities = env.quantities(list(product_ids), [warehouse_id])
        for product_id in product_ids:
            qty = float(quantities.get(product_id, Decimal("0")))
            out[str(product_id)][str(warehouse_id)] = {"quantity_on_hand": qty, "quantity_available": qty}
    return out


def user_preferences(env: Env, model: str, context_only: bool = True, *_) -> dict:
    return {
        "language": "en",
        "language_direction": "ltr",
        "timezone": "Europe/London",
        "company": 1,
        "companies": [1],
        "currency": 1,
        "locale": {"decimal_point": ".", "thousands_sep": ",", "date": "%d/%m/%Y"},
        "name": "Sandbox integration user",
    }


def _transaction_transition(source: tuple[str, ...], target: str):
    def run(env: Env, model: str, ids: list[int], *_) -> None:
        for txn in env.browse(model, ids):
            if txn.get("state") in source:
                row = SandboxRecord.objects.get(pk=txn["id"])
                row.data = {**row.data, "state": target}
                row.write_date = timezone.now()
                row.save(update_fields=["data", "write_date"])
                env.forget(model, [txn["id"]])

    return run


_SPECIFIC = {
    ("sale.sale", "quote"): sale_quote,
    ("sale.sale", "confirm"): sale_confirm,
    ("sale.sale", "process"): sale_process,
    ("sale.sale", "cancel"): sale_cancel,
    ("sale.sale", "draft"): sale_draft,
    ("sale.channel", "create_order"): channel_create_order,
    ("product.product", "get_product_inventory"): product_inventory,
    ("res.user", "get_preferences"): user_preferences,
    ("payment_gateway.transaction", "process"): _transaction_transition(("draft",), "completed"),
    ("payment_gateway.transaction", "post"): _transaction_transition(("completed",), "posted"),
    ("payment_gateway.transaction", "cancel"): _transaction_transition(("draft", "authorized"), "cancel"),
}
