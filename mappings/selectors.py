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


# --- Map administration: history, release candidates ---------------------------------------


def map_history(*, map_obj) -> QuerySet:
    """Every audit entry about this map, newest first."""
    from accounts.models import AuditEntry

    return AuditEntry.objects.filter(
        object_type=map_obj._meta.label_lower, object_id=str(map_obj.pk)
    ).select_related("actor")


def map_posted_count(*, map_obj) -> int | None:
    """How many transactions were posted under this map, where that is cheap to know.

    The engine records `posted_with = {"location_map": <id>, "sku_maps": [...], ...}`; a key lookup on
    the location map works on every database, list membership does not, so only location maps
    answer (None means "not counted").
    """
    from integration.models import PosTransaction

    if isinstance(map_obj, LocationMap):
        return PosTransaction.objects.filter(posted_with__location_map=map_obj.pk).count()
    return None


def _in_range(qs: QuerySet, map_obj, field: str = "business_date") -> QuerySet:
    if map_obj.effective_from:
        qs = qs.filter(**{f"{field}__gte": map_obj.effective_from})
    if map_obj.effective_to:
        qs = qs.filter(**{f"{field}__lte": map_obj.effective_to})
    return qs


def map_release_candidates(*, map_obj) -> QuerySet:
    """Blocked transactions that this map could release.

    They are the transactions with an open occurrence in the root-cause group this map fixes (an
    unmapped location for the store, a SKU mismatch for the key) whose business date falls inside
    the map's effective range. A register-level location map only releases that till's sales.
    Tax and tender maps have no root-cause group of their own yet, so they release nothing.
    """
    from exceptions.models import ExceptionOccurrence, ExceptionType
    from exceptions.services import exception_fingerprint
    from integration.models import PosTransaction, TransactionState

    code = map_obj.source.code
    if isinstance(map_obj, LocationMap):
        fingerprint = exception_fingerprint(ExceptionType.UNMAPPED_LOCATION, code, map_obj.pos_location_id)
        occurrences = ExceptionOccurrence.objects.filter(group__fingerprint=fingerprint, is_open=True)
        txns = PosTransaction.objects.filter(source=map_obj.source, pos_location_id=map_obj.pos_location_id)
        if map_obj.register_id:
            txns = txns.filter(register_id=map_obj.register_id)
    elif isinstance(map_obj, SkuMap):
        occurrences = ExceptionOccurrence.objects.filter(
            group__type=ExceptionType.SKU_MISMATCH, group__source=map_obj.source, is_open=True
        )
        # A bulk import saves thousands of SKU maps; most sources have no open SKU problem at all,
        # and this one cheap question spares the join on transaction lines for each of them.
        if not occurrences.exists():
            return PosTransaction.objects.none()
        line_field = {
            SkuMap.KeyType.SKU: "sku",
            SkuMap.KeyType.VARIANT: "variant_ref",
            SkuMap.KeyType.BARCODE: "barcode",
        }[map_obj.key_type]
        if map_obj.key_type == SkuMap.KeyType.SKU:
            fingerprint = exception_fingerprint(ExceptionType.SKU_MISMATCH, code, map_obj.pos_key)
            occurrences = occurrences.filter(
                Q(group__fingerprint=fingerprint) | Q(transaction__lines__sku=map_obj.pos_key)
            )
        else:
            occurrences = occurrences.filter(**{f"transaction__lines__{line_field}": map_obj.pos_key})
        txns = PosTransaction.objects.filter(source=map_obj.source)
    else:
        return PosTransaction.objects.none()
    txns = txns.filter(state=TransactionState.BLOCKED, id__in=occurrences.values("transaction_id"))
    return _in_range(txns, map_obj).order_by("id")


def audit_changes(entry) -> list[tuple[str, object, object]]:
    """(field, before, after) for each field an audit entry changed; every field for a creation."""
    before, after = entry.before or {}, entry.after or {}
    changed = []
    for name in after:
        if name.endswith("_label"):
            continue
        old, new = before.get(name), after.get(name)
        if entry.before is None or old != new:
            label = f"{name}_label"
            changed.append(
                (name, before.get(label, old) if entry.before else None, after.get(label, new) or new)
            )
    return changed


def map_recent_changes(*, limit: int = 20) -> QuerySet:
    from accounts.models import AuditEntry

    labels = [m._meta.label_lower for m in (LocationMap, SkuMap, TaxMap, TenderMap)]
    return AuditEntry.objects.filter(object_type__in=labels)[:limit]
