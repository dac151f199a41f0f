"""Domains: every operator in the reference, OR/AND nesting, dotted paths, order/offset/limit, active_test."""

import pytest

from integration.fulfil.errors import FulfilError, UserError


@pytest.fixture
def codes(sandbox, fulfil_client):
    def run(domain, **kwargs):
        rows = fulfil_client.search_read("product.product", domain, ["code"], **kwargs)
        return [r["code"] for r in rows]

    return run


def test_equality_and_comparisons(codes, sandbox):
    assert codes([["code", "=", "TEE-CRW-BLK-XS"]]) == ["TEE-CRW-BLK-XS"]
    assert "TEE-CRW-BLK-XS" not in codes([["code", "!=", "TEE-CRW-BLK-XS"]])
    cheap = codes([["list_price", "<", 20]])
    assert set(cheap) == set(codes([["list_price", "<=", 19.99]]))
    assert not set(cheap) & set(codes([["list_price", ">=", 20]]))
    assert set(codes([["list_price", ">", 50]])) == {c for c in sandbox.products if c.startswith("JUMP-MER")}


def test_in_and_not_in(codes, sandbox):
    wanted = ["TEE-CRW-BLK-XS", "TEE-CRW-BLK-S"]
    assert sorted(codes([["code", "in", wanted]])) == sorted(wanted)
    assert not set(wanted) & set(codes([["code", "not in", wanted]]))


def test_like_and_ilike_use_sql_wildcards(codes):
    assert codes([["code", "like", "TEE-CRW-BLK-_"]]) == ["TEE-CRW-BLK-S", "TEE-CRW-BLK-M", "TEE-CRW-BLK-L"]
    assert codes([["code", "like", "tee-crw-blk-_"]]) == []
    assert len(codes([["code", "ilike", "tee-crw-blk-%"]])) == 5
    assert "TEE-CRW-BLK-XS" not in codes([["code", "not like", "TEE-CRW-BLK%"]])
    assert "TEE-CRW-BLK-XS" not in codes([["code", "not ilike", "tee-crw-blk%"]])


def test_or_and_nesting(codes):
    domain = [
        "OR",
        [["code", "=", "TEE-CRW-BLK-XS"]],
        ["AND", ["code", "like", "TEE-VNK-%"], ["code", "like", "%-XL"]],
    ]
    assert sorted(codes(domain)) == sorted(
        ["TEE-CRW-BLK-XS", "TEE-VNK-BLK-XL", "TEE-VNK-NVY-XL", "TEE-VNK-WHT-XL", "TEE-VNK-GRN-XL"]
    )
    assert codes([["AND", ["code", "like", "TEE-CRW-%"], ["code", "like", "%-NVY-M"]]]) == ["TEE-CRW-NVY-M"]


def test_dotted_paths_follow_relations(sandbox, fulfil_client, codes):
    assert len(codes([["template.name", "=", "Crew Neck Tee"]])) == 20
    parties = fulfil_client.search(
        "party.party", [["customer_location.type", "=", "customer"], ["code", "like", "WALKIN-%"]]
    )
    assert sorted(parties) == sorted(sandbox.walk_ins.values())
    rows = fulfil_client.search_read(
        "party.party", [["id", "=", sandbox.walk_ins["ST-OXF"]]], ["customer_location.name"]
    )
    assert rows[0]["customer_location.name"] == "Customer"


def test_child_of_and_parent_of(sandbox, fulfil_client):
    oxf = sandbox.warehouses["ST-OXF"]
    inside = fulfil_client.search("stock.location", [["parent", "child_of", [oxf]]])
    assert sandbox.storage["ST-OXF"] in inside
    assert sandbox.storage["ST-MAN"] not in inside
    outside = fulfil_client.search("stock.location", [["id", "not child_of", [oxf], "parent"]])
    assert oxf not in outside
    assert sandbox.storage["ST-OXF"] not in outside
    above = fulfil_client.search(
        "stock.location", [["id", "parent_of", [sandbox.storage["ST-OXF"]], "parent"]]
    )
    assert sorted(above) == sorted([oxf, sandbox.storage["ST-OXF"]])
    assert oxf not in fulfil_client.search(
        "stock.location", [["id", "not parent_of", [sandbox.storage["ST-OXF"]], "parent"]]
    )


def test_where_and_not_where(sandbox, fulfil_client):
    from tests.sandbox.helpers import sale_values

    [a, b] = fulfil_client.create(
        "sale.sale",
        [
            sale_values(sandbox, "w:1", lines=[("TEE-CRW-BLK-XS", 1, "18.00")]),
            sale_values(sandbox, "w:2", lines=[("TEE-CRW-BLK-S", 1, "18.00")]),
        ],
    )
    xs = sandbox.products["TEE-CRW-BLK-XS"]
    assert fulfil_client.search("sale.sale", [["lines", "where", [["product", "=", xs]]]]) == [a]
    assert fulfil_client.search("sale.sale", [["lines", "not where", [["product", "=", xs]]]]) == [b]
    assert fulfil_client.search("sale.sale", [["lines.product.code", "=", "TEE-CRW-BLK-S"]]) == [b]
    assert (
        fulfil_client.search("sale.line", [["sale.reference", "=", "w:1"]])
        == fulfil_client.read("sale.sale", [a], ["lines"])[0]["lines"]
    )


def test_order_offset_and_limit(codes):
    everything = codes([["code", "like", "TEE-CRW-%"]], order=[["code", "DESC"]])
    assert everything == sorted(everything, reverse=True)
    assert (
        codes([["code", "like", "TEE-CRW-%"]], order=[["code", "DESC"]], offset=2, limit=3) == everything[2:5]
    )


def test_archived_records_are_hidden_unless_active_test_is_off(sandbox, fulfil_client, codes):
    pid = sandbox.products["TEE-CRW-BLK-XS"]
    fulfil_client.write("product.product", [pid], {"active": False})
    assert codes([["code", "=", "TEE-CRW-BLK-XS"]]) == []
    assert codes([["code", "=", "TEE-CRW-BLK-XS"]], context={"active_test": False}) == ["TEE-CRW-BLK-XS"]
    assert codes([["code", "=", "TEE-CRW-BLK-XS"], ["active", "=", False]]) == ["TEE-CRW-BLK-XS"]


def test_search_read_all_pages_through_everything(sandbox, fulfil_client):
    rows = list(fulfil_client.search_read_all("product.product", [], ["code"], page_size=7))
    assert sorted(r["code"] for r in rows) == sorted(sandbox.products)


def test_bad_domains_are_refused(sandbox, fulfil_client):
    with pytest.raises(FulfilError):
        fulfil_client.search("product.product", [["code", "~", "x"]])
    with pytest.raises(UserError):
        fulfil_client.search("product.product", [], limit=501)
