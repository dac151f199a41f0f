"""Small helpers shared by the sandbox tests: post a sale the way the sync engine will."""

from decimal import Decimal

from integration.fulfil.errors import OutcomeUnknown, RateLimited, TransientError


def sale_values(estate, identifier, *, store="ST-OXF", lines=None, origin=None):
    warehouse = estate.warehouses[store]
    product = lines or [("TEE-CRW-BLK-XS", 2, "18.00")]
    return {
        "channel": estate.channel,
        "party": estate.walk_ins[store],
        "warehouse": warehouse,
        "currency": estate.currency,
        "channel_identifier": identifier,
        "reference": identifier,
        "origin": origin,
        "lines": [
            [
                "create",
                [
                    {
                        "product": estate.products[code],
                        "quantity": qty,
                        "unit_price": Decimal(price),
                        "taxes": [["add", [estate.taxes["standard"]]]],
                        "warehouse": warehouse,
                        "delivery_mode": "pick_up",
                        "channel_identifier": f"{identifier}:{n}",
                        "description": code,
                    }
                    for n, (code, qty, price) in enumerate(product, 1)
                ],
            ]
        ],
    }


def post_sale(client, values) -> int:
    """Create (once) then quote/confirm/process: the engine's rule for an unknown outcome is to look
    the sale up by channel_identifier before sending it again."""
    identifier = values["channel_identifier"]
    while True:
        try:
            found = client.search("sale.sale", [["channel_identifier", "=", identifier]])
            sale_id = found[0] if found else client.create("sale.sale", [values])[0]
            for method in ("quote", "confirm", "process"):
                client.call("sale.sale", method, [sale_id])
            return sale_id
        except (OutcomeUnknown, RateLimited, TransientError):
            continue


def on_hand(client, product_id, location_id) -> float:
    return client.read(
        "product.product", [product_id], ["quantity_on_hand"], context={"locations": [location_id]}
    )[0]["quantity_on_hand"]
