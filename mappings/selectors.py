"""Which map applies to a POS thing on a given business date.

Effective dating: a map applies on `day` when effective_from ≤ day ≤ effective_to (empty ends are
open). A register-level location map overrides its store's map.
"""

import datetime as dt

from django.db.models import Q, QuerySet

from integration.models import PosSource
from mappings.models import FulfilProduct, LocationMap, SkuMap, TaxMap, TenderMap


def _effective_on(qs: QuerySet, day: dt.date) -> QuerySet:
    return qs.filter(Q(effective_from__isnull=True) | Q(effective_from__lte=day)).filter(
        Q(effective_to__isnull=True) | Q(effective_to__gte=day)
    )


def location_map_for(
    *, source: PosSource, pos_location_id: str, register_id: str = "", day: dt.date
) -> LocationMap | None:
    qs = _effective_on(
        LocationMap.objects.select_related("warehouse", "channel").filter(
            source=source, pos_location_id=pos_location_id
        ),
        day,
    )
    if register_id:
        till = qs.filter(register_id=register_id).order_by("-effective_from").first()
        if till:
            return till
    return qs.filter(register_id="").order_by("-effective_from").first()


def sku_map_for(
    *, source: PosSource, sku: str = "", variant_ref: str = "", barcode: str = "", day: dt.date
) -> SkuMap | None:
    """The map for a line, trying SKU, then variant id, then barcode; follows supersession."""
    keys = [
        (SkuMap.KeyType.SKU, sku),
        (SkuMap.KeyType.VARIANT, variant_ref),
        (SkuMap.KeyType.BARCODE, barcode),
    ]
    base = _effective_on(SkuMap.objects.select_related("product").filter(source=source), day)
    for key_type, key in keys:
        if not key:
            continue
        found = base.filter(key_type=key_type, pos_key=key).order_by("-effective_from").first()
        if found:
            seen = {found.pk}
            while found.superseded_by_id and found.superseded_by_id not in seen:
                found = SkuMap.objects.select_related("product").get(pk=found.superseded_by_id)
                seen.add(found.pk)
            return found
    return None


def catalog_product_exact(*, sku: str = "", barcode: str = "") -> FulfilProduct | None:
    """An exact match in the cached Fulfil catalog by code, then by barcode (any active state)."""
    if sku:
        product = FulfilProduct.objects.filter(code=sku).order_by("-active").first()
        if product:
            return product
    if barcode:
        return FulfilProduct.objects.filter(barcode=barcode).order_by("-active").first()
    return None


def tax_map_for(*, source: PosSource, title: str, rate, day: dt.date) -> TaxMap | None:
    return (
        _effective_on(
            TaxMap.objects.select_related("tax").filter(source=source, pos_tax_title=title, rate=rate), day
        )
        .order_by("-effective_from")
        .first()
    )


def tender_map_for(*, source: PosSource, pos_tender: str, day: dt.date) -> TenderMap | None:
    return (
        _effective_on(
            TenderMap.objects.select_related("gateway").filter(source=source, pos_tender=pos_tender), day
        )
        .order_by("-effective_from")
        .first()
    )


# --- Fulfil catalog cache: when each model last synced and what changed ----------------------------


def catalog_sync_summary() -> list[dict]:
    """One row per catalog model: its latest run, latest successful run and what the cache holds."""
    from django.db.models import Count
    from django.db.models import Q as _Q

    from mappings.catalog_sync import CATALOG
    from mappings.models import CatalogSyncRun

    rows = []
    for key, spec in CATALOG.items():
        runs = CatalogSyncRun.objects.filter(model=key)
        counts = spec.local.objects.aggregate(total=Count("pk"), active=Count("pk", filter=_Q(active=True)))
        rows.append(
            {
                "key": key,
                "label": spec.label,
                "latest": runs.first(),
                "last_success": runs.filter(error="", finished_at__isnull=False).first(),
                "cached": counts["total"],
                "active": counts["active"],
            }
        )
    return rows


def catalog_sync_runs(*, model: str = "", failed_only: bool = False) -> QuerySet:
    from mappings.models import CatalogSyncRun

    runs = CatalogSyncRun.objects.defer("changes")
    if model:
        runs = runs.filter(model=model)
    if failed_only:
        runs = runs.exclude(error="")
    return runs
