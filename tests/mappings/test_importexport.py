import datetime as dt
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from accounts.models import AuditEntry
from mappings.importexport import export_csv, export_xlsx, import_apply, import_preview
from mappings.kinds import KINDS, LOCATION, SKU, TAX, TENDER
from mappings.models import LocationMap, SkuMap, TaxMap, TenderMap
from tests.factories import PosSourceFactory
from tests.map_factories import (
    FulfilChannelFactory,
    FulfilWarehouseFactory,
    LocationMapFactory,
    SkuMapFactory,
    TaxMapFactory,
    TenderMapFactory,
)

D = dt.date


@pytest.fixture
def every_map(db):
    shop, square = PosSourceFactory(code="shop"), PosSourceFactory(code="square")
    channel = FulfilChannelFactory(code="POS")
    LocationMapFactory(
        source=shop,
        pos_location_id="007",
        warehouse=FulfilWarehouseFactory(code="W-1"),
        effective_to=D(2026, 1, 31),
        channel=channel,
        storage_location_id=44,
    )
    LocationMapFactory(
        source=shop, pos_location_id="007", effective_from=D(2026, 2, 1), pos_location_name='Oxford, "Main"'
    )
    LocationMapFactory(source=shop, pos_location_id="007", register_id="till-2")
    LocationMapFactory(source=square, pos_location_id="L1", pos_location_name="=HYPERLINK(evil)")
    new = SkuMapFactory(source=shop, pos_key="NEW-1", effective_from=D(2026, 3, 1))
    SkuMapFactory(source=shop, pos_key="OLD-1", superseded_by=new, note="replaced in spring")
    SkuMapFactory(source=shop, key_type="barcode", pos_key="0501234567890")
    TaxMapFactory(source=shop, pos_tax_title="VAT", rate=Decimal("0.2"))
    TaxMapFactory(source=shop, pos_tax_title="VAT", rate=Decimal("0.05"), effective_from=D(2026, 1, 1))
    TenderMapFactory(source=shop, pos_tender="card")
    TenderMapFactory(source=square, pos_tender="CASH", effective_to=D(2027, 1, 1))


def _snapshot(kind):
    return export_csv(kind)


@pytest.mark.parametrize("slug", list(KINDS))
def test_export_import_export_round_trips_every_map_exactly(every_map, admin_user, slug):
    kind = KINDS[slug]
    exported = export_csv(kind)
    assert exported.count("\n") > 1
    # Re-importing into the same database changes nothing.
    again = import_preview(kind, exported)
    assert again.ok, [r.errors for r in again.error_rows]
    assert again.counts()["unchanged"] == exported.count("\n") - 1
    # Importing into an empty table recreates the same maps.
    if kind is SKU:
        SkuMap.objects.update(superseded_by=None)
    kind.model.objects.all().delete()
    result = import_apply(kind, exported, actor=admin_user)
    assert result.applied, result.as_dict()
    assert export_csv(kind) == exported
    assert AuditEntry.objects.filter(action=f"{kind.audit_name}.created").count() == exported.count("\n") - 1


def test_xlsx_export_holds_the_same_cells_as_the_csv(every_map):
    sheet = load_workbook(filename=__import__("io").BytesIO(export_xlsx(LOCATION))).active
    cells = [[c if c is not None else "" for c in row] for row in sheet.iter_rows(values_only=True)]
    assert cells[0][0] == "source"
    assert cells[1][:2] == ["shop", "007"]  # leading zeros kept as text


def test_a_file_with_errors_changes_nothing_and_names_every_bad_row(every_map, admin_user):
    before = {k: export_csv(kind) for k, kind in KINDS.items()}
    text = "\n".join(
        [
            "source,pos_location_id,register_id,pos_location_name,warehouse_code,storage_location_id,channel_code,effective_from,effective_to",
            "shop,new-store,,New,W-1,,,,",  # line 2: good
            "shop,bad-wh,,Bad,NOPE,,,,",  # line 3: unknown warehouse code
            "shop,new-store,,Again,W-1,,,,",  # line 4: duplicate key of line 2
            "shop,007,,Overlap,W-1,,,2026-01-15,",  # line 5: overlaps existing maps for 007
            "shop,dated,,Bad date,W-1,,,2026-13-45,",  # line 6: bad date
            "nosuch,x,,Unknown source,W-1,,,,",  # line 7: unknown source
            "shop,two,,A,W-1,,,2026-01-01,2026-06-30",  # line 8: good
            "shop,two,,B,W-1,,,2026-06-01,",  # line 9: overlaps line 8
        ]
    )
    result = import_apply(LOCATION, text, actor=admin_user)
    assert not result.applied
    errors = {r.line: " ".join(r.errors) for r in result.error_rows}
    assert set(errors) == {3, 4, 5, 6, 7, 9}
    assert "Unknown warehouse code 'NOPE'" in errors[3]
    assert "Duplicate key" in errors[4]
    assert "line 2" in errors[4]
    assert "overlap existing location map" in errors[5]
    assert "not a date" in errors[6]
    assert "Unknown POS source 'nosuch'" in errors[7]
    assert "overlap line 8" in errors[9]
    assert {k: export_csv(kind) for k, kind in KINDS.items()} == before
    assert not LocationMap.objects.filter(pos_location_id="new-store").exists()


def test_dry_run_previews_creates_and_updates_without_writing(every_map):
    header, card = export_csv(TENDER).splitlines()[:2]
    gateway_code = card.split(",")[2]
    text = "\n".join([header, f"shop,card,{gateway_code},,2026-12-31", f"shop,voucher,{gateway_code},,"])
    result = import_preview(TENDER, text)
    assert result.ok
    assert [r.action for r in result.rows] == ["update", "create"]
    assert TenderMap.objects.count() == 2
    assert not TenderMap.objects.filter(effective_to=D(2026, 12, 31)).exists()


def test_import_rejects_tax_rates_and_key_types_it_cannot_read(every_map):
    tax = import_preview(TAX, "source,pos_tax_title,rate,tax_fulfil_id\nshop,VAT,twenty,1\n")
    assert "not a number" in tax.rows[0].errors[0]
    sku = import_preview(SKU, "source,key_type,pos_key,product_code\nshop,upc,1,X\n")
    assert any("key_type 'upc'" in e for e in sku.rows[0].errors)
    assert any("Unknown product code 'X'" in e for e in sku.rows[0].errors)


def test_missing_columns_are_reported_for_the_whole_file(db):
    result = import_preview(TAX, "source,rate\nshop,0.2\n")
    assert not result.ok
    assert "pos_tax_title" in result.file_errors[0]


def test_updating_through_import_writes_history(every_map, admin_user):
    lines = export_csv(TAX).splitlines()
    index = next(i for i, line in enumerate(lines) if ",0.200000," in line)
    assert lines[index].endswith(",,")  # open-ended, since always
    lines[index] += "2027-12-31"
    text = "\n".join(lines)
    result = import_apply(TAX, text, actor=admin_user)
    assert result.applied
    assert result.counts()["update"] == 1
    assert TaxMap.objects.filter(effective_to=D(2027, 12, 31)).count() == 1
    assert AuditEntry.objects.filter(action="tax_map.updated", note="bulk import").count() == 1


def test_exports_never_carry_live_spreadsheet_formulas(every_map, admin_user):
    exported = export_csv(LOCATION)
    assert ",'=HYPERLINK(evil)," in exported
    sheet = load_workbook(filename=__import__("io").BytesIO(export_xlsx(LOCATION))).active
    cell = next(c for row in sheet.iter_rows() for c in row if c.value and "HYPERLINK" in str(c.value))
    assert cell.data_type == "s"
    LocationMap.objects.all().delete()
    import_apply(LOCATION, exported, actor=admin_user)
    assert LocationMap.objects.filter(pos_location_name="=HYPERLINK(evil)").exists()
