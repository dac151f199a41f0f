"""Pull Fulfil's catalog into the local cache tables, incrementally.

Each model keeps a high-water mark (the latest write_date/create_date seen). A run asks Fulfil for
records changed since that mark minus an overlap (clocks and long transactions make "changed at"
arrive late), including archived ones (`active_test: false`), so a deactivation is a change like any
other. Records that vanish from Fulfil entirely are found by comparing the full id list and are
marked inactive locally — never deleted, because maps point at them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from integration.fulfil.client import FulfilClient, get_client
from integration.fulfil.errors import FulfilError
from mappings.codes import normalize_code
from mappings.models import (
    CatalogSyncRun,
    FulfilChannel,
    FulfilGateway,
    FulfilProduct,
    FulfilTax,
    FulfilWarehouse,
)

logger = logging.getLogger("mappings.catalog")

OVERLAP = dt.timedelta(minutes=5)
MAX_CHANGES_KEPT = 200
PAGE = 500


def _decimal(value: Any, places: str) -> Decimal | None:
    return Decimal(str(value)).quantize(Decimal(places)) if value is not None else None


@dataclass(frozen=True)
class CatalogModel:
    key: str  # what the page calls it
    label: str
    fulfil_model: str
    domain: list
    fields: list[str]
    local: type
    to_local: Callable[[dict], dict]


CATALOG: dict[str, CatalogModel] = {
    m.key: m
    for m in [
        CatalogModel(
            "warehouses",
            "Warehouses and stock locations",
            "stock.location",
            [["type", "=", "warehouse"]],
            ["code", "name", "storage_location", "input_location", "output_location"],
            FulfilWarehouse,
            lambda r: {
                "code": r.get("code") or "",
                "name": r.get("name") or "",
                "storage_location_id": r.get("storage_location"),
                "input_location_id": r.get("input_location"),
                "output_location_id": r.get("output_location"),
            },
        ),
        CatalogModel(
            "products",
            "Products",
            "product.product",
            [],
            ["code", "name", "variant_name", "barcode", "upc", "list_price"],
            FulfilProduct,
            lambda r: {
                "code": r.get("code") or "",
                "normalized_code": normalize_code(r.get("code"))[:120],
                "name": (r.get("name") or "")[:255],
                "variant_name": (r.get("variant_name") or "")[:200],
                "barcode": (r.get("barcode") or r.get("upc") or "")[:64],
                "list_price": _decimal(r.get("list_price"), "0.0001"),
            },
        ),
        CatalogModel(
            "taxes",
            "Taxes",
            "account.tax",
            [],
            ["name", "description", "type", "rate"],
            FulfilTax,
            lambda r: {
                "name": (r.get("name") or "")[:120],
                "description": (r.get("description") or "")[:200],
                "type": r.get("type") or "",
                "rate": _decimal(r.get("rate"), "0.000001"),
            },
        ),
        CatalogModel(
            "channels",
            "Sales channels",
            "sale.channel",
            [],
            ["code", "name", "source", "warehouse"],
            FulfilChannel,
            lambda r: {
                "code": r.get("code") or "",
                "name": r.get("name") or "",
                "source": r.get("source") or "",
                "warehouse_id": r.get("warehouse"),
            },
        ),
        CatalogModel(
            "gateways",
            "Payment gateways",
            "payment_gateway.gateway",
            [],
            ["code", "name", "method"],
            FulfilGateway,
            lambda r: {
                "code": r.get("code") or "",
                "name": r.get("name") or "",
                "method": r.get("method") or "",
            },
        ),
    ]
}


def catalog_sync(
    *, client: FulfilClient | None = None, models: list[str] | None = None
) -> list[CatalogSyncRun]:
    """Sync each catalog model (all by default): one run each; failures are recorded, not raised."""
    unknown = set(models or []) - set(CATALOG)
    if unknown:
        raise ValueError(f"Unknown catalog models: {', '.join(sorted(unknown))}")
    own_client = client is None
    client = client or get_client()
    try:
        return [_sync_one(client, CATALOG[key]) for key in (models or list(CATALOG))]
    finally:
        if own_client:
            client.close()


def _last_cursor(key: str) -> str:
    run = (
        CatalogSyncRun.objects.filter(model=key, error="", finished_at__isnull=False)
        .exclude(cursor="")
        .first()
    )
    return run.cursor if run else ""


def _sync_one(client: FulfilClient, spec: CatalogModel) -> CatalogSyncRun:
    cursor = _last_cursor(spec.key)
    run = CatalogSyncRun.objects.create(model=spec.key, full=not cursor)
    domain = list(spec.domain)
    if cursor:
        since = dt.datetime.fromisoformat(cursor) - OVERLAP
        domain.append(["OR", ["write_date", ">=", since], ["create_date", ">=", since]])
    context = {"active_test": False}
    fields = [*spec.fields, "active", "write_date", "create_date"]
    high_water = dt.datetime.fromisoformat(cursor) if cursor else None
    changes: list[dict] = []
    try:
        batch: list[dict] = []
        for row in client.search_read_all(spec.fulfil_model, domain, fields, context=context, page_size=PAGE):
            batch.append(row)
            stamp = row.get("write_date") or row.get("create_date")
            if stamp and (high_water is None or stamp > high_water):
                high_water = stamp
            if len(batch) >= PAGE:
                _apply(spec, batch, run, changes)
                batch = []
        _apply(spec, batch, run, changes)
        live_ids = set(client.search(spec.fulfil_model, spec.domain, context=context))
        _deactivate_missing(spec, live_ids, run, changes)
    except FulfilError as exc:
        run.error = f"{type(exc).__name__}: {exc.message}"
        logger.warning("catalog sync of %s failed: %s", spec.key, run.error)
    run.changes = changes[:MAX_CHANGES_KEPT]
    run.cursor = high_water.isoformat() if high_water and not run.error else ""
    run.finished_at = timezone.now()
    run.save()
    return run


def _apply(spec: CatalogModel, rows: list[dict], run: CatalogSyncRun, changes: list[dict]) -> None:
    if not rows:
        return
    run.fetched += len(rows)
    existing = {
        obj.fulfil_id: obj for obj in spec.local.objects.filter(fulfil_id__in=[r["id"] for r in rows])
    }
    to_create, to_update = [], []
    for row in rows:
        values = spec.to_local(row)
        values["active"] = bool(row.get("active", True))
        values["fulfil_write_date"] = row.get("write_date") or row.get("create_date")
        obj = existing.get(row["id"])
        if obj is None:
            to_create.append(spec.local(fulfil_id=row["id"], **values))
            run.created += 1
            changes.append(_change(row["id"], values, "created", {}))
            continue
        diff = {
            name: [_plain(getattr(obj, name)), _plain(value)]
            for name, value in values.items()
            if name != "fulfil_write_date" and getattr(obj, name) != value
        }
        if not diff:
            continue
        for name, value in values.items():
            setattr(obj, name, value)
        to_update.append(obj)
        kind = "deactivated" if diff.get("active") == [True, False] else "updated"
        if kind == "deactivated":
            run.deactivated += 1
        else:
            run.updated += 1
        changes.append(_change(row["id"], values, kind, diff))
    with transaction.atomic():
        spec.local.objects.bulk_create(to_create)
        if to_update:
            names = [*spec.to_local({}).keys(), "active", "fulfil_write_date", "synced_at"]
            now = timezone.now()
            for obj in to_update:
                obj.synced_at = now
            spec.local.objects.bulk_update(to_update, names)


def _deactivate_missing(
    spec: CatalogModel, live_ids: set[int], run: CatalogSyncRun, changes: list[dict]
) -> None:
    gone = spec.local.objects.filter(active=True).exclude(fulfil_id__in=live_ids)
    for obj in gone:
        changes.append(
            _change(
                obj.fulfil_id,
                {"code": getattr(obj, "code", ""), "name": obj.name},
                "deactivated",
                {"active": [True, False], "note": "no longer in Fulfil"},
            )
        )
    run.deactivated += gone.update(active=False, synced_at=timezone.now())


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def _change(fulfil_id: int, values: dict, kind: str, diff: dict) -> dict:
    return {
        "fulfil_id": fulfil_id,
        "code": values.get("code", ""),
        "name": values.get("name", ""),
        "change": kind,
        "fields": diff,
    }
