import pytest

from mappings.suggestions import normalise_sku, suggest_products, suggest_warehouses
from tests.map_factories import FulfilProductFactory, FulfilWarehouseFactory


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(" abc-0012 ", "ABC12"), ("ABC_12", "ABC12"), ("abc 0012", "ABC12"), ("0007", "7"), ("A.100", "A100")],
)
def test_normalised_sku_ignores_case_spacing_separators_and_leading_zeros(raw, expected):
    assert normalise_sku(raw) == expected


def test_product_suggestions_rank_exact_code_then_barcode_then_normalised_then_name(db):
    exact = FulfilProductFactory(code="TSHIRT-BLK-M", name="Crew tee black medium")
    by_barcode = FulfilProductFactory(code="OTHER", barcode="5012345678900", name="Something else")
    normalised = FulfilProductFactory(code="tshirt_blk_m", name="Old tee")
    by_name = FulfilProductFactory(code="Z-1", name="Crew neck T-shirt black M")
    FulfilProductFactory(code="MUG", name="Coffee mug")
    FulfilProductFactory(code="TSHIRT-BLK-M-X", name="Inactive", active=False)

    found = suggest_products(sku="TSHIRT-BLK-M", barcode="5012345678900", description="T-shirt black M crew")
    assert [s.target for s in found[:3]] == [exact, by_barcode, normalised]
    assert found[0].score == 100
    assert "exactly" in found[0].evidence[0]
    assert "barcode" in found[1].evidence[0]
    assert "normalised" in found[2].evidence[0]
    names = [s for s in found if s.target == by_name]
    assert names
    assert names[0].score < found[2].score
    assert "name similar" in names[0].evidence[0]
    assert all(s.target.code != "TSHIRT-BLK-M-X" for s in found)


def test_nothing_alike_gives_no_suggestions(db):
    FulfilProductFactory(code="MUG", name="Coffee mug")
    assert suggest_products(sku="ZZZ-999", description="Garden hose") == []


def test_warehouse_suggestions_use_code_and_fuzzy_store_name(db):
    oxford = FulfilWarehouseFactory(code="OXF", name="Oxford Street store")
    coded = FulfilWarehouseFactory(code="loc-9", name="Somewhere")
    FulfilWarehouseFactory(code="DC", name="Distribution centre")
    found = suggest_warehouses(pos_location_name="Oxford St", pos_location_id="loc-9")
    assert found[0].target == coded
    assert found[0].score == 100
    assert found[1].target == oxford
    assert 60 <= found[1].score < 95
    assert len(suggest_warehouses(pos_location_name="Oxford St", pos_location_id="", limit=1)) == 1
