"""Suggested Fulfil records for an unmapped POS store or SKU, each with a score and its evidence.

Shared by the map pages and the exception workbench. Evidence, strongest first: the exact code, the
barcode, the SKU after normalising case, whitespace, separators and leading zeros, then a fuzzy match
of names (rapidfuzz, not hand-written). Scores run 0-100; only exact evidence reaches 100.
"""

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process, utils

from mappings.models import FulfilProduct, FulfilWarehouse

SCORE_EXACT_CODE = 100.0
SCORE_BARCODE = 98.0
SCORE_NORMALISED = 95.0
# Fuzzy name scores are scaled into 0-90 so they always rank below any code evidence.
FUZZY_CEILING = 90.0
FUZZY_FLOOR = 60.0  # below this a name match is noise, not a suggestion

_SEPARATORS = re.compile(r"[\s\-_./\\]+")
_LEADING_ZEROS = re.compile(r"(?<!\d)0+(?=\d)")


def normalise_sku(value: str) -> str:
    """`" abc-0012 "`, `"ABC_12"` and `"abc 0012"` all become `"ABC12"`.

    Leading zeros are dropped from every run of digits, because POS exports and spreadsheets drop or
    pad them inconsistently.
    """
    compact = _SEPARATORS.sub("", (value or "").strip().upper())
    return _LEADING_ZEROS.sub("", compact)


@dataclass
class Suggestion:
    target: object  # a FulfilWarehouse or FulfilProduct
    score: float
    evidence: list[str] = field(default_factory=list)

    @property
    def pk(self) -> int:
        return self.target.pk

    def as_dict(self) -> dict:
        return {
            "id": self.target.pk,
            "label": str(self.target),
            "score": self.score,
            "evidence": self.evidence,
        }


def _add(found: dict, target, score: float, evidence: str) -> None:
    current = found.get(target.pk)
    if current is None:
        found[target.pk] = Suggestion(target=target, score=score, evidence=[evidence])
        return
    current.evidence.append(evidence)
    current.score = max(current.score, score)


def _fuzzy_score(raw: float) -> float:
    return round(raw * FUZZY_CEILING / 100, 1)


def _ranked(found: dict, limit: int) -> list[Suggestion]:
    return sorted(found.values(), key=lambda s: (-s.score, str(s.target)))[:limit]


def suggest_warehouses(*, pos_location_name: str, pos_location_id: str, limit: int = 5) -> list[Suggestion]:
    """Fulfil warehouses that look like this POS store, best first."""
    warehouses = list(FulfilWarehouse.objects.filter(active=True))
    found: dict[int, Suggestion] = {}
    wanted_code = normalise_sku(pos_location_id)
    for warehouse in warehouses:
        if warehouse.code and pos_location_id and warehouse.code == pos_location_id.strip():
            _add(found, warehouse, SCORE_EXACT_CODE, f"code {warehouse.code} equals the POS location id")
        elif warehouse.code and wanted_code and normalise_sku(warehouse.code) == wanted_code:
            _add(found, warehouse, SCORE_NORMALISED, f"code {warehouse.code} matches the POS location id")
    if pos_location_name:
        choices = {w.pk: w.name for w in warehouses}
        matches = process.extract(
            pos_location_name, choices, scorer=fuzz.WRatio, processor=utils.default_process, limit=limit
        )
        by_pk = {w.pk: w for w in warehouses}
        for _name, raw, pk in matches:
            if raw >= FUZZY_FLOOR:
                _add(
                    found,
                    by_pk[pk],
                    _fuzzy_score(raw),
                    f"name similar to '{pos_location_name}' ({raw:.0f} %)",
                )
    return _ranked(found, limit)


class ProductIndex:
    """The active product catalog, loaded once; reuse one index to suggest for many SKUs."""

    def __init__(self, queryset=None):
        qs = queryset if queryset is not None else FulfilProduct.objects.filter(active=True)
        self.products = list(
            qs.only("id", "code", "name", "barcode", "normalized_code", "active", "fulfil_id")
        )
        self.by_code: dict[str, list[FulfilProduct]] = {}
        self.by_barcode: dict[str, list[FulfilProduct]] = {}
        self.by_normalised: dict[str, list[FulfilProduct]] = {}
        for product in self.products:
            self.by_code.setdefault(product.code, []).append(product)
            if product.barcode:
                self.by_barcode.setdefault(product.barcode, []).append(product)
            self.by_normalised.setdefault(normalise_sku(product.code), []).append(product)
        self.names = {p.pk: p.name for p in self.products}
        self.by_pk = {p.pk: p for p in self.products}


def suggest_products(
    *, sku: str, barcode: str = "", description: str = "", limit: int = 5, index: ProductIndex | None = None
) -> list[Suggestion]:
    """Fulfil products that look like this POS line, best first."""
    index = index or ProductIndex()
    found: dict[int, Suggestion] = {}
    sku = (sku or "").strip()
    for product in index.by_code.get(sku, []) if sku else []:
        _add(found, product, SCORE_EXACT_CODE, f"Fulfil code is exactly {sku}")
    for product in index.by_barcode.get(barcode.strip(), []) if barcode else []:
        _add(found, product, SCORE_BARCODE, f"barcode {barcode} matches")
    if barcode:  # some retailers key products by barcode in the SKU field, or the reverse
        for product in index.by_code.get(barcode.strip(), []):
            _add(found, product, SCORE_BARCODE, f"Fulfil code equals the barcode {barcode}")
    normalised = normalise_sku(sku)
    for product in index.by_normalised.get(normalised, []) if normalised else []:
        if product.code != sku:
            _add(found, product, SCORE_NORMALISED, f"code {product.code} equals {sku} once normalised")
    if description and index.names:
        for _name, raw, pk in process.extract(
            description, index.names, scorer=fuzz.WRatio, processor=utils.default_process, limit=limit
        ):
            if raw >= FUZZY_FLOOR:
                _add(
                    found,
                    index.by_pk[pk],
                    _fuzzy_score(raw),
                    f"name similar to '{description}' ({raw:.0f} %)",
                )
    return _ranked(found, limit)


# --- Pending suggestions for open "unmapped" problems -------------------------------------------


@dataclass
class PendingItem:
    """One open unmapped store or SKU, with its ranked suggestions."""

    group: object  # ExceptionGroup
    kind: str  # "location" or "sku"
    key: str
    label: str
    suggestions: list[Suggestion]

    @property
    def best(self) -> Suggestion | None:
        return self.suggestions[0] if self.suggestions else None

    @property
    def token(self) -> str:
        return f"{self.group.pk}:{self.best.pk}" if self.best else ""


def pending_suggestions(*, limit_groups: int = 100) -> list[PendingItem]:
    """Open unmapped-location and SKU-mismatch groups, biggest money first, with suggestions."""
    from exceptions.models import ExceptionGroup, ExceptionType
    from integration.models import PosTransactionLine

    groups = list(
        ExceptionGroup.objects.filter(
            status=ExceptionGroup.Status.OPEN,
            type__in=(ExceptionType.UNMAPPED_LOCATION, ExceptionType.SKU_MISMATCH),
            source__isnull=False,
        )
        .select_related("source")
        .order_by("-money_at_risk", "id")[:limit_groups]
    )
    sku_groups = [g for g in groups if g.type == ExceptionType.SKU_MISMATCH]
    line_info: dict = {}
    if sku_groups:
        for source_id, sku, barcode, description in PosTransactionLine.objects.filter(
            transaction__source_id__in={g.source_id for g in sku_groups},
            sku__in={g.subject for g in sku_groups},
        ).values_list("transaction__source_id", "sku", "barcode", "description")[:5000]:
            line_info.setdefault((source_id, sku), (barcode, description))
    index = ProductIndex() if sku_groups else None
    items = []
    for group in groups:
        if group.type == ExceptionType.UNMAPPED_LOCATION:
            name = group.context.get("pos_location_name") or (group.stores[0] if group.stores else "")
            found = suggest_warehouses(pos_location_name=name, pos_location_id=group.subject, limit=3)
            items.append(PendingItem(group, "location", group.subject, name or group.subject, found))
        else:
            barcode, description = line_info.get((group.source_id, group.subject), ("", ""))
            found = suggest_products(
                sku=group.subject, barcode=barcode, description=description, limit=3, index=index
            )
            items.append(PendingItem(group, "sku", group.subject, description or group.subject, found))
    return items
