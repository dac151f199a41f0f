"""Bulk import and export of maps as CSV (export also as XLSX).

A file is checked whole before anything changes: every bad row is named with the reason, and only a
file with no errors is applied, in one database transaction (all or nothing). Rows are matched to
existing maps by their natural key (source, the POS key, effective_from): a matching row is updated,
a new one is created, rows absent from the file are left alone. An export re-imports unchanged.
"""

import copy
import csv
import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction

from integration.models import PosSource
from mappings.kinds import LOCATION, SKU, TAX, TENDER, MapKind
from mappings.models import FulfilChannel, FulfilGateway, FulfilProduct, FulfilTax, FulfilWarehouse, SkuMap
from mappings.services import map_create, map_snapshot, map_update

RATE_QUANTUM = Decimal("0.000001")

COLUMNS: dict[str, tuple[str, ...]] = {
    LOCATION.slug: (
        "source",
        "pos_location_id",
        "register_id",
        "pos_location_name",
        "warehouse_code",
        "storage_location_id",
        "channel_code",
        "effective_from",
        "effective_to",
    ),
    SKU.slug: (
        "source",
        "key_type",
        "pos_key",
        "product_code",
        "note",
        "superseded_by_key_type",
        "superseded_by_pos_key",
        "superseded_by_effective_from",
        "effective_from",
        "effective_to",
    ),
    TAX.slug: (
        "source",
        "pos_tax_title",
        "rate",
        "tax_fulfil_id",
        "tax_name",
        "effective_from",
        "effective_to",
    ),
    TENDER.slug: ("source", "pos_tender", "gateway_code", "effective_from", "effective_to"),
}
REQUIRED = {
    LOCATION.slug: ("source", "pos_location_id", "warehouse_code"),
    SKU.slug: ("source", "key_type", "pos_key", "product_code"),
    TAX.slug: ("source", "pos_tax_title", "rate", "tax_fulfil_id"),
    TENDER.slug: ("source", "pos_tender", "gateway_code"),
}


# --- Export -----------------------------------------------------------------------------------


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def _export_row(kind: MapKind, obj) -> list[str]:
    common = [obj.source.code]
    dates = [_date(obj.effective_from), _date(obj.effective_to)]
    if kind is LOCATION:
        return [
            *common,
            obj.pos_location_id,
            obj.register_id,
            obj.pos_location_name,
            obj.warehouse.code,
            "" if obj.storage_location_id is None else str(obj.storage_location_id),
            obj.channel.code if obj.channel else "",
            *dates,
        ]
    if kind is SKU:
        sup = obj.superseded_by
        return [
            *common,
            obj.key_type,
            obj.pos_key,
            obj.product.code,
            obj.note,
            sup.key_type if sup else "",
            sup.pos_key if sup else "",
            _date(sup.effective_from) if sup else "",
            *dates,
        ]
    if kind is TAX:
        return [*common, obj.pos_tax_title, str(obj.rate), str(obj.tax.fulfil_id), obj.tax.name, *dates]
    return [*common, obj.pos_tender, obj.gateway.code, *dates]


def export_queryset(kind: MapKind, queryset=None):
    qs = kind.model.objects.all() if queryset is None else queryset
    related = {LOCATION: ("warehouse", "channel"), SKU: ("product", "superseded_by"), TAX: ("tax",)}.get(
        kind, ("gateway",)
    )
    return qs.select_related("source", *related).order_by(
        "source__code", *[f for f in kind.key_fields if f != "source"], "effective_from", "id"
    )


def export_rows(kind: MapKind, queryset=None) -> list[list[str]]:
    return [list(COLUMNS[kind.slug])] + [_export_row(kind, obj) for obj in export_queryset(kind, queryset)]


# Store names and SKUs come from the tills. A cell starting with one of these would run as a formula
# when the CSV is opened in a spreadsheet, so the export prefixes it with an apostrophe (which
# spreadsheets hide) and the import takes the apostrophe off again: the round trip stays exact.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _defuse(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _restore(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_STARTS) else value


def export_csv(kind: MapKind, queryset=None) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in export_rows(kind, queryset):
        writer.writerow([_defuse(cell) for cell in row])
    return buffer.getvalue()


def export_xlsx(kind: MapKind, queryset=None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(kind.label)
    for row in export_rows(kind, queryset):
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"  # always text: "007" keeps its zeros and "=…" is never a formula
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- Import -----------------------------------------------------------------------------------


@dataclass
class RowPlan:
    line: int  # line number in the file (the header is line 1)
    raw: dict
    values: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    action: str = ""  # create, update, unchanged
    existing: object = None
    supersedes_ref: tuple | None = None  # (source_id, key_type, pos_key, effective_from)

    @property
    def natural_key(self) -> tuple:
        return self.values.get("_natural_key", ())


@dataclass
class ImportResult:
    kind: MapKind
    rows: list[RowPlan]
    file_errors: list[str] = field(default_factory=list)
    applied: bool = False

    @property
    def ok(self) -> bool:
        return not self.file_errors and not any(r.errors for r in self.rows)

    @property
    def error_rows(self) -> list[RowPlan]:
        return [r for r in self.rows if r.errors]

    def counts(self) -> dict[str, int]:
        counts = {"create": 0, "update": 0, "unchanged": 0, "errors": len(self.error_rows)}
        for row in self.rows:
            if not row.errors and row.action:
                counts[row.action] += 1
        return counts

    def as_dict(self) -> dict:
        return {
            "kind": self.kind.slug,
            "ok": self.ok,
            "applied": self.applied,
            "counts": self.counts(),
            "file_errors": self.file_errors,
            "rows": [
                {"line": r.line, "action": "" if r.errors else r.action, "errors": r.errors}
                for r in self.rows
            ],
        }


class _Catalog:
    """Lookups for one file, loaded once instead of one query per row."""

    def __init__(self):
        self.sources = {s.code: s for s in PosSource.objects.all()}
        self._cache: dict[str, dict] = {}

    def lookup(self, name: str, model, field_name: str, value: str):
        if name not in self._cache:
            index: dict = {}
            # Active records win over inactive ones with the same code.
            for obj in model.objects.order_by("active", "id"):
                index[str(getattr(obj, field_name))] = obj
            self._cache[name] = index
        return self._cache[name].get(value)


def _parse_date(row: RowPlan, column: str) -> dt.date | None:
    text = (row.raw.get(column) or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        row.errors.append(f"{column} '{text}' is not a date (use YYYY-MM-DD).")
        return None


def _ref(row: RowPlan, catalog: _Catalog, column: str, model, field_name: str, what: str, required=True):
    text = (row.raw.get(column) or "").strip()
    if not text:
        if required:
            row.errors.append(f"{column} is empty.")
        return None
    obj = catalog.lookup(column, model, field_name, text)
    if obj is None:
        row.errors.append(f"Unknown {what} '{text}' (not in the Fulfil catalog cache).")
    return obj


def _parse_row(kind: MapKind, row: RowPlan, catalog: _Catalog) -> None:
    raw = {k: _restore((v or "").strip()) for k, v in row.raw.items() if k}
    row.raw = raw
    for column in REQUIRED[kind.slug]:
        if not raw.get(column):
            row.errors.append(f"{column} is empty.")
    source = catalog.sources.get(raw.get("source", ""))
    if raw.get("source") and source is None:
        row.errors.append(f"Unknown POS source '{raw['source']}'.")
    values: dict = {"source": source}
    values["effective_from"] = _parse_date(row, "effective_from")
    values["effective_to"] = _parse_date(row, "effective_to")
    if (
        values["effective_from"]
        and values["effective_to"]
        and values["effective_to"] < values["effective_from"]
    ):
        row.errors.append("effective_to is before effective_from.")
    if kind is LOCATION:
        values.update(
            pos_location_id=raw.get("pos_location_id", ""),
            register_id=raw.get("register_id", ""),
            pos_location_name=raw.get("pos_location_name", ""),
            warehouse=_ref(row, catalog, "warehouse_code", FulfilWarehouse, "code", "warehouse code", False),
            channel=_ref(row, catalog, "channel_code", FulfilChannel, "code", "channel code", required=False),
            storage_location_id=None,
        )
        if raw.get("storage_location_id"):
            try:
                values["storage_location_id"] = int(raw["storage_location_id"])
            except ValueError:
                row.errors.append(f"storage_location_id '{raw['storage_location_id']}' is not a number.")
    elif kind is SKU:
        key_type = raw.get("key_type", "")
        if key_type and key_type not in SkuMap.KeyType.values:
            row.errors.append(f"key_type '{key_type}' must be one of {', '.join(SkuMap.KeyType.values)}.")
        values.update(
            key_type=key_type,
            pos_key=raw.get("pos_key", ""),
            note=raw.get("note", ""),
            product=_ref(row, catalog, "product_code", FulfilProduct, "code", "product code", False),
        )
        if raw.get("superseded_by_pos_key") and source is not None:
            sup_from = _parse_date(row, "superseded_by_effective_from")
            row.supersedes_ref = (
                source.pk,
                raw.get("superseded_by_key_type") or SkuMap.KeyType.SKU,
                raw["superseded_by_pos_key"],
                sup_from,
            )
    elif kind is TAX:
        rate = None
        try:
            rate = Decimal(raw.get("rate", "")).quantize(RATE_QUANTUM) if raw.get("rate") else None
            if rate is not None and not (Decimal(0) <= rate < Decimal(1000)):
                row.errors.append(f"rate '{raw['rate']}' is out of range (a fraction: 0.2 is 20 %).")
        except InvalidOperation:
            row.errors.append(f"rate '{raw.get('rate')}' is not a number.")
        values.update(
            pos_tax_title=raw.get("pos_tax_title", ""),
            rate=rate,
            tax=_ref(row, catalog, "tax_fulfil_id", FulfilTax, "fulfil_id", "Fulfil tax id", False),
        )
    else:
        values.update(
            pos_tender=raw.get("pos_tender", ""),
            gateway=_ref(row, catalog, "gateway_code", FulfilGateway, "code", "gateway code", False),
        )
    row.values = values


def _key_of(kind: MapKind, values: dict) -> tuple:
    return tuple(
        values["source"].pk if f == "source" and values.get("source") else values.get(f)
        for f in kind.key_fields
    )


def _ranges_overlap(a_from, a_to, b_from, b_to) -> bool:
    return (a_from is None or b_to is None or a_from <= b_to) and (
        b_from is None or a_to is None or b_from <= a_to
    )


def _check_keys_and_overlaps(kind: MapKind, rows: list[RowPlan]) -> None:
    first_seen: dict[tuple, int] = {}
    by_key: dict[tuple, list[RowPlan]] = defaultdict(list)
    for row in rows:
        if row.errors:
            continue
        natural = (*_key_of(kind, row.values), row.values["effective_from"])
        if natural in first_seen:
            row.errors.append(
                f"Duplicate key: the same map (key and start date) is on line {first_seen[natural]}."
            )
            continue
        first_seen[natural] = row.line
        by_key[_key_of(kind, row.values)].append(row)
    existing_by_key = _existing_maps(kind, by_key)
    for key, key_rows in by_key.items():
        existing = {obj.effective_from: obj for obj in existing_by_key.get(key, [])}
        for row in key_rows:
            row.existing = existing.pop(row.values["effective_from"], None)
        # The final state for this key: the file's rows plus the existing rows the file leaves alone.
        for i, row in enumerate(key_rows):
            start, end = row.values["effective_from"], row.values["effective_to"]
            for other in key_rows[:i]:
                if _ranges_overlap(start, end, other.values["effective_from"], other.values["effective_to"]):
                    row.errors.append(f"Dates overlap line {other.line} for the same key.")
            for obj in existing.values():
                if _ranges_overlap(start, end, obj.effective_from, obj.effective_to):
                    row.errors.append(
                        f"Dates overlap existing {kind.singular} #{obj.pk} "
                        f"({_date(obj.effective_from) or 'always'} to {_date(obj.effective_to) or 'open'})."
                    )


def _existing_maps(kind: MapKind, by_key: dict) -> dict[tuple, list]:
    """Every stored map sharing a key with the file, in a few queries rather than one per key."""
    # The most selective part of the key: location id, SKU, tax title, tender name.
    first_field = "pos_key" if kind is SKU else kind.key_fields[1]
    position = kind.key_fields.index(first_field)
    related = [f for f in kind.fields if kind.model._meta.get_field(f).is_relation]
    wanted = sorted({key[position] for key in by_key}, key=str)
    found: dict[tuple, list] = defaultdict(list)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        qs = kind.model.objects.select_related(*related).filter(
            source_id__in={key[0] for key in by_key}, **{f"{first_field}__in": chunk}
        )
        for obj in qs:
            key = tuple(obj.source_id if f == "source" else getattr(obj, f) for f in kind.key_fields)
            if key in by_key:
                found[key].append(obj)
    return found


def _resolve_supersession(rows: list[RowPlan]) -> None:
    in_file = {
        (r.values["source"].pk, r.values["key_type"], r.values["pos_key"], r.values["effective_from"]): r
        for r in rows
        if not r.errors
    }
    for row in rows:
        if row.errors or not row.supersedes_ref:
            continue
        source_id, key_type, pos_key, start = row.supersedes_ref
        if row.supersedes_ref in in_file:
            continue
        if not SkuMap.objects.filter(
            source_id=source_id, key_type=key_type, pos_key=pos_key, effective_from=start
        ).exists():
            row.errors.append(
                f"superseded_by {key_type} '{pos_key}' is neither in this file nor an existing map."
            )


def _model_values(kind: MapKind, row: RowPlan) -> dict:
    return {f: row.values[f] for f in kind.fields if f in row.values}


def _decide_actions(kind: MapKind, rows: list[RowPlan]) -> None:
    for row in rows:
        if row.errors:
            continue
        if row.existing is None:
            row.action = "create"
            continue
        probe = copy.copy(row.existing)  # compare without touching the row the apply step updates
        before = map_snapshot(probe)
        for name, value in _model_values(kind, row).items():
            setattr(probe, name, value)
        changed = map_snapshot(probe) != before
        if kind is SKU:
            current = row.existing.superseded_by
            current_ref = (
                (current.source_id, current.key_type, current.pos_key, current.effective_from)
                if current
                else None
            )
            changed = changed or current_ref != row.supersedes_ref
        row.action = "update" if changed else "unchanged"


def import_preview(kind: MapKind, text: str) -> ImportResult:
    """Check a file without changing anything: the dry run."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in REQUIRED[kind.slug] if c not in (reader.fieldnames or [])]
    if missing:
        return ImportResult(kind=kind, rows=[], file_errors=[f"Missing column(s): {', '.join(missing)}."])
    catalog = _Catalog()
    rows = []
    try:
        for raw in reader:
            row = RowPlan(line=reader.line_num, raw=raw)
            _parse_row(kind, row, catalog)
            rows.append(row)
    except csv.Error as exc:
        return ImportResult(kind=kind, rows=rows, file_errors=[f"Not a readable CSV file: {exc}."])
    if not rows:
        return ImportResult(kind=kind, rows=[], file_errors=["The file has no rows."])
    _check_keys_and_overlaps(kind, rows)
    if kind is SKU:
        _resolve_supersession(rows)
    _decide_actions(kind, rows)
    return ImportResult(kind=kind, rows=rows)


def import_apply(kind: MapKind, text: str, *, actor) -> ImportResult:
    """Check the file again and, only if every row is good, apply it in one transaction."""
    result = import_preview(kind, text)
    if not result.ok:
        return result
    with transaction.atomic():
        saved: dict[tuple, SkuMap] = {}
        for row in result.rows:
            values = _model_values(kind, row)
            values.pop("superseded_by", None)
            if row.action == "create":
                # Overlaps were checked for the file as a whole above; row-by-row checks could
                # trip over a neighbour that a later row of the same file moves.
                obj = map_create(
                    kind=kind,
                    actor=actor,
                    validate=False,
                    savepoint=False,
                    audit_note="bulk import",
                    **values,
                )
            elif row.action == "update":
                obj = map_update(
                    map_obj=row.existing,
                    actor=actor,
                    validate=False,
                    savepoint=False,
                    audit_note="bulk import",
                    **values,
                )
            else:
                obj = row.existing
            if kind is SKU:
                saved[(obj.source_id, obj.key_type, obj.pos_key, obj.effective_from)] = obj
        if kind is SKU:
            _apply_supersession(result.rows, saved, actor)
    result.applied = True
    return result


def _apply_supersession(rows: list[RowPlan], saved: dict, actor) -> None:
    for row in rows:
        obj = saved[
            (
                row.values["source"].pk,
                row.values["key_type"],
                row.values["pos_key"],
                row.values["effective_from"],
            )
        ]
        target = None
        if row.supersedes_ref:
            target = saved.get(row.supersedes_ref) or SkuMap.objects.get(
                source_id=row.supersedes_ref[0],
                key_type=row.supersedes_ref[1],
                pos_key=row.supersedes_ref[2],
                effective_from=row.supersedes_ref[3],
            )
        if obj.superseded_by_id != (target.pk if target else None):
            map_update(
                map_obj=obj, actor=actor, validate=False, audit_note="bulk import", superseded_by=target
            )
