"""The sandbox's sale workflow, stock and idempotency, driven through the real client in-process."""

from decimal import Decimal

import pytest

from integration.fulfil.errors import OutcomeUnknown, UserError
from integration.sandbox.models import SandboxRecord
from integration.sandbox.services import sandbox_faults_set
from tests.sandbox.helpers import on_hand, post_sale, sale_values

SKU = "TEE-CRW-BLK-XS"


def test_a_pick_up_sale_lowers_stock_at_its_warehouse_and_nowhere_else(sandbox, fulfil_client):
    product = sandbox.products[SKU]
    locations = dict(sandbox.warehouses.items())
    before = {code: on_hand(fulfil_client, product, wid) for code, wid in locations.items()}

    post_sale(fulfil_client, sale_values(sandbox, "shop:1001", lines=[(SKU, 3, "18.00")]))

    after = {code: on_hand(fulfil_client, product, wid) for code, wid in locations.items()}
    assert after["ST-OXF"] == before["ST-OXF"] - 3
    assert {c: q for c, q in after.items() if c != "ST-OXF"} == {
        c: q for c, q in before.items() if c != "ST-OXF"
    }


def test_a_linked_return_puts_the_stock_back_at_the_same_warehouse_at_the_original_cost(
    sandbox, fulfil_client
):
    product = sandbox.products[SKU]
    oxf, man = sandbox.warehouses["ST-OXF"], sandbox.warehouses["ST-MAN"]
    start_oxf, start_man = on_hand(fulfil_client, product, oxf), on_hand(fulfil_client, product, man)
    sale_id = post_sale(fulfil_client, sale_values(sandbox, "shop:2001", lines=[(SKU, 2, "18.00")]))
    original_cost = fulfil_client.read(
        "stock.move", fulfil_client.read("sale.sale", [sale_id], ["moves"])[0]["moves"], ["cost_price"]
    )[0]["cost_price"]
    fulfil_client.write("product.product", [product], {"cost_price": Decimal("99.0000")})  # cost moves on

    return_id = post_sale(
        fulfil_client,
        sale_values(sandbox, "shop:2002", lines=[(SKU, -2, "18.00")], origin=f"sale.sale,{sale_id}"),
    )

    assert on_hand(fulfil_client, product, oxf) == start_oxf
    assert on_hand(fulfil_client, product, man) == start_man
    sale = fulfil_client.read("sale.sale", [return_id], ["state", "cost_source", "total_amount", "moves"])[0]
    assert sale["state"] == "done"
    assert sale["cost_source"] == "original_sale"
    assert sale["total_amount"] == Decimal("-43.20")
    move = fulfil_client.read(
        "stock.move", sale["moves"], ["cost_price", "from_location", "to_location", "state"]
    )[0]
    assert move["cost_price"] == original_cost
    assert (
        move["to_location"]
        == fulfil_client.read("stock.location", [oxf], ["input_location"])[0]["input_location"]
    )


def test_an_unlinked_return_is_flagged_as_costed_at_todays_cost(sandbox, fulfil_client):
    return_id = post_sale(fulfil_client, sale_values(sandbox, "shop:3001", lines=[(SKU, -1, "18.00")]))
    sale = fulfil_client.read("sale.sale", [return_id], ["cost_source", "comment"])[0]
    assert sale["cost_source"] == "current_cost"
    assert "today's cost" in sale["comment"]


def test_the_same_channel_identifier_twice_leaves_one_sale(sandbox, fulfil_client):
    values = sale_values(sandbox, "shop:4001")
    fulfil_client.create("sale.sale", [values])
    with pytest.raises(UserError, match="Sale with Order ID shop:4001 already exists"):
        fulfil_client.create("sale.sale", [sale_values(sandbox, "shop:4001")])
    assert fulfil_client.search_count("sale.sale", [["channel_identifier", "=", "shop:4001"]]) == 1


def test_a_duplicate_in_a_batch_rolls_back_the_whole_call(sandbox, fulfil_client):
    fulfil_client.create("sale.sale", [sale_values(sandbox, "shop:4101")])
    with pytest.raises(UserError):
        fulfil_client.create(
            "sale.sale", [sale_values(sandbox, "shop:4102"), sale_values(sandbox, "shop:4101")]
        )
    assert fulfil_client.search("sale.sale", [["channel_identifier", "=", "shop:4102"]]) == []


def test_line_channel_identifiers_are_unique_too(sandbox, fulfil_client):
    first = sale_values(sandbox, "shop:4201")
    second = sale_values(sandbox, "shop:4202")
    second["lines"][0][1][0]["channel_identifier"] = "shop:4201:1"
    fulfil_client.create("sale.sale", [first])
    with pytest.raises(UserError, match="already exists"):
        fulfil_client.create("sale.sale", [second])


def test_create_many_returns_ids_in_input_order(sandbox, fulfil_client):
    ids = fulfil_client.create("sale.sale", [sale_values(sandbox, f"shop:5{n:03d}") for n in range(5)])
    rows = fulfil_client.read("sale.sale", ids, ["channel_identifier"])
    assert [r["channel_identifier"] for r in rows] == [f"shop:5{n:03d}" for n in range(5)]


def test_commit_then_timeout_then_lookup_leaves_exactly_one_sale(sandbox, fulfil_client):
    sandbox_faults_set(commit_timeout_share=1)
    with pytest.raises(OutcomeUnknown):
        fulfil_client.create("sale.sale", [sale_values(sandbox, "shop:6001")])
    sandbox_faults_set(commit_timeout_share=0.5, seed=99)
    post_sale(fulfil_client, sale_values(sandbox, "shop:6001"))
    for n in range(2, 12):
        post_sale(fulfil_client, sale_values(sandbox, f"shop:60{n:02d}"))
    sandbox_faults_set(commit_timeout_share=0)
    for n in range(1, 12):
        assert fulfil_client.search_count("sale.sale", [["channel_identifier", "=", f"shop:60{n:02d}"]]) == 1
    states = {r["state"] for r in fulfil_client.search_read("sale.sale", [], ["state"])}
    assert states == {"done"}


def test_workflow_moves_through_the_states_and_numbers_on_quote(sandbox, fulfil_client):
    sale_id = fulfil_client.create("sale.sale", [sale_values(sandbox, "shop:7001")])[0]

    def read():
        return fulfil_client.read("sale.sale", [sale_id], ["state", "number", "sale_date"])[0]

    assert read()["state"] == "draft"
    assert read()["number"] is None
    fulfil_client.call("sale.sale", "quote", [sale_id])
    assert read()["state"] == "quotation"
    assert read()["number"].startswith("SO")
    fulfil_client.call("sale.sale", "quote", [sale_id])  # a second quote is a no-op, as in Tryton
    fulfil_client.call("sale.sale", "confirm", [sale_id])
    assert read()["state"] == "confirmed"
    assert read()["sale_date"] is not None
    fulfil_client.call("sale.sale", "process", [sale_id])
    assert read()["state"] == "done"


def test_lines_are_editable_only_in_draft(sandbox, fulfil_client):
    sale_id = fulfil_client.create("sale.sale", [sale_values(sandbox, "shop:7101")])[0]
    line_id = fulfil_client.read("sale.sale", [sale_id], ["lines"])[0]["lines"][0]
    fulfil_client.write("sale.line", [line_id], {"quantity": 3})
    fulfil_client.call("sale.sale", "quote", [sale_id])
    with pytest.raises(UserError, match="only be changed in draft"):
        fulfil_client.write("sale.line", [line_id], {"quantity": 4})
    with pytest.raises(UserError):
        fulfil_client.write("sale.sale", [sale_id], {"lines": [["delete", [line_id]]]})
    fulfil_client.write("sale.sale", [sale_id], {"comment": "still allowed"})


def test_cancel_and_back_to_draft(sandbox, fulfil_client):
    sale_id = fulfil_client.create("sale.sale", [sale_values(sandbox, "shop:7201")])[0]
    fulfil_client.call("sale.sale", "cancel", [sale_id])
    assert fulfil_client.read("sale.sale", [sale_id], ["state"])[0]["state"] == "cancel"
    fulfil_client.call("sale.sale", "draft", [sale_id])
    fulfil_client.delete("sale.sale", [sale_id])
    assert fulfil_client.search("sale.sale", [["id", "=", sale_id]]) == []


@pytest.mark.parametrize(("mode", "tax"), [("line", Decimal("0.12")), ("order", Decimal("0.11"))])
def test_tax_rounding_mode_produces_realistic_differences(sandbox, fulfil_client, mode, tax):
    sandbox_faults_set(tax_rounding=mode)
    # Three lines of 0.18 at 20 %: 0.036 each -> 0.04 x 3 = 0.12 per line, 0.108 -> 0.11 per order.
    values = sale_values(sandbox, f"shop:tax-{mode}", lines=[(SKU, 1, "0.18")] * 3)
    for n, line in enumerate(values["lines"][0][1]):
        line["channel_identifier"] = f"shop:tax-{mode}:{n}"
    sale_id = fulfil_client.create("sale.sale", [values])[0]
    assert fulfil_client.read("sale.sale", [sale_id], ["tax_amount"])[0]["tax_amount"] == tax


def test_user_error_for_chosen_products(sandbox, fulfil_client):
    sandbox_faults_set(user_error_codes=[SKU])
    with pytest.raises(UserError, match=SKU):
        fulfil_client.create("sale.sale", [sale_values(sandbox, "shop:8001")])


def test_create_order_is_idempotent_on_channel_identifier(sandbox, fulfil_client):
    order = {
        "channel_identifier": "shop:9001",
        "reference": "R-9001",
        "confirmed_at": "2026-11-20T10:00:00",
        "sale_lines": [
            {
                "sku": SKU,
                "quantity": 1,
                "unit_price": Decimal("18.00"),
                "channel_identifier": "shop:9001:1",
                "tax_lines": [{"name": "UK VAT Standard 20%", "rate": Decimal("0.2")}],
                "fulfil_strategy": "pick_up",
                "warehouse": sandbox.warehouses["ST-MAN"],
            }
        ],
        "payments": [
            {"amount": Decimal("21.60"), "method": "card", "provider_reference": "pi_1", "state": "success"}
        ],
        "amount": Decimal("21.60"),
    }
    first = fulfil_client.call("sale.channel", "create_order", sandbox.channel, order)
    second = fulfil_client.call("sale.channel", "create_order", sandbox.channel, order)
    assert first["id"] == second["id"]
    assert first["state"] == "done"
    assert SandboxRecord.objects.filter(model="sale.sale", channel_identifier="shop:9001").count() == 1
    payments = fulfil_client.search_read("sale.payment", [["sale", "=", first["id"]]], ["amount", "gateway"])
    assert payments == [
        {"id": payments[0]["id"], "amount": Decimal("21.60"), "gateway": sandbox.gateways["card"]}
    ]


def test_payment_transactions_are_searchable_by_provider_reference(sandbox, fulfil_client):
    values = {
        "gateway": sandbox.gateways["cash"],
        "amount": Decimal("312.40"),
        "currency": sandbox.currency,
        "date": __import__("datetime").date(2026, 11, 26),
        "provider_reference": "batch:ST-OXF:2026-11-26:cash:1",
        "description": "Oxford Street cash 26 Nov",
        "type": "charge",
    }
    assert (
        fulfil_client.search(
            "payment_gateway.transaction", [["provider_reference", "=", values["provider_reference"]]]
        )
        == []
    )
    [txn] = fulfil_client.create("payment_gateway.transaction", [values])
    fulfil_client.call("payment_gateway.transaction", "process", [txn])
    row = fulfil_client.search_read(
        "payment_gateway.transaction",
        [["provider_reference", "=", values["provider_reference"]]],
        ["amount", "state", "date", "gateway.code"],
    )
    assert row == [
        {
            "id": txn,
            "amount": Decimal("312.40"),
            "state": "completed",
            "date": values["date"],
            "gateway.code": "cash",
        }
    ]


def test_get_product_inventory_breaks_quantities_down_by_warehouse(sandbox, fulfil_client):
    product = sandbox.products[SKU]
    oxf, man = sandbox.warehouses["ST-OXF"], sandbox.warehouses["ST-MAN"]
    result = fulfil_client.get_product_inventory([product], [oxf, man])
    assert set(result[str(product)]) == {str(oxf), str(man)}
    assert result[str(product)][str(oxf)]["quantity_on_hand"] == on_hand(fulfil_client, product, oxf)


def test_quantities_for_many_products_come_from_one_stock_query(
    sandbox, fulfil_client, django_assert_max_num_queries
):
    ids = list(sandbox.products.values())
    with django_assert_max_num_queries(15):
        rows = fulfil_client.read(
            "product.product",
            ids,
            ["quantity_on_hand"],
            context={"locations": [sandbox.warehouses["ST-OXF"]]},
        )
    assert all(row["quantity_on_hand"] > 0 for row in rows)
