"""The sandbox's record store: search, read, create, write, delete over SandboxRecord documents.

An `Env` lives for one API call: it caches decoded records, knows the call's context (locations,
active_test) and the fault knobs (tax rounding, refused product codes).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from integration.fulfil import encoding
from integration.sandbox import domain as domains
from integration.sandbox.errors import SandboxBadRequest, SandboxNotFound, SandboxUserError
from integration.sandbox.models import SandboxFaults, SandboxRecord, SandboxStock
from integration.sandbox.rules import SaleRules, duplicate_message
from integration.sandbox.schema import MODELS, get_field

MAX_LIMIT = 500


class Env(SaleRules):
    def __init__(self, context: dict | None = None, faults: SandboxFaults | None = None) -> None:
        self.context = context or {}
        self.faults = faults or SandboxFaults.objects.filter(pk=1).first() or SandboxFaults()
        self._cache: dict[tuple[str, int], dict] = {}
        self._quantities: dict[int, Decimal] | None = None

    # --- loading --------------------------------------------------------------------------------

    def model(self, name: str):
        try:
            return MODELS[name]
        except KeyError:
            raise SandboxNotFound(f"Model {name!r} does not exist") from None

    def _decode(self, row: SandboxRecord) -> dict:
        record = {k: encoding.from_wire(v) for k, v in row.data.items()}
        record.update(id=row.pk, create_date=row.create_date, write_date=row.write_date)
        if "active" in MODELS[row.model].fields:
            record["active"] = row.active
        return record

    def _remember(self, rows: Iterable[SandboxRecord]) -> list[dict]:
        out = []
        for row in rows:
            record = self._decode(row)
            self._cache[(row.model, row.pk)] = record
            out.append(record)
        return out

    def get(self, model: str, rid: int) -> dict:
        key = (model, rid)
        if key not in self._cache:
            row = SandboxRecord.objects.filter(model=model, pk=rid).first()
            if row is None:
                raise SandboxUserError(f'The record "{model},{rid}" does not exist.')
            self._remember([row])
        return self._cache[key]

    def browse(self, model: str, ids: Iterable[int]) -> list[dict]:
        ids = [int(i) for i in ids]
        missing = [i for i in ids if (model, i) not in self._cache]
        if missing:
            self._remember(SandboxRecord.objects.filter(model=model, pk__in=missing))
        absent = [i for i in ids if (model, i) not in self._cache]
        if absent:
            raise SandboxUserError(f'The records "{model}" {absent} do not exist (deleted?).')
        return [self._cache[(model, i)] for i in ids]

    def children(self, model: str, parent_ids: Iterable[int]) -> list[dict]:
        rows = SandboxRecord.objects.filter(model=model, parent_id__in=list(parent_ids)).order_by("pk")
        return self._remember(rows)

    def forget(self, model: str, ids: Iterable[int]) -> None:
        for rid in ids:
            self._cache.pop((model, rid), None)

    # --- paths and relations --------------------------------------------------------------------

    def related(self, model: str, record: dict, path: str) -> tuple[str, list[int]]:
        """The model and ids that `path` (possibly dotted) reaches from `record`."""
        current_model, ids = model, [record["id"]]
        for name in path.split("."):
            fld = self._field(current_model, name)
            if not fld.relation:
                raise SandboxBadRequest(f"Field {name!r} of {current_model} is not a relation")
            next_ids: list[int] = []
            for rec in self.browse(current_model, ids):
                value = self.field_value(current_model, rec, name)
                if isinstance(value, list):
                    next_ids.extend(value)
                elif value:
                    next_ids.append(value)
            current_model, ids = fld.relation, next_ids
        return current_model, ids

    def path_value(self, model: str, record: dict, path: str) -> Any:
        if "." not in path:
            self._field(model, path)
            return self.field_value(model, record, path)
        head, rest = path.split(".", 1)
        related_model, ids = self.related(model, record, head)
        fld = self._field(model, head)
        values = [self.path_value(related_model, rec, rest) for rec in self.browse(related_model, ids)]
        if fld.type == "many2one":
            return values[0] if values else None
        return values

    def _field(self, model: str, name: str):
        fld = get_field(model, name)
        if fld is None:
            raise SandboxBadRequest(f"Model {model!r} has no field {name!r}")
        return fld

    def descendants(self, model: str, roots: list[int], parent_field: str) -> set[int]:
        seen, frontier = set(roots), list(roots)
        while frontier:
            rows = SandboxRecord.objects.filter(model=model, parent_id__in=frontier).values_list(
                "pk", flat=True
            )
            frontier = [pk for pk in rows if pk not in seen]
            seen.update(frontier)
        return seen

    def ancestors(self, model: str, roots: list[int], parent_field: str) -> set[int]:
        seen = set()
        for rid in roots:
            while rid and rid not in seen:
                seen.add(rid)
                rid = self.get(model, rid).get(parent_field)
        return seen

    # --- computed values ------------------------------------------------------------------------

    def field_value(self, model: str, record: dict, name: str) -> Any:
        fld = self._field(model, name)
        if name == "rec_name":
            return self.rec_name(model, record)
        if fld.type == "one2many" and not fld.computed:
            return [r["id"] for r in self.children(fld.relation, [record["id"]])]
        if fld.computed:
            return self._computed(model, record, name)
        value = record.get(name, fld.default)
        if fld.type == "many2many":
            return list(value or [])
        if fld.type == "numeric" and value is not None and not isinstance(value, Decimal):
            return Decimal(str(value))
        return value

    def rec_name(self, model: str, record: dict) -> str:
        if model == "product.product":
            return f"[{record.get('code', '')}] {record.get('name', '')}"
        key = MODELS[model].rec_name
        return str(record.get(key) or record.get("name") or record["id"])

    def _computed(self, model: str, record: dict, name: str) -> Any:
        if name in ("create_date", "write_date"):
            return record[name]
        if model == "product.product":
            if self._quantities is None or record["id"] not in self._quantities:
                self._quantities = self.quantities([record["id"]], self.context.get("locations"))
            return float(self._quantities.get(record["id"], Decimal("0")))
        if model == "sale.sale" and name in ("untaxed_amount", "tax_amount", "total_amount"):
            return self.sale_amounts(record)[name]
        if model == "sale.sale" and name == "moves":
            lines = self.children("sale.line", [record["id"]])
            return [m["id"] for m in self.children("stock.move", [line["id"] for line in lines])]
        if model == "sale.line" and name == "amount":
            return self.line_amount(record)
        if model == "sale.line" and name == "moves":
            return [m["id"] for m in self.children("stock.move", [record["id"]])]
        raise SandboxBadRequest(f"Field {name!r} of {model} cannot be computed")  # pragma: no cover

    def quantities(self, product_ids: list[int], location_ids: list[int] | None) -> dict[int, Decimal]:
        """On-hand quantity per product over the given locations and everything below them."""
        if location_ids:
            locations = self.descendants("stock.location", [int(i) for i in location_ids], "parent")
        else:
            warehouses = SandboxRecord.objects.filter(model="stock.location", data__type="warehouse")
            locations = self.descendants(
                "stock.location", list(warehouses.values_list("pk", flat=True)), "parent"
            )
        rows = (
            SandboxStock.objects.filter(product_id__in=product_ids, location_id__in=locations)
            .values("product_id")
            .annotate(total=Sum("quantity"))
        )
        return {row["product_id"]: row["total"] for row in rows}

    # --- search and read ------------------------------------------------------------------------

    def search(
        self,
        model: str,
        domain: list | None,
        offset: int | None = None,
        limit: int | None = None,
        order: list | None = None,
    ) -> list[int]:
        records = self._filtered(model, domain or [])
        records = self._sorted(model, records, order)
        offset = int(offset or 0)
        if limit is not None:
            if int(limit) > MAX_LIMIT:
                raise SandboxUserError(f"Page size cannot exceed {MAX_LIMIT} records (asked for {limit}).")
            records = records[offset : offset + int(limit)]
        else:
            records = records[offset:]
        return [r["id"] for r in records]

    def _filtered(self, model: str, domain: list) -> list[dict]:
        meta = self.model(model)
        if not isinstance(domain, list):
            raise SandboxBadRequest("A domain is a list of clauses")
        rows = SandboxRecord.objects.filter(model=model)
        if (
            "active" in meta.fields
            and self.context.get("active_test", True)
            and not _mentions(domain, "active")
        ):
            rows = rows.filter(active=True)
        rows = _prefilter(meta, rows, domain)
        candidates = self._remember(rows.order_by("pk"))
        return [r for r in candidates if domains.matches(self, model, r, domain)]

    def _sorted(self, model: str, records: list[dict], order: list | None) -> list[dict]:
        for name, direction in reversed(order or []):
            descending = str(direction).upper().startswith("DESC")

            def key(rec, name=name):
                value = self.path_value(model, rec, name)
                return (value is None, value if value is not None else 0)

            present = [r for r in records if self.path_value(model, r, name) is not None]
            absent = [r for r in records if self.path_value(model, r, name) is None]
            present.sort(key=key, reverse=descending)
            records = present + absent
        return records

    def read(self, model: str, ids: list[int], fields: list[str] | None) -> list[dict]:
        meta = self.model(model)
        if not fields:
            fields = [n for n, f in meta.fields.items() if not (f.computed and f.type == "one2many")]
            fields.append("rec_name")
        if model == "product.product" and {"quantity_on_hand", "quantity_available"} & set(fields):
            # One query for every product read, not one per product.
            found = self.quantities(list(ids), self.context.get("locations"))
            self._quantities = {pid: found.get(pid, Decimal("0")) for pid in ids}
        out = []
        for record in self.browse(model, ids):
            row = {"id": record["id"]}
            for name in fields:
                row[name] = self.path_value(model, record, name)
            out.append(row)
        return out

    # --- create / write / delete ----------------------------------------------------------------

    def create(self, model: str, vals_list: list[dict]) -> list[int]:
        if not isinstance(vals_list, list) or not all(isinstance(v, dict) for v in vals_list):
            raise SandboxBadRequest("create takes one argument: a list of value dictionaries")
        return [self._create_one(model, vals) for vals in vals_list]

    def _create_one(self, model: str, vals: dict, *, parent: tuple[str, int] | None = None) -> int:
        meta = self.model(model)
        vals = dict(vals)
        if parent:
            vals[parent[0]] = parent[1]
        data: dict[str, Any] = {}
        for name, fld in meta.fields.items():
            if fld.default is not None and name not in vals and not fld.computed:
                data[name] = Decimal(fld.default) if fld.type == "numeric" else fld.default
        nested = self._apply_values(model, data, vals, creating=True)
        for name, fld in meta.fields.items():
            if fld.required and data.get(name) in (None, ""):
                raise SandboxUserError(f'A value is required for field "{name}" in "{model}".')
        self._check_create(model, data)
        now = timezone.now()
        row = SandboxRecord(model=model, create_date=now, write_date=now)
        self._store(meta, row, data)
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:
            raise SandboxUserError(duplicate_message(model, data.get("channel_identifier"))) from None
        self._remember([row])
        for name, actions in nested:
            self._one2many(model, row.pk, name, actions)
        return row.pk

    def _store(self, meta, row: SandboxRecord, data: dict) -> None:
        row.data = {k: encoding.to_wire(v) for k, v in data.items() if k != "active"}
        row.active = bool(data.get("active", True))
        row.code = str(data.get(meta.code_field) or "")[:120] if meta.code_field else ""
        if meta.parent_field:
            row.parent_id = data.get(meta.parent_field)
        if meta.name == "stock.move" and str(data.get("origin") or "").startswith("sale.line,"):
            row.parent_id = int(str(data["origin"]).split(",")[1])
        if meta.unique_channel_identifier:
            row.channel_identifier = data.get("channel_identifier") or None

    def _apply_values(self, model: str, data: dict, vals: dict, *, creating: bool) -> list:
        """Copy `vals` into `data`, checking each field; returns One2Many actions to run afterwards."""
        meta = self.model(model)
        nested = []
        for name, value in vals.items():
            fld = meta.fields.get(name)
            if fld is None or fld.computed or name == "id":
                raise SandboxBadRequest(f'Field "{name}" of "{model}" does not exist or is read-only.')
            if fld.type == "one2many":
                nested.append((name, value))
            elif fld.type == "many2many":
                data[name] = self._many2many(fld.relation, data.get(name) or [], value)
            elif fld.type == "many2one":
                if value not in (None, False):
                    self.get(fld.relation, int(value))
                data[name] = int(value) if value not in (None, False) else None
            elif fld.type == "numeric":
                data[name] = Decimal(str(value)) if value is not None else None
            elif fld.type == "float":
                data[name] = float(value) if value is not None else None
            elif fld.type == "date" and isinstance(value, str):
                data[name] = dt.date.fromisoformat(value)
            else:
                data[name] = value
        return nested

    def _many2many(self, relation: str, current: list[int], value: Any) -> list[int]:
        ids = list(current)
        if value and all(isinstance(v, int) for v in value):  # a plain list of ids replaces
            self.browse(relation, value)
            return list(value)
        for action in value or []:
            kind = action[0]
            if kind in ("add", "set"):
                self.browse(relation, action[1])
                ids = (ids if kind == "add" else []) + [i for i in action[1] if i not in ids or kind == "set"]
            elif kind in ("remove", "unlink", "delete"):
                ids = [i for i in ids if i not in action[1]]
            else:
                raise SandboxBadRequest(f"Unknown Many2Many action {kind!r}")
        return ids

    def _one2many(self, model: str, rid: int, name: str, actions: list) -> None:
        fld = MODELS[model].fields[name]
        if not isinstance(actions, list):
            raise SandboxBadRequest(f'"{name}" takes a list of actions such as ["create", [{{…}}]]')
        for action in actions:
            kind = action[0]
            if kind == "create":
                for vals in action[1]:
                    self._create_one(fld.relation, vals, parent=(fld.reverse, rid))
            elif kind == "write":
                pairs = action[1:]
                for i in range(0, len(pairs), 2):
                    self.write(fld.relation, pairs[i], pairs[i + 1])
            elif kind == "delete":
                self.delete(fld.relation, action[1])
            elif kind == "add":
                self.write(fld.relation, action[1], {fld.reverse: rid})
            elif kind == "remove":
                self.write(fld.relation, action[1], {fld.reverse: None})
            elif kind == "copy":
                for source in self.read(fld.relation, action[1], None):
                    defaults = action[2] if len(action) > 2 else {}
                    copy = {k: v for k, v in source.items() if _copyable(fld.relation, k)}
                    copy.update(defaults)
                    self._create_one(fld.relation, copy, parent=(fld.reverse, rid))
            else:
                raise SandboxBadRequest(f"Unknown One2Many action {kind!r}")

    def write(self, model: str, ids: list[int], vals: dict) -> None:
        meta = self.model(model)
        for record in self.browse(model, ids):
            self._check_write(model, record, vals)
            data = {k: v for k, v in record.items() if k not in ("id", "create_date", "write_date")}
            nested = self._apply_values(model, data, vals, creating=False)
            row = SandboxRecord.objects.get(pk=record["id"])
            self._store(meta, row, data)
            row.write_date = timezone.now()
            try:
                with transaction.atomic():
                    row.save()
            except IntegrityError:
                raise SandboxUserError(duplicate_message(model, data.get("channel_identifier"))) from None
            self.forget(model, [row.pk])
            self._remember([row])
            for name, actions in nested:
                self._one2many(model, row.pk, name, actions)
            if model == "sale.line":
                self._touch("sale.sale", record.get("sale"))

    def _touch(self, model: str, rid: int | None) -> None:
        if rid:
            SandboxRecord.objects.filter(pk=rid).update(write_date=timezone.now())
            self.forget(model, [rid])

    def delete(self, model: str, ids: list[int]) -> None:
        meta = self.model(model)
        for record in self.browse(model, ids):
            if model == "sale.sale" and record.get("state") not in ("draft", "cancel"):
                raise SandboxUserError(
                    f'Sale "{self.rec_name(model, record)}" must be cancelled before deletion.'
                )
            if model == "sale.line":
                self._require_draft_sale(record.get("sale"))
            for fld in meta.fields.values():
                if fld.type == "one2many" and not fld.computed:
                    child_ids = [c["id"] for c in self.children(fld.relation, [record["id"]])]
                    if child_ids:
                        self.delete(fld.relation, child_ids)
        SandboxRecord.objects.filter(model=model, pk__in=list(ids)).delete()
        self.forget(model, ids)


def _copyable(model: str, name: str) -> bool:
    fld = get_field(model, name)
    return (
        bool(fld) and not fld.computed and name not in ("id", "channel_identifier") and fld.type != "one2many"
    )


def _mentions(domain: Any, name: str) -> bool:
    if isinstance(domain, list):
        if domains.is_clause(domain):
            return domain[0] == name
        return any(_mentions(item, name) for item in domain)
    return False


_COLUMN_OPS = {"=": "", "in": "__in"}


def _prefilter(meta, rows, domain: list):
    """Push top-level AND clauses on indexed columns into SQL; the rest is evaluated in Python."""
    if domain and isinstance(domain[0], str) and domain[0] == "OR":
        return rows
    items = [domain] if domains.is_clause(domain) else domain
    if items and items[0] == "AND":
        items = items[1:]
    columns = {"id": "pk"}
    if meta.code_field:
        columns[meta.code_field] = "code"
    if meta.parent_field:
        columns[meta.parent_field] = "parent_id"
    if meta.unique_channel_identifier:
        columns["channel_identifier"] = "channel_identifier"
    for item in items:
        if not domains.is_clause(item) or item[0] not in columns or item[1] not in _COLUMN_OPS:
            continue
        value = item[2]
        if item[1] == "in" and not isinstance(value, list):
            continue
        if item[1] == "=" and value in (None, False, ""):
            continue
        if columns[item[0]] == "code" and (item[1] == "in" and any(len(str(v)) > 120 for v in value)):
            continue
        rows = rows.filter(**{columns[item[0]] + _COLUMN_OPS[item[1]]: value})
    return rows
