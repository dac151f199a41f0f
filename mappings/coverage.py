"""Read-only figures for the coverage page: how much of what the tills sold is mapped."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Max, Q, Sum
from django.utils import timezone

from exceptions.models import ExceptionGroup, ExceptionType
from integration.models import PosTransaction, PosTransactionLine
from mappings.models import FulfilProduct, LocationMap, SkuMap, TaxMap, TenderMap

UNMAPPED_TYPES = (ExceptionType.UNMAPPED_LOCATION, ExceptionType.SKU_MISMATCH)


@dataclass
class Share:
    seen: int
    mapped: int

    @property
    def percent(self) -> float:
        return round(100 * self.mapped / self.seen, 1) if self.seen else 100.0


def _overlapping_window(qs, since: dt.date, until: dt.date):
    return qs.filter(Q(effective_from__isnull=True) | Q(effective_from__lte=until)).filter(
        Q(effective_to__isnull=True) | Q(effective_to__gte=since)
    )


def coverage_summary(*, days: int = 30, today: dt.date | None = None) -> dict:
    until = today or timezone.localdate()
    since = until - dt.timedelta(days=days)
    recent = PosTransaction.objects.filter(business_date__gte=since, business_date__lte=until)

    stores = list(
        recent.values("source_id", "source__code", "pos_location_id")
        .annotate(name=Max("pos_location_name"), last_seen=Max("business_date"), money=Sum("total"))
        .order_by("source__code", "pos_location_id")
    )
    mapped_stores = set(
        _overlapping_window(LocationMap.objects.all(), since, until).values_list(
            "source_id", "pos_location_id"
        )
    )
    stores_without_map = [s for s in stores if (s["source_id"], s["pos_location_id"]) not in mapped_stores]

    lines = (
        PosTransactionLine.objects.filter(transaction__in=recent, is_custom=False, is_gift_card=False)
        .values_list("transaction__source_id", "sku", "variant_ref", "barcode")
        .distinct()
    )
    sku_keys = set(
        _overlapping_window(SkuMap.objects.all(), since, until).values_list(
            "source_id", "key_type", "pos_key"
        )
    )
    line_list = list(lines)
    codes = {sku for _s, sku, _v, _b in line_list if sku}
    catalog_codes = set(FulfilProduct.objects.filter(code__in=codes).values_list("code", flat=True))
    seen_skus, mapped_skus = set(), set()
    for source_id, sku, variant, barcode in line_list:
        key = (source_id, sku or variant or barcode)
        seen_skus.add(key)
        if (
            (source_id, SkuMap.KeyType.SKU, sku) in sku_keys
            or (source_id, SkuMap.KeyType.VARIANT, variant) in sku_keys
            or (source_id, SkuMap.KeyType.BARCODE, barcode) in sku_keys
            or sku in catalog_codes
        ):
            mapped_skus.add(key)

    return {
        "since": since,
        "until": until,
        "locations": Share(seen=len(stores), mapped=len(stores) - len(stores_without_map)),
        "skus": Share(seen=len(seen_skus), mapped=len(mapped_skus)),
        "stores_without_map": stores_without_map,
        "top_unmapped": ExceptionGroup.objects.filter(
            status=ExceptionGroup.Status.OPEN, type__in=UNMAPPED_TYPES
        )
        .select_related("source")
        .order_by("-money_at_risk", "-open_count")[:20],
        "inactive_targets": inactive_targets(today=until),
    }


def inactive_targets(*, today: dt.date) -> list:
    """Maps in force today or later that point at a Fulfil record no longer active."""
    in_force = Q(effective_to__isnull=True) | Q(effective_to__gte=today)
    found = []
    for model, target in (
        (LocationMap, "warehouse"),
        (LocationMap, "channel"),
        (SkuMap, "product"),
        (TaxMap, "tax"),
        (TenderMap, "gateway"),
    ):
        found += list(
            model.objects.filter(in_force, **{f"{target}__active": False}).select_related("source", target)[
                :50
            ]
        )
    return found
